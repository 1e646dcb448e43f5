"""Filters for ``/okr list`` and lookups for ``/okr show``, over the read model."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain import KRState, ObjectiveView, TrafficLight
from app.models import Checkin, Cycle, KeyResult, Person, Team
from app.services.errors import InvalidValue

AT_RISK_WORDS = {"at-risk", "atrisk", "risk", "at_risk", "red", "off-track"}
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")


@dataclass
class ListFilter:
    people: set[str] = field(default_factory=set)  # Slack ids
    teams: set[str] = field(default_factory=set)  # team keys
    at_risk: bool = False
    cycle: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.people or self.teams or self.at_risk)

    def describe(self) -> str:
        parts = [f"<@{p}>" for p in sorted(self.people)] + sorted(self.teams)
        if self.at_risk:
            parts.append("at risk")
        return ", ".join(parts)


def parse_filter(*, session: Session, workspace_id: int, args: Sequence[str],
                 me: str) -> ListFilter:
    """``@user``, ``#channel``, a team name or key, ``at-risk``, a cycle name, ``me``.

    Words that are none of these raise InvalidValue naming the word.
    """
    f = ListFilter()
    words: list[str] = []
    for arg in args:
        low = arg.lower()
        if m := _MENTION.match(arg):
            f.people.add(m.group(1))
        elif m := _CHANNEL.match(arg):
            keys = set(session.scalars(select(Team.key).where(
                Team.workspace_id == workspace_id, Team.channel_id == m.group(1))))
            if not keys:
                raise InvalidValue(f"no team posts to {arg}", field="filter")
            f.teams |= keys
        elif low in AT_RISK_WORDS:
            f.at_risk = True
        elif low in ("me", "mine"):
            f.people.add(me)
        elif arg.startswith("@") and len(arg) > 1:
            f.people.add(_person_named(session, workspace_id, arg[1:]))
        else:
            words.append(arg)
    if words:
        _words(session, workspace_id, words, f)
    return f


def _person_named(session: Session, workspace_id: int, name: str) -> str:
    found = session.scalars(select(Person.slack_id).where(
        Person.workspace_id == workspace_id, func.lower(Person.name) == name.lower())).all()
    if len(found) != 1:
        raise InvalidValue(f"I don't know exactly one person called @{name}: mention them "
                           "so Slack fills in who you mean", field="filter")
    return found[0]


def _words(session: Session, workspace_id: int, words: list[str], f: ListFilter) -> None:
    teams = session.execute(select(Team.key, Team.name).where(
        Team.workspace_id == workspace_id)).all()
    cycles = set(session.scalars(select(Cycle.name).where(Cycle.workspace_id == workspace_id)))
    phrase = " ".join(words).lower()
    whole = [k for k, n in teams if phrase in (k.lower(), n.lower())]
    if whole:
        f.teams |= set(whole)
        return
    for word in words:
        low = word.lower()
        team = [k for k, n in teams if low in (k.lower(), n.lower())]
        cycle = [c for c in cycles if c.lower() == low]
        if team:
            f.teams |= set(team)
        elif cycle:
            f.cycle = cycle[0]
        else:
            raise InvalidValue(f"I don't know a team, person or cycle called “{word}”",
                               field="filter")


def is_at_risk(o: ObjectiveView) -> bool:
    risky = (TrafficLight.RED, TrafficLight.YELLOW)
    return o.status in risky or any(
        kr.status in risky and kr.state == KRState.ACTIVE for kr in o.key_results)


def apply(objectives: Sequence[ObjectiveView], f: ListFilter) -> list[ObjectiveView]:
    out = []
    for o in objectives:
        if f.teams and o.team_key not in f.teams:
            continue
        if f.people and o.owner_slack_id not in f.people and not any(
                kr.owner_slack_id in f.people for kr in o.key_results):
            continue
        if f.at_risk and not is_at_risk(o):
            continue
        out.append(o)
    return out


def search(objectives: Sequence[ObjectiveView], text: str) -> list[ObjectiveView]:
    """Objectives whose title, or one of whose KR titles, contains ``text``."""
    q = text.lower().strip()
    return [o for o in objectives
            if q in o.title.lower() or any(q in kr.title.lower() for kr in o.key_results)]


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    author_slack_id: str | None
    value: float | None
    score: float | None
    status: str | None
    note: str | None


def kr_history(*, session: Session, workspace_id: int, kr_key: str,
               limit: int = 10) -> list[HistoryEntry]:
    rows = session.execute(
        select(Checkin.at, Person.slack_id, Checkin.value, Checkin.score, Checkin.status,
               Checkin.note)
        .join(KeyResult, KeyResult.id == Checkin.kr_id)
        .outerjoin(Person, Person.id == Checkin.author_id)
        .where(Checkin.workspace_id == workspace_id, KeyResult.key == kr_key)
        .order_by(Checkin.at.desc(), Checkin.id.desc()).limit(limit)).all()
    return [HistoryEntry(*r) for r in rows]
