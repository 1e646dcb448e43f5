"""``/okr link`` and ``/okr unlink`` through the real Bolt app and the fake Slack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from app.models import Checkin, IssueLink, KeyResult
from tests.fakeforge import FakeGitLab, running
from tests.fakeslack import FakeSlack, fake_slack
from tests.fixtures.slack import Harness, build_harness
from tests.slackreq import json_body

__all__ = ["fake_slack"]

URL = "https://gitlab.com/acme/web/-/issues/12"


@pytest.fixture()
def forge() -> Iterator[FakeGitLab]:
    with running(FakeGitLab()) as f:
        assert isinstance(f, FakeGitLab)
        f.add("acme/web", "issue", 12, "closed")
        f.add("acme/web", "issue", 13, "opened")
        yield f


@pytest.fixture()
def slack(fake_slack: FakeSlack, db_engine: Engine, session_factory: sessionmaker[Session],
          now: datetime, forge: FakeGitLab) -> Iterator[Harness]:
    # The shared session_factory isolates SQLite tests too (app.db emits BEGIN itself).
    harness = build_harness(fake_slack, db_engine, session_factory, now,
                            OKR_GITLAB_API_URL=f"{forge.url}/api/v4",
                            OKR_ALLOW_PRIVATE_HOSTS="127.0.0.1")
    with session_factory() as s:
        for key, owner in (("kr-bugs", "U0CY"), ("kr-bugs2", "U0BOB"), ("kr-bugs3", "U0BOB")):
            s.add(KeyResult(workspace_id=harness.org.workspace.id, key=key, title=f"Bugs {key}",
                            objective_id=harness.org.objectives["eng-onboarding"].id,
                            kr_type="issues", owner_id=harness.org.people[owner].id,
                            position=10, created_at=now, updated_at=now))
        s.commit()
    try:
        yield harness
    finally:
        harness.env.drain()
        harness.env.executor.shutdown(wait=True)


def _reply(slack: Harness, user: str, text: str) -> str:
    """The one answer: in the ack, or (for work done after the ack) via response_url."""
    request = slack.req.command(user, text)
    acked = json_body(slack.send(request))
    replies = [acked] if acked else slack.fake.responses(request.response_key)
    assert len(replies) == 1, replies
    assert replies[0].get("response_type", "ephemeral") == "ephemeral"
    return str(replies[0]["text"])


def _links(slack: Harness) -> list[tuple[str, bool]]:
    with slack.session() as s:
        return [(r.url, r.closed) for r in s.scalars(select(IssueLink).order_by(IssueLink.id))]


def test_link_to_my_only_issues_kr_fetches_its_state(slack: Harness) -> None:
    text = _reply(slack, "U0CY", f"link <{URL}>")
    assert text.startswith(":link: Linked <https://gitlab.com/acme/web/-/issues/12>.")
    assert "*Bugs kr-bugs* (`kr-bugs`) now has 1 of 1 done: score 100%" in text
    assert _links(slack) == [(URL, True)]
    notes = [c.note for c in slack.checkins("kr-bugs")]
    assert notes == ["acme/web#12 closed (found by reconciliation)"]
    text = _reply(slack, "U0CY", f"unlink {URL}")
    assert text.startswith("Unlinked <https://gitlab.com/acme/web/-/issues/12>.")
    assert _links(slack) == []


def test_several_issue_krs_need_a_name(slack: Harness) -> None:
    text = _reply(slack, "U0BOB", f"link {URL}")
    assert "name one" in text and "`kr-bugs2`" in text and "`kr-bugs3`" in text
    assert _links(slack) == []
    text = _reply(slack, "U0BOB", "link https://gitlab.com/acme/web/-/issues/13 kr-bugs3")
    assert "0 of 1 done" in text
    assert _links(slack) == [("https://gitlab.com/acme/web/-/issues/13", False)]


@pytest.mark.parametrize(("user", "text", "expected"), [
    ("U0ADA", f"link {URL}", "You own no open key result that counts issues"),
    ("U0CY", "link https://bitbucket.org/a/b/issues/1", "is not a link we can track"),
    ("U0CY", "link <<!channel>>", "&lt;!channel&gt;"),
    ("U0CY", f"link {URL} kr-cy", "only 'issues' key results"),
    ("U0CY", f"link {URL} kr-nope", "There is no key result `kr-nope`"),
    ("U0CY", f"link {URL} kr-bugs2", "only the key result's owner"),
    ("U0CY", "link", "Usage: `/okr link"),
    ("U0CY", f"unlink {URL}", "is not linked to any key result"),
])
def test_bad_requests_get_a_clear_answer_and_change_nothing(slack: Harness, user: str,
                                                             text: str, expected: str) -> None:
    reply = _reply(slack, user, text)
    assert expected in reply
    assert _links(slack) == []
    with slack.session() as s:
        assert s.scalars(select(Checkin)).all() == []


def test_team_lead_may_link_to_a_members_kr_and_unlink_needs_a_name_when_shared(
        slack: Harness) -> None:
    assert "Linked" in _reply(slack, "U0ADA", f"link {URL} kr-bugs2")
    assert "Linked" in _reply(slack, "U0ADA", f"link {URL} kr-bugs3")
    text = _reply(slack, "U0BOB", f"unlink {URL}")
    assert "several key results" in text and len(_links(slack)) == 2
    assert "Unlinked" in _reply(slack, "U0BOB", f"unlink {URL} kr-bugs3")
    assert len(_links(slack)) == 1


def test_show_lists_the_linked_work_open_first_and_says_what_was_deleted(
        slack: Harness) -> None:
    for n in (12, 13):
        _reply(slack, "U0CY", f"link https://gitlab.com/acme/web/-/issues/{n} kr-bugs")
    with slack.session() as s:  # a third item, deleted in its tracker
        link = s.scalars(select(IssueLink).where(IssueLink.url.endswith("/13"))).one()
        s.add(IssueLink(workspace_id=link.workspace_id, kr_id=link.kr_id,
                        url="https://github.com/acme/api/issues/8", provider="github",
                        host="github.com", project="acme/api", kind="issue", number=8,
                        weight=1.0, closed=False, state="deleted", title="Old <b>*bug*</b>",
                        created_at=slack.now))
        s.commit()
    _, body = slack.command("U0CY", "show kr-bugs")
    blocks = json.dumps(body.get("blocks"))
    section = next(b["text"]["text"] for b in body["blocks"]
                   if b.get("text", {}).get("text", "").startswith("*Linked work*"))
    lines = section.split("\n")
    assert lines[0] == "*Linked work* (1 of 2 done)"
    assert "acme/web#13" in lines[1] and ": open" in lines[1]  # open first
    assert lines[2].startswith(":white_check_mark:") and "acme/web#12" in lines[2]
    assert "~<https://github.com/acme/api/issues/8|acme/api#8>~" in lines[3]
    assert "deleted in the tracker, no longer counts" in lines[3]
    # The tracker's title is escaped: no formatting or markup reaches Slack.
    assert "&lt;b&gt;" in blocks and "<b>" not in blocks
