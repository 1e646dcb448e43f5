"""Every action_id, block_id and callback_id the app uses, in one place.

Handlers and builders import these names; nothing else spells an id as a string literal.
Add new ids to the section of the surface they belong to.
"""

from __future__ import annotations

from enum import Enum


class Id(str, Enum):
    def __str__(self) -> str:
        return self.value


class Callback(Id):
    """View callback ids."""

    CHECKIN = "okr_checkin"
    NEW_OBJECTIVE = "okr_new_objective"
    EDIT_KR = "okr_edit_kr"
    EDIT_OBJECTIVE = "okr_edit_objective"
    AWAY = "okr_away"
    SELF_SCORE = "okr_self_score"
    LEAD_REVIEW = "okr_lead_review"
    REFLECT = "okr_reflect"


class Action(Id):
    """Button / select action ids."""

    OPEN_CHECKIN = "okr_open_checkin"
    NEW_OBJECTIVE = "okr_new_objective"
    GO_AWAY = "okr_go_away"
    COME_BACK = "okr_come_back"
    ALIGN_SELECT = "okr_align_select"
    # DM prompt buttons (scheduler).
    SNOOZE_2H = "okr_snooze_2h"
    SNOOZE_TOMORROW = "okr_snooze_tomorrow"
    SKIP_WEEK = "okr_skip_week"
    # End of cycle.
    OPEN_SELF_SCORE = "okr_open_self_score"
    OPEN_LEAD_REVIEW = "okr_open_lead_review"
    OPEN_REFLECT = "okr_open_reflect"
