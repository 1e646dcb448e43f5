"""Cycles: which one is current, and where it stands."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import CyclePhase, CycleView, CycleWindow
from app.models import Cycle, Workspace
from app.services.errors import NotFound


def org_today(ws: Workspace, now: datetime) -> date:
    return zone_today(ws.timezone, now)


def zone_today(timezone: str | None, now: datetime) -> date:
    return now.astimezone(ZoneInfo(timezone or "UTC")).date()


def window(cycle: Cycle) -> CycleWindow:
    return CycleWindow(name=cycle.name, start=cycle.start_date, end=cycle.end_date)


def by_name(*, session: Session, workspace_id: int, name: str) -> Cycle:
    cycle = session.scalars(
        select(Cycle).where(Cycle.workspace_id == workspace_id, Cycle.name == name)
    ).first()
    if cycle is None:
        raise NotFound(f"no cycle named {name!r}")
    return cycle


def current(*, session: Session, workspace_id: int, today: date) -> Cycle | None:
    """The cycle containing today; else the next one to start; else the last one that ended."""
    cycles = session.scalars(
        select(Cycle).where(Cycle.workspace_id == workspace_id).order_by(Cycle.start_date)
    ).all()
    return pick_current(cycles, today)


class Dated(Protocol):
    @property
    def start_date(self) -> date: ...

    @property
    def end_date(self) -> date: ...


D = TypeVar("D", bound=Dated)


def pick_current(cycles: Sequence[D], today: date) -> D | None:
    """:func:`current` among ``cycles`` (ordered by start date)."""
    containing = [c for c in cycles if c.start_date <= today <= c.end_date]
    if containing:
        return containing[-1]
    upcoming = [c for c in cycles if c.start_date > today]
    if upcoming:
        return upcoming[0]
    return cycles[-1] if cycles else None


def named_or_current(*, session: Session, workspace_id: int, today: date,
                     name: str | None) -> Cycle | None:
    """The named cycle (NotFound when there is none by that name), else :func:`current`."""
    if name is not None:
        return by_name(session=session, workspace_id=workspace_id, name=name)
    return current(session=session, workspace_id=workspace_id, today=today)


def view(cycle: Cycle, today: date) -> CycleView:
    total = (cycle.end_date - cycle.start_date).days + 1
    day = min(max((today - cycle.start_date).days + 1, 0), total)
    return CycleView(
        name=cycle.name, start=cycle.start_date, end=cycle.end_date,
        phase=CyclePhase(cycle.phase), day=day, total_days=total,
        expected=day / total if total else 0.0,
    )
