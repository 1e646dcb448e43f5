"""``okr demo``'s scheduler phases: the sample quarter through the real tick, then the
transcript in each recipient's local time."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.demo import phases, transcript
from app.demo.context import DemoContext, Phase
from app.demo.run import run_demo
from app.models import Checkin


@pytest.mark.slow
def test_transcript_shows_local_times_across_dst(tmp_path: Path) -> None:
    lines: list[str] = []
    ctx = run_demo(db_path=tmp_path / "demo.db", out=lines.append, phases=[
        Phase("load", phases.load, setup=True),
        Phase("scheduler", transcript.run_scheduler, setup=True),
        Phase("transcript", transcript.show_transcript),
    ])
    text = "\n".join(lines)
    # New York's 09:30 is 14:30 UTC in winter and 13:30 UTC after its switch on 8 March.
    assert "Mon  2 Feb 09:30 New York (14:30 UTC)      Maya Chen" in text
    assert "Mon  9 Mar 09:30 New York (13:30 UTC)      Maya Chen" in text
    # Sydney's Monday morning is Sunday evening in UTC, an hour later once its DST ends; on
    # Easter Monday (a holiday in Sydney and Berlin, not in New York) it comes on Tuesday.
    assert ("Tue  7 Apr 09:30 Sydney   (Mon 23:30 UTC)  Kenji Sato    moved    "
            "Easter Monday (Mon 6)") in text
    assert "Tue  7 Apr 09:30 Berlin   (07:30 UTC)      Lars Becker   moved    Easter Monday" in text
    assert "Mon  6 Apr 09:30 New York (13:30 UTC)      Maya Chen     check-in" in text
    assert "Washington's Birthday (Mon 16)" in text  # New York's own holiday
    assert "8 weeks to go until FY27-Q1…" in text  # the gitlab-product timeline
    assert "#acme         digest   Acme Cloud: FY27-Q1 digest" in text
    # Reminders come on working days: the "weeks to go" DMs of a Sunday on Monday, the
    # channel's on the Friday before.
    sent_on = [line[2:5] for line in lines if " reminder " in line]
    assert sent_on and "Sun" not in sent_on and "Sat" not in sent_on
    assert "Fri 26 Dec 10:00 Berlin   (09:00 UTC)      #acme         reminder" in text
    # A lead hears once a week of key results left without an update for 7 working days.
    waiting = [line for line in lines if "  waiting  Waiting on 1 person" in line]
    assert waiting and all(line[2:5] in ("Mon", "Tue", "Wed", "Thu", "Fri") for line in waiting)
    assert "“waiting on” messages to leads sent" in text
    assert "Nobody got the same message twice." in text
    total = next(line for line in lines if line.startswith("Totals: "))
    sent = sum(int(part.split()[0]) for part in total[8:].split(", ") if "sent" in part)
    assert sent == ctx.results["slack_messages"]  # one Slack message per delivery row


def _checkins(ctx: DemoContext) -> int:
    with ctx.session() as s:
        return s.scalar(select(func.count()).select_from(Checkin)) or 0


@pytest.mark.slow
def test_transcript_shows_a_check_in_by_reply_and_keeps_the_data(tmp_path: Path) -> None:
    lines: list[str] = []
    counts: list[int] = []

    def count(ctx: DemoContext) -> None:
        counts.append(_checkins(ctx))

    run_demo(db_path=tmp_path / "demo.db", out=lines.append, phases=[
        Phase("load", phases.load, setup=True),
        Phase("simulate", phases.simulate_quarter, setup=True),
        Phase("before", count),
        Phase("conversation", transcript.prepare_conversation, setup=True),
        Phase("transcript", transcript.show_conversation),
        Phase("after", count),
    ])
    text = "\n".join(lines)
    assert "A check-in by reply" in text
    assert "Chloe in the DM:    pipeline $" in text
    assert "okr in the thread:  Recorded 2 check-ins:" in text
    assert "Close 5 enterprise deals in the Japan market: " in text and "at risk" in text
    assert "“the next deal slips to May”" in text
    assert counts[0] > 0 and counts[0] == counts[1]  # rolled back: the demo's data stays
