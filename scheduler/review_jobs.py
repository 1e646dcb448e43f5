"""End-of-cycle deliveries: scoring DMs (``review_reminder``) and team retrospectives
(``retro``). What is due and what to say come from ``app.services.review.reminders``; this
module turns them into the tick's rows and the sender's messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.config import Settings
from app.domain import Due
from app.models import Cycle, Delivery, Workspace
from app.services.review import reminders
from blocks import review as ui
from blocks.review_text import retro_text
from blocks.words import first_name

KINDS = reminders.KINDS


def due(session: Session, ws: Workspace, now: datetime, settings: Settings | None = None,
        cycles: Sequence[Cycle] | None = None) -> list[Due]:
    """What is due now; with ``settings``, cycles past their end first enter review.
    ``cycles``: the workspace's, when the tick has read them (fewer queries)."""
    return reminders.due(session=session, ws=ws, now=now,
                         settings=settings.scoring if settings else None, known=cycles)


def messages(session: Session, ws: Workspace, row: Delivery, settings: Settings,
             now: datetime) -> tuple[list[dict[str, Any]], str | None]:
    """``(messages, skip reason)`` for one of :data:`KINDS`."""
    if row.kind == reminders.REMINDER:
        facts = reminders.reminder_facts(session=session, ws=ws, row=row)
        if isinstance(facts, str):
            return [], facts
        return [ui.review_dm(first_name=first_name(facts.name), cycle_name=facts.cycle_name,
                             deadline=facts.deadline, self_count=facts.self_count,
                             final_count=facts.final_count, reminder=facts.reminder)], None
    found = reminders.retro_for(session=session, ws=ws, row=row, settings=settings,
                                       now=now)
    if isinstance(found, str):
        return [], found
    return [ui.retro_message(retro_text(found, markup="mrkdwn"),
                             cycle_name=found.cycle_name)], None
