"""A report brought up to date after check-ins is the report a full re-score gives.

The report cache keeps the rows each report was built from; a check-in form tells it which
KRs it changed, and the next read re-reads only those KRs (see app/services/okrs/rescore.py).
Whatever happens in between (check-ins on any KRs, with any values, edits the cache was not
told about, check-ins through other writers), the report it gives is the one
``report.cycle_report`` reads and scores from scratch.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import ScoringSettings
from app.config import Settings as AppSettings
from app.domain import CheckinAnswer, CheckinSource, KRType
from app.models import Cycle, KeyResult, Person, Workspace
from app.services.checkins import forms
from app.services.checkins import record as checkins
from app.services.okrs import mine, report
from app.services.okrs.cache import KRWrite, ReportCache, data_stamp, krs_moved
from app.services.tenancy.actors import Actor
from tests.dbutil import recorded_statements
from tests.services.helpers import RUNNING_ORG, run_import

# RUNNING_ORG and an objective rolled up through a children KR (o7 is aligned to o6/k9).
ORG = RUNNING_ORG + """\
  - id: o6
    owner: U0ANA
    title: Roll up
    key_results:
      - {id: k9, title: What o7 makes, owner: U0ANA, type: children}
  - id: o7
    owner: U0BEN
    title: Under a KR
    aligned_to: o6/k9
    key_results:
      - {id: k10, title: Count to 4, owner: U0BEN, type: increase, start: 0, target: 4}
      - {id: k11, title: Ship it, owner: U0BEN, type: milestone}
"""
KR_KEYS = ["k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10", "k11"]
SCORING = ScoringSettings()

pytestmark = pytest.mark.parametrize("db_engine", ["postgresql"], indirect=True)


def _answer(kr_type: KRType, key: str, draw: st.DrawFn) -> CheckinAnswer:
    """An answer as the modal sends it, valid for the KR's type."""
    base = CheckinAnswer(
        key, status=draw(st.sampled_from(["green", "yellow", "red"])),
        note=draw(st.one_of(st.none(), st.sampled_from(["on track", "a <b>note</b>"]))),
        confidence=draw(st.one_of(st.none(), st.sampled_from(["low", "medium", "high"]))),
        blockers=draw(st.one_of(st.none(), st.just("waiting on ops"))))
    if kr_type == KRType.MILESTONE:
        return replace(base, milestone_done=draw(st.booleans()))
    if kr_type in (KRType.ISSUES, KRType.CHILDREN):
        return base  # they move by themselves: status and words only
    number = {KRType.MANUAL: st.floats(0, 1), KRType.PERCENT: st.floats(0, 100)}.get(
        kr_type, st.floats(-50, 150))
    return replace(base, value_text=repr(draw(number)))


STEP = st.one_of(
    st.tuples(st.just("form"), st.lists(st.sampled_from(KR_KEYS), min_size=1, max_size=4,
                                        unique=True), st.data()),
    st.tuples(st.just("title"), st.sampled_from(KR_KEYS), st.none()),
    st.tuples(st.just("single"), st.sampled_from(KR_KEYS), st.none()),
)


class _Org:
    def __init__(self, session: Session, now: datetime) -> None:
        run_import(session, ORG, now)
        session.commit()
        self.session = session
        self.ws = session.scalars(select(Workspace)).one()
        self.cycle = session.scalars(select(Cycle)).one()
        ana = session.scalars(select(Person).where(Person.slack_id == "U0ANA")).one()
        self.admin = Actor.of(ana, AppSettings(_env_file=None, OKR_ADMINS="U0ANA"))
        self.krs = {kr.key: kr for kr in session.scalars(select(KeyResult))}
        self.cache = ReportCache()
        self.forms = 0

    def cached(self, now: datetime) -> report.CycleReport | None:
        return mine.current_report(session=self.session, workspace_id=self.ws.id, now=now,
                                   settings=SCORING, cache=self.cache)

    def full(self, now: datetime) -> report.CycleReport:
        return report.cycle_report(session=self.session, workspace_id=self.ws.id,
                                   cycle=self.cycle, today=now.date(), now=now,
                                   settings=SCORING)

    def form(self, keys: list[str], data: st.DataObject, now: datetime) -> KRWrite | None:
        answers = [_answer(KRType(self.krs[k].kr_type), k, data.draw) for k in keys]
        self.forms += 1
        out = forms.submit(session=self.session, workspace_id=self.ws.id, actor=self.admin,
                           actor_label="test", answers=answers, now=now,
                           key_prefix=f"form-{self.forms}", track=True)
        assert out.ok, out.errors
        self.session.commit()
        (change,) = out.changes
        self.cache.note_write(self.ws.id, change)
        return change


@given(steps=st.lists(STEP, min_size=1, max_size=6))
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
def test_a_patched_report_is_the_full_re_score(session: Session, now: datetime,
                                               steps: list[tuple[str, object, object]]) -> None:
    if "org" not in session.info:
        session.info["org"] = _Org(session, now)
        session.info["clock"] = 0
    org: _Org = session.info["org"]
    assert org.cached(now) is not None  # a report in the cache to bring up to date
    for kind, what, data in steps:
        session.info["clock"] += 1
        at = now + timedelta(seconds=session.info["clock"])
        patched_before = org.cache.patched
        if kind == "form":
            assert isinstance(what, list) and isinstance(data, st.DataObject)
            change = org.form(what, data, at)
            assert change is not None and {org.krs[k].id for k in what} == change.kr_ids
            assert org.cached(at) == org.full(at)
            assert org.cache.patched == patched_before + 1  # brought up to date, not rebuilt
        elif kind == "title":  # a change the cache is not told about
            org.krs[str(what)].title += "!"
            session.commit()
            assert org.cached(at) == org.full(at)
            assert org.cache.patched == patched_before
        else:  # a check-in through the ORM writer (one at a time): not told either
            kr = org.krs[str(what)]
            kr_type = KRType(kr.kr_type)
            value = 1.0 if kr_type == KRType.MILESTONE else 3.0 if kr_type.takes_value else None
            data = CheckinAnswer(kr.key, status="yellow", note="by hand", value=value,
                                 score=0.5 if kr_type == KRType.MANUAL else None)
            checkins.record(session=session, workspace_id=org.ws.id, kr=kr, data=data,
                            author_id=None, actor_label="cli", source=CheckinSource.CLI,
                            now=at)
            session.commit()
            assert org.cached(at) == org.full(at)
            assert org.cache.patched == patched_before


def test_the_written_change_is_exactly_the_stamps(session: Session, now: datetime) -> None:
    org = _Org(session, now)
    before = data_stamp(session, org.ws.id)
    answers = [CheckinAnswer("k1", value_text="7", status="green"),
               CheckinAnswer("k4", value_text="55", status="red")]
    out = forms.submit(session=session, workspace_id=org.ws.id, actor=org.admin,
                       actor_label="test", answers=answers, now=now, key_prefix="f",
                       track=True)
    session.commit()
    after = data_stamp(session, org.ws.id)
    assert before is not None and after is not None and before != after
    (change,) = out.changes
    assert change is not None
    assert krs_moved(before, after, [change]) == {org.krs["k1"].id, org.krs["k4"].id}
    # Another change on top, not noted: the stamp no longer moved by the noted ones alone.
    org.krs["k2"].title = "Renamed"
    session.commit()
    later = data_stamp(session, org.ws.id)
    assert later is not None and krs_moved(before, later, [change]) is None


def test_after_a_check_in_the_report_costs_two_statements(session: Session,
                                                          now: datetime) -> None:
    """The stamp, then the changed KRs with their latest check-ins: the time zone, cycles
    and teams kept beside the report were not changed by a check-in, so they are not read."""
    org = _Org(session, now)
    scope = mine.Scope(org.admin.id, "U0BEN", False)
    mine.seen_report(session=session, workspace_id=org.ws.id, now=now, settings=SCORING,
                     scope=scope, cache=org.cache)
    answers = [CheckinAnswer("k1", value_text="8", status="green")]
    out = forms.submit(session=session, workspace_id=org.ws.id, actor=org.admin,
                       actor_label="test", answers=answers, now=now, key_prefix="f",
                       track=True)
    session.commit()
    org.cache.note_write(org.ws.id, out.changes[0])
    with recorded_statements(session.get_bind()) as seen:
        seen_report = mine.seen_report(session=session, workspace_id=org.ws.id, now=now,
                                       settings=SCORING, scope=scope, cache=org.cache)
    queries = [q for q in seen if not q.startswith(("SAVEPOINT", "RELEASE"))]  # the test's
    assert seen_report is not None and len(queries) == 2, queries
    kr = seen_report.report.key_result("k1")
    assert kr is not None and kr.current == 8.0 and kr.last_checkin_at == now


def test_a_back_dated_check_in_drops_the_workspaces_reports(session: Session,
                                                            now: datetime) -> None:
    """A check-in older than the KR's last one joins the history without moving the KR:
    the stamp cannot show it, so the writer says so and the cache lets the reports go."""
    org = _Org(session, now)
    first = forms.submit(session=session, workspace_id=org.ws.id, actor=org.admin,
                         actor_label="test", now=now, key_prefix="a", track=True,
                         answers=[CheckinAnswer("k1", value_text="8", status="green")])
    session.commit()
    org.cache.note_write(org.ws.id, first.changes[0])
    cached = org.cached(now)
    late = forms.submit(session=session, workspace_id=org.ws.id, actor=org.admin,
                        actor_label="test", now=now - timedelta(days=1), key_prefix="b",
                        track=True,
                        answers=[CheckinAnswer("k1", value_text="6", status="red",
                                               note="earlier")])
    session.commit()
    assert late.changes == [None]
    org.cache.note_write(org.ws.id, None)
    fresh = org.cached(now)
    assert fresh is not cached and fresh == org.full(now)


def test_the_next_hour_and_day_score_the_kept_rows(session: Session, now: datetime) -> None:
    """Reports are kept by the hour (staleness moves with the clock), the rows they were
    built from are not dated: a later hour or day scores them again without reading the
    cycle, and gets what a full read gives then."""
    org = _Org(session, now)
    org.cached(now)
    for later in (now + timedelta(hours=1, minutes=30), now + timedelta(days=3)):
        misses, patched = org.cache.misses, org.cache.patched
        assert org.cached(later) == org.full(later)
        assert (org.cache.misses, org.cache.patched) == (misses, patched + 1)
    # A check-in in between is picked up too.
    out = forms.submit(session=session, workspace_id=org.ws.id, actor=org.admin,
                       actor_label="test", now=now + timedelta(days=3, hours=2),
                       key_prefix="c", track=True,
                       answers=[CheckinAnswer("k4", value_text="90", status="green")])
    session.commit()
    org.cache.note_write(org.ws.id, out.changes[0])
    at = now + timedelta(days=4)
    assert org.cached(at) == org.full(at)
