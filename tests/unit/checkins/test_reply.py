"""The DM check-in parser: what each line records, and that unreadable lines record nothing."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.domain import KRType
from app.domain import TrafficLight as L
from app.services.checkins.reply import Parsed, ReplyKR, parse, read_line
from app.services.checkins.reply_values import Unreadable, read_amount

KRS = [
    ReplyKR("kr-inc", "Grow activation", KRType.INCREASE, "users", L.GREEN, True),
    ReplyKR("kr-dec", "Cut time to value", KRType.DECREASE, "days", None, True),
    ReplyKR("kr-ms", "Ship the walkthrough", KRType.MILESTONE),
    ReplyKR("kr-man", "Delight users", KRType.MANUAL, None, L.YELLOW, True),
    ReplyKR("kr-pct", "Docs coverage", KRType.PERCENT),
    ReplyKR("kr-rev", "Grow revenue", KRType.INCREASE, "M€"),
    ReplyKR("kr-bugs", "Close the onboarding bugs", KRType.ISSUES, None, L.RED, True),
]
ONE = [ReplyKR("apac-japan", "Sign deals in Japan", KRType.INCREASE, "deals", L.YELLOW, True)]


def one(text: str, krs: list[ReplyKR] = KRS) -> tuple[str | None, dict[str, object]]:
    """(problem, fields of the answer) of a one-line message."""
    [r] = parse(text, krs).readings
    if r.answer is None:
        return r.problem, {}
    a = r.answer
    fields = {"kr": a.kr_key, "value": a.value, "score": a.score, "status": a.status,
              "note": a.note, "no_change": a.no_change, "kept": r.status_kept}
    return None, {k: v for k, v in fields.items() if v is not None and v is not False}


@pytest.mark.parametrize(("text", "expected"), [
    ("activation 30", {"kr": "kr-inc", "value": 30.0, "status": "green", "kept": True}),
    ("kr-inc 30 yellow", {"kr": "kr-inc", "value": 30.0, "status": "yellow"}),
    ("KR-INC: 30 users, at risk - signups are up",
     {"kr": "kr-inc", "value": 30.0, "status": "yellow", "note": "signups are up"}),
    ("grow activation 1,200 on track", {"kr": "kr-inc", "value": 1200.0, "status": "green"}),
    ("*activation* 30 (off track) legal is slow",
     {"kr": "kr-inc", "value": 30.0, "status": "red", "note": "legal is slow"}),
    ("time 9 days red", {"kr": "kr-dec", "value": 9.0, "status": "red"}),
    ("time 9days", {"kr": "kr-dec", "value": 9.0, "kept": True}),
    ("walkthrough done", {"kr": "kr-ms", "value": 1.0, "kept": True}),
    ("walkthrough not done amber", {"kr": "kr-ms", "value": 0.0, "status": "yellow"}),
    ("delight 0.7 green", {"kr": "kr-man", "score": 0.7, "status": "green"}),
    ("delight 70%", {"kr": "kr-man", "score": 0.7, "status": "yellow", "kept": True}),
    ("docs 45%", {"kr": "kr-pct", "value": 45.0, "kept": True}),
    ("docs 45 % green", {"kr": "kr-pct", "value": 45.0, "status": "green"}),
    ("revenue $1.2M", {"kr": "kr-rev", "value": 1.2, "kept": True}),
    ("revenue 800k€", {"kr": "kr-rev", "value": 0.8, "kept": True}),
    ("revenue 1.5 M€ green", {"kr": "kr-rev", "value": 1.5, "status": "green"}),
    ("bugs yellow waiting on QA",
     {"kr": "kr-bugs", "status": "yellow", "note": "waiting on QA"}),
    ("bugs waiting on QA", {"kr": "kr-bugs", "status": "red", "note": "waiting on QA",
                            "kept": True}),
    ("activation no change", {"kr": "kr-inc", "status": "green", "note": "no change",
                              "no_change": True, "kept": True}),
    ("activation unchanged red stuck", {"kr": "kr-inc", "status": "red", "note": "stuck",
                                        "no_change": True}),
    ("- activation 31", {"kr": "kr-inc", "value": 31.0, "status": "green", "kept": True}),
    ("activation 30 &lt;3 &amp; more", {"kr": "kr-inc", "value": 30.0, "status": "green",
                                       "note": "<3 & more", "kept": True}),
])
def test_readable_lines(text: str, expected: dict[str, object]) -> None:
    problem, fields = one(text)
    assert problem is None
    assert fields == expected


@pytest.mark.parametrize(("text", "why"), [
    ("hello", "none of your open key results is called “hello”"),
    ("grow 30", "“grow” matches 2 of your key results"),
    ("kr-cy 2", "none of your open key results"),
    ("30 green", "start the line with the key result's id"),
    ("activation", "give the current value of Grow activation"),
    ("activation green", "give the current value"),
    ("activation is up", "none of your open key results is called “activation is up”"),
    ("activation +5", "not the change"),
    ("activation 1,5", "write 1.5 or 1,500"),
    ("activation 3-4", "not a number I can read"),
    ("activation 30x", "not a number I can read"),
    ("activation 45%", "counted in users"),
    ("walkthrough 1", "write “done” when it is done"),
    ("delight 70", "a score is between 0.0 and 1.0"),
    ("delight 150%", "between 0% and 100%"),
    ("bugs 3", "moves by itself"),
    ("docs no change", "no earlier check-in to repeat"),
    ("activation 1e3", "not a number I can read"),
    ("activation " + "9" * 20, "not a usable number"),
    ("activation 30 " + "x" * 3001, "keep the note under"),
])
def test_unreadable_lines(text: str, why: str) -> None:
    problem, fields = one(text)
    assert fields == {}
    assert problem is not None and why in problem


def test_a_single_kr_needs_no_name() -> None:
    assert one("2 yellow second deal signed", ONE) == (None, {
        "kr": "apac-japan", "value": 2.0, "status": "yellow", "note": "second deal signed"})
    assert one("deals 3", ONE)[1]["value"] == 3.0  # a title word still works
    assert one("no change", ONE)[1]["no_change"] is True


def test_no_change_for_all() -> None:
    readings = parse("No change!", KRS).readings
    by_kr = {r.kr_key: r for r in readings}
    assert set(by_kr) == {kr.key for kr in KRS}
    done = {k for k, r in by_kr.items() if r.answer is not None}
    assert done == {"kr-inc", "kr-dec", "kr-man", "kr-bugs"}  # those checked in before
    for key in done:
        a = by_kr[key].answer
        assert a is not None and a.no_change and a.note == "no change"
        last = next(kr.last_status for kr in KRS if kr.key == key)
        assert a.status == (last.value if last else None)
    assert "no earlier check-in" in (by_kr["kr-ms"].problem or "")


def test_several_lines_and_conflicts() -> None:
    readings = parse("activation 30\nwalkthrough done\n\n• docs 50%", KRS).readings
    assert [r.kr_key for r in readings] == ["kr-inc", "kr-ms", "kr-pct"]
    assert all(r.answer is not None for r in readings)
    twice = parse("activation 30\nkr-inc 31\nwalkthrough done", KRS).readings
    assert [r.answer is None for r in twice] == [True, True, False]
    assert "two lines" in (twice[0].problem or "")
    many = parse("\n".join(f"activation {i}" for i in range(40)), KRS).readings
    assert all(r.answer is None for r in many)
    assert "first 30 lines" in (many[-1].problem or "")


def test_help_and_no_krs() -> None:
    assert parse("help", KRS) == Parsed(help=True)
    [r] = parse("activation 30", []).readings
    assert r.answer is None and "no open key results" in (r.problem or "")
    assert parse("   \n  ", KRS).readings == ()


def test_amounts() -> None:
    assert read_amount(["15k"], KRType.INCREASE, "users").value == 15_000
    assert read_amount(["1.2m"], KRType.INCREASE, None).value == 1_200_000
    assert read_amount(["3bn"], KRType.INCREASE, "$").value == 3e9
    assert read_amount(["−4"], KRType.INCREASE, None).value == -4
    assert read_amount(["300", "ms"], KRType.BELOW, "ms").used == 2
    assert read_amount(["5m"], KRType.INCREASE, "m").value == 5  # metres, not millions
    with pytest.raises(Unreadable):
        read_amount(["5ms"], KRType.INCREASE, None)


# --- properties --------------------------------------------------------------------------

lines = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200)
words = st.lists(st.sampled_from(["activation", "kr-inc", "walkthrough", "grow", "30", "+5",
                                  "1,5", "done", "no", "change", "green", "at", "risk", "%",
                                  "$1.2M", "delight", "0.7", "bugs", "hello", "\n", "-"]),
                 max_size=8).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(lines, words))
@example("no change")
@example("activation 30\nwalkthrough done\nactivation 31")
def test_any_text_never_raises_and_answers_only_readable_lines(text: str) -> None:
    parsed = parse(text, KRS)
    for r in parsed.readings:
        assert (r.answer is None) != (r.problem is None)
        if r.answer is not None:
            # Re-reading the same line alone reads the same KR (nothing guessed), except
            # "no change" for all, which only a message of its own means.
            again = read_line(r.line, KRS)
            assert again.kr_key == r.kr_key or (again.kr_key is None and r.answer.no_change)
            assert r.answer.kr_key in {kr.key for kr in KRS}


NAMES = {"activation", "grow", "something", "kr-inc", "kr-x", "no", "same", "unchanged",
         "nothing"}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60).filter(lambda t: not any(
    w.strip(":,;.!?()[]\"'“”‘’").lower().rstrip("s") in {n.rstrip("s") for n in NAMES}
    for w in t.split())))
def test_a_line_that_names_no_kr_of_several_records_nothing(text: str) -> None:
    """With several KRs, a line that does not name one of them never records anything."""
    krs = [*KRS[:1], ReplyKR("kr-x", "Grow something", KRType.INCREASE, None, None, True)]
    assert all(r.answer is None for r in parse(text, krs).readings)
