"""Every action_id, block_id and callback_id the app uses, in one place.

Handlers and builders import these names; nothing else spells an id as a string literal.
Add new ids to the section of the surface they belong to.
"""

from __future__ import annotations

from enum import StrEnum


class Id(StrEnum):
    def __str__(self) -> str:
        return str(self.value)


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
    CORRECT_CHECKIN = "okr_correct_checkin"
    TRACKER_ADD = "okr_tracker_add"
    # Settings in App Home: the organisation's (admins), a team's (leads), one's own.
    ORG_SETTINGS = "okr_org_settings"
    TEAM_SETTINGS = "okr_team_settings"
    MY_SETTINGS = "okr_my_settings"
    SETUP_TEAM = "okr_setup_team"


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
    NO_CHANGE = "okr_no_change"
    # End of cycle.
    OPEN_SELF_SCORE = "okr_open_self_score"
    OPEN_LEAD_REVIEW = "okr_open_lead_review"
    OPEN_REFLECT = "okr_open_reflect"
    # Slack app surfaces (check-in modal, Home, editing).
    OPEN_HOME_CHECKIN = "okr_home_checkin"
    EDIT_KR = "okr_edit_kr_button"
    EDIT_OBJECTIVE = "okr_edit_objective_button"
    ADD_KR = "okr_add_kr"
    # Correcting a check-in (the checked-in summary and Home): f"{id}:{checkin id}".
    EDIT_CHECKIN = "okr_edit_checkin"
    UNDO_CHECKIN = "okr_undo_checkin"
    # Settings buttons in App Home (the team's key is the button's value).
    OPEN_ORG_SETTINGS = "okr_open_org_settings"
    OPEN_TEAM_SETTINGS = "okr_open_team_settings"
    OPEN_MY_SETTINGS = "okr_open_my_settings"
    # First-run setup in App Home (blocks/home_setup.py).
    SETUP_CYCLE = "okr_setup_cycle"
    SETUP_NEW_TEAM = "okr_setup_new_team"
    SETUP_TEST_PROMPT = "okr_setup_test_prompt"


class Block(Id):
    """Block ids (and, inside a view, the matching action ids).

    Per-KR inputs of the check-in modal are ``f"{prefix}:{kr_key}"`` with these prefixes, so a
    submission names its key results in ``view.state.values`` (see blocks/checkin.py).
    """

    CHECKIN_VALUE = "ci_value"
    CHECKIN_STATUS = "ci_status"
    CHECKIN_CONFIDENCE = "ci_conf"
    CHECKIN_NOTE = "ci_note"
    CHECKIN_BLOCKERS = "ci_blockers"
    CHECKIN_NO_CHANGE = "ci_same"
    CHECKIN_KR = "ci_kr"
    # The DM prompt after "No change": the Check in button for KRs it could not repeat.
    NO_CHANGE_REST = "okr_no_change_rest"
    # The checked-in summary: f"{prefix}:{checkin id}" on each line and its buttons.
    CHECKIN_DONE = "ci_done"
    CHECKIN_FIX = "ci_fix"
    # Objective / KR editing modals.
    OBJ_TITLE = "obj_title"
    OBJ_TEAM = "obj_team"
    OBJ_OWNER = "obj_owner"
    OBJ_ALIGN = "obj_align"
    OBJ_VISIBILITY = "obj_visibility"
    OBJ_COMMITMENT = "obj_commitment"
    OBJ_CYCLE = "obj_cycle"
    KR_TITLE = "kr_title"
    KR_TYPE = "kr_type"
    KR_START = "kr_start"
    KR_TARGET = "kr_target"
    KR_UNIT = "kr_unit"
    KR_WEIGHT = "kr_weight"
    KR_OWNER = "kr_owner"
    KR_STATE = "kr_state"
    KR_DUE = "kr_due"
    KR_TARGETS = "kr_targets"
    KR_REASON = "kr_reason"
    KR_QUERY = "kr_query"
    AWAY_UNTIL = "away_until"
    # Settings modals; schedules are f"{prefix}_{cadence|day|time}" (see blocks/settings.py).
    SET_NAME = "set_name"
    SET_TZ = "set_tz"
    SET_FY_START = "set_fy_start"
    SET_TIMELINE = "set_timeline"
    SET_HOLIDAYS = "set_holidays"
    SET_ADMINS = "set_admins"
    SET_CHECKIN = "set_checkin"
    SET_DIGEST = "set_digest"
    SET_CHANNEL = "set_channel"
    SET_MEMBERS_KIND = "set_members_kind"
    SET_MEMBERS_CHANNEL = "set_members_channel"
    SET_MEMBERS_GROUP = "set_members_group"
    SET_AWAY = "set_away"
    SET_AWAY_FROM = "set_away_from"
    SET_WORK_DAYS = "set_work_days"
    SET_WORK_HOURS = "set_work_hours"
    SET_HOLIDAY_CALENDAR = "set_holiday_calendar"
    SET_NUDGES = "set_nudges"
    # The tracker connection modal (admins).
    TRACKER_PROVIDER = "tr_provider"
    TRACKER_HOST = "tr_host"
    TRACKER_TOKEN = "tr_token"
    TRACKER_API_URL = "tr_api_url"
    TRACKER_ACCOUNT = "tr_account"
    TRACKER_CANCELED = "tr_canceled"
    # End of cycle: per-KR inputs are f"{prefix}:{kr_key}" like the check-in modal's.
    REVIEW_KR = "rv_kr"
    REVIEW_SELF = "rv_self"
    REVIEW_EVIDENCE = "rv_evidence"
    REVIEW_FINAL = "rv_final"
    REVIEW_REASON = "rv_reason"
    REFLECT_OBJECTIVE = "rf_objective"
    REFLECT_WORKED = "rf_worked"
    REFLECT_DID_NOT = "rf_did_not"
    REFLECT_CARRY = "rf_carry"
    # First-run setup: the new team modal.
    SETUP_TEAM_NAME = "st_team_name"
    SETUP_TEAM_CHANNEL = "st_team_channel"
    SETUP_TEAM_GROUP = "st_team_group"
