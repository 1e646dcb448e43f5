"""The scheduler's Slack surfaces through the real Bolt app: prompt buttons, ``/okr next``,
``/okr digest``, ``/okr timeline`` and ``/okr remind``."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from app.models import Delivery, Person, TimelineRule, Workspace
from blocks.ids import Action
from tests.fixtures.scheduler import Clock, make_settings
from tests.fixtures.slack import Harness, rollback_factory, slack

__all__ = ["rollback_factory", "slack"]


def prompt_for_bob(slack: Harness) -> Delivery:
    # The seed's "now" is Monday 2 March 2026, 09:00 UTC: Bob's 10:00 in Berlin.
    Clock(slack.session_factory, make_settings(slack.fake)).tick(
        slack.now + timedelta(minutes=1))
    with slack.session() as s:
        return s.scalars(select(Delivery).where(Delivery.kind == "prompt",
                                                Delivery.target == "U0BOB")).one()


def test_prompt_carries_check_in_snooze_and_skip(slack: Harness) -> None:
    prompt_for_bob(slack)
    (call,) = [c for c in slack.fake.calls_to("chat.postMessage")
               if c.params["channel"] == "U0BOB"]
    actions = next(b for b in call.params["blocks"] if b["type"] == "actions")["elements"]
    assert [a["action_id"] for a in actions] == [
        str(Action.OPEN_CHECKIN), str(Action.SNOOZE_2H), str(Action.SNOOZE_TOMORROW),
        str(Action.SKIP_WEEK)]


def test_snooze_button_replaces_the_prompt_and_schedules_once(slack: Harness) -> None:
    row = prompt_for_bob(slack)
    req = slack.req.button("U0BOB", Action.SNOOZE_2H, str(row.id), channel="D0BOB")
    slack.send(req)
    (reply,) = slack.fake.responses(req.response_key)
    assert reply["replace_original"] is True
    assert reply["text"] == ":zzz: Snoozed. I'll ask again Mon 2 Mar, 12:00."
    slack.send(slack.req.button("U0BOB", Action.SNOOZE_2H, str(row.id), channel="D0BOB"))
    with slack.session() as s:
        snoozes = s.scalars(select(Delivery).where(
            Delivery.occurrence.contains("#snooze"))).all()
        assert [d.occurrence for d in snoozes] == ["2026-03-02#snooze1"]


def test_someone_elses_button_changes_nothing(slack: Harness) -> None:
    row = prompt_for_bob(slack)
    req = slack.req.button("U0CY", Action.SKIP_WEEK, str(row.id), channel="D0CY")
    slack.send(req)
    (reply,) = slack.fake.responses(req.response_key)
    assert reply.get("replace_original") is False and "someone else" in reply["text"]
    bad = slack.req.button("U0BOB", Action.SKIP_WEEK, "not-a-number", channel="D0BOB")
    slack.send(bad)
    assert "not valid" in slack.fake.responses(bad.response_key)[0]["text"]


def test_skip_week_button(slack: Harness) -> None:
    row = prompt_for_bob(slack)
    req = slack.req.button("U0BOB", Action.SKIP_WEEK, str(row.id), channel="D0BOB")
    slack.send(req)
    assert "Skipped the week of Mon 2 Mar 2026" in slack.fake.responses(req.response_key)[0][
        "text"]


def test_next_lists_my_prompts_in_my_zone(slack: Harness) -> None:
    _, body = slack.command("U0BOB", "next")
    text = json.dumps(body["blocks"], ensure_ascii=False)
    assert "every week on Mon at 10:00" in text and "Europe/Berlin" in text
    assert "Mon 9 Mar, 10:00" in text


def test_next_shows_a_moved_prompt_with_its_reason_and_my_working_week(slack: Harness) -> None:
    with slack.session() as s:
        s.scalars(select(Workspace)).one().holiday_dates = ["2026-03-09"]
        bob = s.scalars(select(Person).where(Person.slack_id == "U0BOB")).one()
        bob.work_days, bob.work_hours = ["sun", "mon", "tue", "wed", "thu"], "09:00-17:00"
        s.commit()
    _, body = slack.command("U0BOB", "next")
    text = json.dumps(body["blocks"], ensure_ascii=False)
    assert "Tue 10 Mar, 10:00 (moved from Mon 9 Mar: organisation day off)" in text
    assert "Mon 16 Mar, 10:00" in text
    assert "Working days Sun, Mon, Tue, Wed, Thu, 09:00-17:00" in text


def test_digest_preview_only_to_me(slack: Harness) -> None:
    req = slack.req.command("U0BOB", "digest")
    slack.send(req)
    (reply,) = slack.fake.responses(req.response_key)
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    text = json.dumps(reply["blocks"], ensure_ascii=False)
    assert "Engineering · FY27-Q1 digest" in text and "only you see this" in text
    assert slack.fake.calls_to("chat.postMessage") == []


def test_timeline_preset_is_for_admins(slack: Harness) -> None:
    _, body = slack.command("U0BOB", "timeline gitlab-product")
    assert "only admins" in body["text"]
    _, body = slack.command("U0DEE", "timeline gitlab-product")
    assert body["text"] == "Planning timeline: *gitlab-product* (set)"
    assert "1 week after the end · kr owners · `gitlab-end+1w`" in json.dumps(
        body["blocks"], ensure_ascii=False)
    with slack.session() as s:
        assert s.scalars(select(Workspace)).one().timeline_preset == "gitlab-product"


def test_remind_add_and_remove(slack: Harness) -> None:
    _, body = slack.command("U0DEE", "remind add retro-prep end +2d channel "
                                     "Retro for {{ cycle }} on Friday", channel_id="C0ENG")
    assert "`retro-prep`: 2 days after the end" in body["text"]
    _, body = slack.command("U0DEE", "remind add bad start soon channel hi")
    assert "-2w" in body["text"]
    _, body = slack.command("U0DEE", "remind add typo start -1w channel {{ cycel }}")
    assert "does not render" in body["text"]
    with slack.session() as s:
        (rule,) = s.scalars(select(TimelineRule)).all()
        assert (rule.key, rule.channel, rule.offset_days) == ("retro-prep", "C0ENG", 2)
    _, body = slack.command("U0DEE", "remind remove retro-prep")
    assert "Removed" in body["text"]


def test_next_says_why_a_prompt_will_not_come(slack: Harness) -> None:
    slack.command("U0BOB", "away 2026-03-10")
    _, body = slack.command("U0BOB", "next")
    text = json.dumps(body["blocks"], ensure_ascii=False)
    assert "Mon 9 Mar, 10:00 · _no prompt: away_" in text
    assert "Mon 16 Mar, 10:00" in text and "Mon 16 Mar, 10:00 ·" not in text
