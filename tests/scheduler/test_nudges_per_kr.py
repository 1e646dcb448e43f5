"""Nudges per KR: a nudge lists the KRs still not updated since the prompt, a check-in on one
KR does not silence the others, only all of them do; the weekly cap and exactly-once hold
(real ticks against the fake Slack, both databases)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.services.scheduling import skips
from blocks.ids import Action
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import ORG, Clock, make_settings, posts, seed
from tests.scheduler.test_delivery import ADA_DUE
from tests.scheduler.test_followups import checkin
from tests.scheduler.test_tick import rows

# Ada owns three KRs (the shared org gives her one).
THREE = ORG.replace(
    "      - {id: kr-rev, title: Revenue from 100 to 200, owner: U0ADA, start: 100, target: 200}\n",
    "      - {id: kr-rev, title: Revenue from 100 to 200, owner: U0ADA, start: 100, target: 200}\n"
    "      - {id: kr-nrr, title: Net revenue retention to 110, owner: U0ADA, start: 95,"
    " target: 110}\n"
    "      - {id: kr-logos, title: Signed logos from 10 to 30, owner: U0ADA, start: 10,"
    " target: 30}\n")
NUDGE_AT = "2026-03-03T09:30:00+00:00"  # 24 h after Ada's Monday prompt, and a bit


@pytest.fixture()
def clock(session_factory: sessionmaker[Session], fake_slack: FakeSlack) -> Clock:
    assert THREE != ORG
    seed(session_factory, THREE)
    return Clock(session_factory, make_settings(fake_slack))


def _listed(message: dict[str, Any]) -> str:
    return " ".join(b["text"]["text"] for b in message["blocks"] if b["type"] == "section")


def _checkin_button(message: dict[str, Any]) -> dict[str, Any]:
    value = next(e["value"] for b in message["blocks"] if b["type"] == "actions"
                 for e in b["elements"] if e["action_id"] == Action.OPEN_CHECKIN.value)
    return dict(json.loads(value))


def test_a_checkin_on_one_kr_leaves_the_others_nudged(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    checkin(session_factory, "kr-logos", "2026-03-01T10:00:00+00:00", value=12)  # before: stale
    clock.tick(ADA_DUE)
    checkin(session_factory, "kr-rev", "2026-03-02T11:00:00+00:00")
    clock.tick(NUDGE_AT)
    clock.tick(NUDGE_AT)  # again: exactly once
    (nudge,) = rows(session_factory, kind="nudge", target="U0ADA")
    assert (nudge.state, nudge.occurrence) == ("sent", "2026-03-02#nudge1")
    prompt, sent = posts(fake_slack, "U0ADA")
    assert "Revenue from 100" in _listed(prompt)
    listed = _listed(sent)
    assert "gentle reminder" in sent["text"] and "2 key results" in sent["text"]
    assert "Net revenue retention" in listed and "Signed logos" in listed
    assert "Revenue from 100" not in listed
    assert "1 key result already updated since the prompt" in str(sent["blocks"])
    assert _checkin_button(sent) == {"d": nudge.id, "k": ["kr-nrr", "kr-logos"]}


def test_skipped_only_when_every_kr_is_updated(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    clock.tick(ADA_DUE)
    for key in ("kr-rev", "kr-nrr", "kr-logos"):
        checkin(session_factory, key, "2026-03-02T15:00:00+00:00", value=120)
    clock.tick(NUDGE_AT)
    assert [(r.state, r.error) for r in rows(session_factory, kind="nudge", target="U0ADA")] \
        in ([], [("skipped", skips.ALREADY_CHECKED_IN)])
    assert len(posts(fake_slack, "U0ADA")) == 1


def test_the_weekly_cap_holds_with_partial_checkins(
        session_factory: sessionmaker[Session], fake_slack: FakeSlack) -> None:
    seed(session_factory, THREE)
    clock = Clock(session_factory, make_settings(fake_slack, OKR_NUDGE_AFTER_DAYS="1,2,3",
                                                 OKR_MAX_DMS_PER_WEEK=2))
    clock.tick(ADA_DUE)
    checkin(session_factory, "kr-rev", "2026-03-02T09:30:00+00:00", value=120)
    for day in (3, 4, 5, 6):
        clock.tick(f"2026-03-0{day}T09:05:00+00:00")
    nudges = rows(session_factory, kind="nudge", target="U0ADA")
    assert [(n.occurrence, n.state, (n.payload or {})["step"]) for n in nudges] == [
        ("2026-03-02#nudge1", "sent", 1), ("2026-03-02#nudge2", "sent", 2)]
    texts = [_listed(p) for p in posts(fake_slack, "U0ADA")[1:]]
    assert len(texts) == 2 and all("Revenue from 100" not in t for t in texts)
    assert all("Net revenue retention" in t for t in texts)
