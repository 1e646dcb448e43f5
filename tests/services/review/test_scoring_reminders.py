"""When scoring reminders and retrospectives are due (the scheduler inserts what this says)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.domain import Due
from app.models import Delivery
from app.services.review import reminders as rr
from app.services.review import scores as reviews
from app.services.review.scores import ScoreInput
from tests.services.review.factory import REVIEW_DAY, REVIEW_NOW, SETTINGS, Org, build_org

# Opened Saturday 2 May 2026 at 11:00 Berlin; the deadline is a week later on a working day,
# Monday 11 May (9 May is a Saturday). Scoring DMs go on working days within working hours.


@pytest.fixture()
def org(session: Session) -> Org:
    o = build_org(session)
    reviews.open_review(session=session, workspace_id=o.id, cycle=o.cycles["FY27-Q1"],
                        today=REVIEW_DAY, now=REVIEW_NOW, settings=SETTINGS, actor_id=None,
                        actor_label="cli")
    return o


def _due(session: Session, org: Org, at: datetime) -> dict[str, Due]:
    return {d.target: d for d in rr.due(session=session, ws=org.ws, now=at)
            if d.kind == rr.REMINDER}


def test_first_reminder_goes_at_once_then_daily_at_ten_local(session: Session,
                                                            org: Org) -> None:
    # Opened on a Saturday: nothing at the weekend, the request comes on Monday at 10:00.
    assert _due(session, org, REVIEW_NOW) == {}
    assert _due(session, org, datetime(2026, 5, 3, 12, 0, tzinfo=UTC)) == {}
    assert _due(session, org, datetime(2026, 5, 4, 7, 59, tzinfo=UTC)) == {}
    first = _due(session, org, datetime(2026, 5, 4, 8, 0, tzinfo=UTC))
    assert set(first) == {"U0ADA", "U0BOB", "U0CY", "U0DEE"}
    assert first["U0BOB"].occurrence == "2026-05-04"
    assert first["U0BOB"].due_at == datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    assert first["U0BOB"].payload == {"cycle": "FY27-Q1"}
    # Next morning: nothing before 10:00 Berlin (08:00 UTC), then one per person.
    assert _due(session, org, datetime(2026, 5, 5, 7, 59, tzinfo=UTC)) == {}
    later = _due(session, org, datetime(2026, 5, 5, 8, 0, tzinfo=UTC))
    assert later["U0BOB"].occurrence == "2026-05-05"


def test_review_opened_on_a_working_day_asks_at_once(session: Session) -> None:
    o = build_org(session)
    opened = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)  # Monday 11:00 in Berlin
    reviews.open_review(session=session, workspace_id=o.id, cycle=o.cycles["FY27-Q1"],
                        today=opened.date(), now=opened, settings=SETTINGS, actor_id=None,
                        actor_label="cli")
    first = _due(session, o, opened)
    assert first["U0BOB"].occurrence == "2026-05-04" and first["U0BOB"].due_at == opened


def test_reminders_stop_for_those_who_scored_and_after_the_deadline(session: Session,
                                                                    org: Org) -> None:
    reviews.submit_self_scores(session=session, workspace_id=org.id,
                               cycle=org.cycles["FY27-Q1"], person=org.people["bob"],
                               entries=[ScoreInput("ttv", 0.8)], now=REVIEW_NOW)
    assert "U0BOB" not in _due(session, org, datetime(2026, 5, 4, 9, tzinfo=UTC))
    assert _due(session, org, datetime(2026, 5, 11, 16, tzinfo=UTC))  # the deadline day
    assert _due(session, org, datetime(2026, 5, 12, 9, tzinfo=UTC)) == {}


def test_reminder_facts_at_send_time(session: Session, org: Org) -> None:
    cycle = org.cycles["FY27-Q1"]
    row = Delivery(workspace_id=org.id, kind=rr.REMINDER, target="U0CY",
                   occurrence="2026-05-02", due_at=REVIEW_NOW,
                   person_id=org.people["cy"].id, cycle_id=cycle.id, created_at=REVIEW_NOW)
    facts = rr.reminder_facts(session=session, ws=org.ws, row=row)
    assert isinstance(facts, rr.ReminderFacts)
    assert (facts.self_count, facts.final_count, facts.reminder) == (2, 0, False)
    row.occurrence = "2026-05-04"  # opened on a Saturday: Monday's DM is the request itself
    facts = rr.reminder_facts(session=session, ws=org.ws, row=row)
    assert isinstance(facts, rr.ReminderFacts) and not facts.reminder
    row.occurrence = "2026-05-05"
    facts = rr.reminder_facts(session=session, ws=org.ws, row=row)
    assert isinstance(facts, rr.ReminderFacts) and facts.reminder
    reviews.submit_self_scores(session=session, workspace_id=org.id, cycle=cycle,
                               person=org.people["cy"],
                               entries=[ScoreInput("bugs", 0.6), ScoreInput("secret-kr", 0.5)],
                               now=REVIEW_NOW)
    assert rr.reminder_facts(session=session, ws=org.ws, row=row) == "scored already"


def test_retro_is_due_per_team_channel_once_the_cycle_is_closed(session: Session,
                                                                org: Org) -> None:
    cycle = org.cycles["FY27-Q1"]
    assert [d for d in rr.due(session=session, ws=org.ws, now=REVIEW_NOW)
            if d.kind == rr.RETRO] == []
    reviews.close_cycle(session=session, workspace_id=org.id, cycle=cycle, today=REVIEW_DAY,
                        now=REVIEW_NOW, settings=SETTINGS, actor_id=None, actor_label="cli")
    retro = [d for d in rr.due(session=session, ws=org.ws, now=REVIEW_NOW)
             if d.kind == rr.RETRO]
    assert sorted((d.target, d.occurrence) for d in retro) == [
        ("C0ALL", "FY27-Q1:company"), ("C0ENG", "FY27-Q1:eng")]
    eng = next(d for d in retro if d.target == "C0ENG")
    row = Delivery(workspace_id=org.id, kind=rr.RETRO, target="C0ENG",
                   occurrence=eng.occurrence, due_at=REVIEW_NOW, team_id=eng.team_id,
                   cycle_id=cycle.id, created_at=REVIEW_NOW)
    found = rr.retro_for(session=session, ws=org.ws, row=row,
                         settings=Settings(_env_file=None),
                         now=REVIEW_NOW)
    assert not isinstance(found, str)
    assert found.scope == "Engineering" and found.numbers.kr_count == 3  # private left out
    # FY26-Q4 was closed without a review round: no retrospective for it.
    assert all(d.cycle_id == cycle.id for d in retro)


def test_timeline_opens_scoring_the_day_after_the_cycle_ends(session: Session) -> None:
    org = build_org(session)
    cycle = org.cycles["FY27-Q1"]
    scoring_settings = Settings(_env_file=None).scoring
    last_day = datetime(2026, 4, 30, 20, tzinfo=UTC)
    # No planning timeline: nothing opens by itself.
    assert rr.auto_open(session=session, ws=org.ws, now=last_day + timedelta(days=1),
                        settings=scoring_settings) == []
    org.ws.timeline_preset = "gitlab-product"
    assert rr.auto_open(session=session, ws=org.ws, now=last_day, settings=scoring_settings) == []
    items = rr.due(session=session, ws=org.ws, now=datetime(2026, 5, 1, 8, tzinfo=UTC),
                   settings=scoring_settings)
    assert cycle.phase == "review"
    rnd = reviews.review_round(session=session, workspace_id=org.id, cycle=cycle)
    assert rnd is not None and rnd.deadline.isoformat() == "2026-05-08"
    assert {i.target for i in items if i.kind == rr.REMINDER} == {"U0ADA", "U0BOB", "U0CY",
                                                                  "U0DEE"}
    # Once open, it is not opened again; a cycle that ended long ago is left alone.
    assert rr.auto_open(session=session, ws=org.ws, now=datetime(2026, 5, 2, tzinfo=UTC),
                        settings=scoring_settings) == []
