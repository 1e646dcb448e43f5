"""The CLI refuses writes on a closed cycle with the reason, and ``okr cycle reopen`` (both
databases)."""

from __future__ import annotations

from datetime import datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.bootstrap import Container
from app.cli import main
from app.commands.context import Obj
from app.models import AuditEntry, Checkin, Cycle, IssueLink, KeyResult, KRRevision
from tests.fixtures.web import Org, seed

ISSUE = "https://gitlab.com/acme/web/-/issues/12"


@pytest.fixture()
def org(session: Session, now: datetime) -> Org:
    org = seed(session, now)
    session.get_one(Cycle, org.objective.cycle_id).phase = "closed"
    session.commit()
    return org


def run(container: Container, *args: str) -> tuple[int, str]:
    obj = Obj()
    obj._container = container
    result = CliRunner().invoke(main, ["--log-level", "WARNING", *args], obj=obj)
    return result.exit_code, result.output


def _stored(session: Session, ws: int) -> list[int]:
    return [session.scalar(select(func.count()).select_from(m).where(m.workspace_id == ws)) or 0
            for m in (Checkin, IssueLink, KRRevision)]


def test_writes_on_a_closed_cycle_fail_with_the_reason(container: Container, session: Session,
                                                       org: Org) -> None:
    ttfv, bugs = org.krs["ttfv"].key, org.krs["bugs"].key
    for args in (["checkin", ttfv, "--value", "9"],
                 ["checkin", bugs, "--status", "yellow", "--note", "late"],
                 ["cycle", "adjust", ttfv, "--target", "6", "--reason", "scope"],
                 ["link", ISSUE, bugs, "--no-fetch"],
                 ["unlink", ISSUE, bugs]):
        code, out = run(container, *args)
        assert code == 1, (args, out)
        assert "FY27-Q1 is closed" in out and "okr cycle reopen FY27-Q1" in out, out
        assert "Traceback" not in out
    session.expire_all()
    assert _stored(session, org.workspace_id) == [0, 0, 0]
    assert session.get_one(KeyResult, org.krs["ttfv"].id).current_value is None


def test_reopen_then_checkin(container: Container, session: Session, org: Org) -> None:
    code, out = run(container, "cycle", "reopen", "FY27-Q1", "--at", "2026-03-10T09:00:00Z")
    assert code == 0 and "FY27-Q1 is reopened: now in active" in out
    code, out = run(container, "cycle", "reopen", "FY27-Q1")
    assert code == 1 and "FY27-Q1 is not closed (it is in active)" in out
    code, out = run(container, "checkin", org.krs["ttfv"].key, "--value", "9")
    assert code == 0 and "recorded a check-in" in out
    code, out = run(container, "cycle", "reopen", "FY99-Q9")
    assert code == 1 and "no cycle named 'FY99-Q9'" in out
    session.expire_all()
    assert _stored(session, org.workspace_id) == [1, 0, 0]
    actions = session.scalars(select(AuditEntry.action).where(
        AuditEntry.workspace_id == org.workspace_id)).all()
    assert actions.count("cycle.reopen") == 1


def test_reopened_after_its_end_goes_back_to_review(container: Container, session: Session,
                                                    org: Org) -> None:
    code, out = run(container, "cycle", "reopen", "FY27-Q1", "--at", "2026-05-03T09:00:00Z")
    assert code == 0 and "now in review" in out
    session.expire_all()
    assert session.get_one(Cycle, org.objective.cycle_id).phase == "review"
