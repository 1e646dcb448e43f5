"""Each first-run step on its own: admins only (decided on the server), bad input refused
inline, the invite step following the bot's channel membership, the fiscal-year start."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.models import AuditEntry, Cycle, Team, Workspace
from blocks.ids import Action, Block
from tests.slack.state import submitted_values
from tests.slack.test_first_run import ADMIN, MEMBER, FirstRun, find_button, first_run, text_of
from tests.slackreq import json_body

__all__ = ["first_run"]


def _dms(h: FirstRun, user: str) -> list[dict[str, Any]]:
    return [c.params for c in h.fake.calls_to("chat.postMessage")
            if c.params.get("channel") == user]


def _team_modal(h: FirstRun) -> dict[str, Any]:
    home = h.open_home(ADMIN)
    h.click(ADMIN, Action.SETUP_NEW_TEAM, home)
    modal = h.fake.last_view()
    assert modal is not None
    return modal


def _submit_team(h: FirstRun, user: str, modal: dict[str, Any], name: Any,
                 channel: str | None) -> dict[str, Any]:
    values = submitted_values(modal, {str(Block.SETUP_TEAM_NAME): name,
                                      str(Block.SETUP_TEAM_CHANNEL):
                                      {"selected_conversation": channel}})
    return json_body(h.send(h.req.view_submission(user, modal, values)))


def _count(h: FirstRun, model: type) -> int:
    with h.factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_members_cannot_run_any_step(first_run: FirstRun) -> None:
    h = first_run
    admin_home = h.open_home(ADMIN)
    h.open_home(MEMBER)
    # Forged clicks of the admin's buttons by a member.
    for action in (Action.SETUP_CYCLE, Action.SETUP_TEST_PROMPT, Action.SETUP_NEW_TEAM):
        button = find_button(admin_home, action)
        h.send(h.req.button(MEMBER, action, button.get("value", ""), view=admin_home))
    refusals = _dms(h, MEMBER)
    assert len(refusals) == 3
    assert all("only an OKR admin" in m["text"] for m in refusals)
    # A forged submission of the team modal.
    modal = _team_modal(h)
    body = _submit_team(h, MEMBER, modal, "Platform", "C0PLAT")
    assert body["response_action"] == "errors"
    assert "only an OKR admin" in str(body["errors"])
    assert (_count(h, Cycle), _count(h, Team)) == (0, 0)
    with h.factory() as s:
        assert s.scalars(select(AuditEntry.action)).all() == ["workspace.bound"]


def test_bad_team_input_is_refused_inline(first_run: FirstRun) -> None:
    h = first_run
    modal = _team_modal(h)
    body = _submit_team(h, ADMIN, modal, "   ", "not-a-channel")
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {str(Block.SETUP_TEAM_NAME), str(Block.SETUP_TEAM_CHANNEL)}
    body = _submit_team(h, ADMIN, modal, "Bad\x00name", "C0PLAT")
    assert "NUL" in body["errors"][str(Block.SETUP_TEAM_NAME)]
    assert _count(h, Team) == 0
    assert _submit_team(h, ADMIN, modal, "Platform", "C0PLAT")["response_action"] == "update"
    # The same name again (a second modal): refused, one team.
    body = _submit_team(h, ADMIN, _team_modal(h), "Platform", "C0OTHER")
    assert "already is a team named" in str(body["errors"])
    assert _count(h, Team) == 1


def test_double_submit_creates_one_team(first_run: FirstRun) -> None:
    h = first_run
    modal = _team_modal(h)
    modal["id"] = "V0SAME"
    _submit_team(h, ADMIN, modal, "Platform", "C0PLAT")
    _submit_team(h, ADMIN, modal, "Platform", "C0PLAT")
    assert _count(h, Team) == 1


def test_invite_step_follows_the_bots_membership(first_run: FirstRun) -> None:
    h = first_run
    _submit_team(h, ADMIN, _team_modal(h), "Ops <&> Support", "C0OPS")
    home = h.open_home(ADMIN)  # no cycle yet: the checklist stays
    text = text_of(home)
    assert "In <#C0OPS> (Ops &lt;&amp;&gt; Support) type `/invite @okr`" in text
    mrkdwn = [b["text"]["text"] for b in home["blocks"]
              if (b.get("text") or {}).get("type") == "mrkdwn"]
    assert not [t for t in mrkdwn if "Ops <&>" in t]  # plain_text buttons show it as typed
    h.fake.channel_members["C0OPS"] = ["U0BOT", ADMIN]
    text = text_of(h.open_home(ADMIN))
    assert "The bot is in every team channel" in text and "/invite" not in text


def test_cycle_follows_the_fiscal_year_start_and_is_created_once(first_run: FirstRun) -> None:
    h = first_run
    h.open_home(ADMIN)
    with h.factory() as s:
        s.scalars(select(Workspace)).one().fiscal_year_start_month = 2
        s.commit()
    home = h.open_home(ADMIN)
    button = find_button(home, Action.SETUP_CYCLE)
    assert button["value"] == "FY27-Q1"
    h.click(ADMIN, Action.SETUP_CYCLE, home)
    h.click(ADMIN, Action.SETUP_CYCLE, home)  # a second click on the old Home
    with h.factory() as s:
        (cycle,) = s.scalars(select(Cycle)).all()
        assert (cycle.name, cycle.start_date.isoformat(), cycle.end_date.isoformat()) == (
            "FY27-Q1", "2026-02-01", "2026-04-30")
    assert "already exists" in _dms(h, ADMIN)[-1]["text"]
