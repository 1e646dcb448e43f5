"""Reading a check-in written in the DM: one line per key result. Pure (no database, no I/O).

A line is ``<KR id or words of its title> <value> [status] [note...]``:

- the KR: its id (``kr-inc``), or one or more words of its title (``activation``) that no
  other of the person's open KRs has; with exactly one open KR it may be left out;
- the value, for the KR's type: a number (see :mod:`reply_values` for units, ``%``, ``k``/``M``
  and commas), ``done`` (or ``not done``) for a milestone, a score for a manual KR (``0.7`` or
  ``70%``), nothing for KRs that move by themselves (linked issues, aligned objectives);
  ``no change`` keeps the last value;
- the status (optional): ``green``/``on track``, ``yellow``/``amber``/``at risk``,
  ``red``/``off track``; left out, the last declared status is carried forward;
- the rest of the line is the note.

The whole message ``no change`` (or a line without a KR that says ``no change``) checks in
every open KR with its last value and last declared status (note "no change"). ``help`` or
``?`` asks for the format. Any line that cannot be read unambiguously (no such KR among the
person's, a word matching two KRs, a bad value, two lines for one KR) gives a problem and no
answer: nothing is ever stored from it. The other lines stay readable: the caller records
them and reports the rest.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from app.domain import CheckinAnswer, KRType, TrafficLight
from app.services.checkins.reply_values import Unreadable, looks_like_number, read_amount

MAX_LINES = 30
MAX_NOTE = 3000
NO_CHANGE_NOTE = "no change"

STATUS_WORDS: dict[tuple[str, ...], TrafficLight] = {
    ("green",): TrafficLight.GREEN, ("on", "track"): TrafficLight.GREEN,
    ("yellow",): TrafficLight.YELLOW, ("amber",): TrafficLight.YELLOW,
    ("at", "risk"): TrafficLight.YELLOW,
    ("red",): TrafficLight.RED, ("off", "track"): TrafficLight.RED,
    (":large_green_circle:",): TrafficLight.GREEN, (":green_circle:",): TrafficLight.GREEN,
    (":large_yellow_circle:",): TrafficLight.YELLOW, (":yellow_circle:",): TrafficLight.YELLOW,
    (":red_circle:",): TrafficLight.RED,
}
NO_CHANGE_WORDS = (("no", "change"), ("no", "changes"), ("nothing", "changed"),
                   ("unchanged",), ("same",))
DONE_WORDS = {("done",): 1.0, ("not", "done"): 0.0, ("not", "yet"): 0.0}
HELP_WORDS = {"help", "?", "how"}
BULLET = re.compile(r"^\s*(?:[-*•·]|\d{1,2}[.)])\s+")
EDGE = ":,;.!?()[]\"'“”‘’"
NOTE_LEAD = " \t-–—:,;"
MARKUP = str.maketrans("", "", "*`~")  # bold, code and strike marks around words


@dataclass(frozen=True, slots=True)
class ReplyKR:
    """One of the person's open KRs, as the parser needs it."""

    key: str
    title: str
    kr_type: KRType
    unit: str | None = None
    last_status: TrafficLight | None = None
    checked_in: bool = False


@dataclass(frozen=True, slots=True)
class Reading:
    """One line as read: an ``answer`` for ``kr_key``, or a ``problem`` (and no answer)."""

    line: str
    kr_key: str | None = None
    answer: CheckinAnswer | None = None
    status_kept: bool = False
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Parsed:
    readings: tuple[Reading, ...] = ()
    help: bool = False


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    start: int
    end: int

    @property
    def word(self) -> str:
        return self.text.strip(EDGE).lower()


def _tokens(line: str) -> list[_Token]:
    return [_Token(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", line)]


def _phrase(tokens: Sequence[_Token], i: int, phrases: Sequence[tuple[str, ...]]
            ) -> tuple[str, ...] | None:
    """The phrase (tuple of words) starting at ``tokens[i]``, if any; longest first."""
    for phrase in sorted(phrases, key=len, reverse=True):
        words = tuple(t.word for t in tokens[i:i + len(phrase)])
        if words == phrase:
            return phrase
    return None


def _title_words(title: str) -> set[str]:
    words = {w.strip(EDGE).lower() for w in title.split()}
    return {w for w in words if w} | {w[:-1] for w in words if len(w) > 3 and w.endswith("s")}


def _match(ref: Sequence[_Token], krs: Sequence[ReplyKR]) -> ReplyKR | str:
    """The KR ``ref`` names, or why it names none."""
    typed = " ".join(t.text for t in ref)
    joined = " ".join(t.word for t in ref)
    by_key = [kr for kr in krs if kr.key.lower() in (joined, typed.lower())]
    if len(by_key) == 1:
        return by_key[0]
    words = [w for w in (t.word for t in ref) if w]
    found = [kr for kr in krs if words and all(
        w in _title_words(kr.title) or w.rstrip("s") in _title_words(kr.title)
        for w in words)]
    if len(found) == 1:
        return found[0]
    if not found:
        return f"none of your open key results is called “{typed}”"
    names = ", ".join(f"{kr.title} ({kr.key})" for kr in found[:4])
    return f"“{typed}” matches {len(found)} of your key results ({names}): use its id"


def _boundary(tokens: Sequence[_Token], krs: Sequence[ReplyKR]) -> int:
    """Where the KR reference ends: at a KR id, else at the first value, keyword or status."""
    if tokens and any(kr.key.lower() == tokens[0].word for kr in krs):
        return 1
    keywords = [*STATUS_WORDS, *NO_CHANGE_WORDS, *DONE_WORDS]
    for i, t in enumerate(tokens):
        if looks_like_number(t.text) or _phrase(tokens, i, keywords) is not None:
            return i
    return len(tokens)


def _value(kr: ReplyKR, tokens: list[_Token]) -> tuple[CheckinAnswer, int]:
    """The answer's value part for this KR and how many tokens it used (raises Unreadable)."""
    base = CheckinAnswer(kr_key=kr.key)
    nochange = _phrase(tokens, 0, NO_CHANGE_WORDS)
    if nochange is not None:
        if not kr.checked_in:
            raise Unreadable(f"{kr.title} has no earlier check-in to repeat: give its value")
        return CheckinAnswer(kr_key=kr.key, no_change=True), len(nochange)
    if kr.kr_type == KRType.MILESTONE:
        done = _phrase(tokens, 0, list(DONE_WORDS))
        if done is None:
            raise Unreadable(f"{kr.title} is a milestone: write “done” when it is done")
        return CheckinAnswer(kr_key=kr.key, value=DONE_WORDS[done]), len(done)
    if not _takes_value(kr):
        if tokens and looks_like_number(tokens[0].text):
            raise Unreadable(f"{kr.title} moves by itself: give a status or a note, "
                             "no value")
        return base, 0
    if not tokens or not looks_like_number(tokens[0].text):
        what = "score (0.0-1.0)" if kr.kr_type == KRType.MANUAL else "value"
        raise Unreadable(f"give the current {what} of {kr.title}, or “no change”")
    amount = read_amount([t.text for t in tokens[:2]], kr.kr_type, kr.unit)
    if kr.kr_type == KRType.MANUAL:
        return CheckinAnswer(kr_key=kr.key, score=amount.value), amount.used
    return CheckinAnswer(kr_key=kr.key, value=amount.value), amount.used


def _line(kr: ReplyKR, line: str, rest: list[_Token]) -> Reading:
    try:
        answer, used = _value(kr, rest)
    except Unreadable as exc:
        return Reading(line=line, kr_key=kr.key, problem=str(exc))
    rest = rest[used:]
    status = _phrase(rest, 0, list(STATUS_WORDS))
    light = STATUS_WORDS[status] if status is not None else kr.last_status
    if status is not None:
        rest = rest[len(status):]
    note = line[rest[0].start:].lstrip(NOTE_LEAD).strip() if rest else ""
    if len(note) > MAX_NOTE:
        return Reading(line=line, kr_key=kr.key,
                       problem=f"keep the note under {MAX_NOTE} characters")
    if not note and answer.no_change:
        note = NO_CHANGE_NOTE
    full = CheckinAnswer(kr_key=kr.key, value=answer.value, score=answer.score,
                         status=light.value if light else None, note=note or None,
                         no_change=answer.no_change)
    return Reading(line=line, kr_key=kr.key, answer=full, status_kept=status is None)


def read_line(line: str, krs: Sequence[ReplyKR]) -> Reading:
    """One line against the person's open KRs."""
    tokens = _tokens(line)
    cut = _boundary(tokens, krs)
    ref, rest = tokens[:cut], tokens[cut:]
    if not ref:
        if len(krs) != 1:
            return Reading(line=line, problem="start the line with the key result's id or a "
                                              "word of its title")
        return _line(krs[0], line, rest)
    found = _match(ref, krs)
    if isinstance(found, str):
        # "bugs waiting on QA": a KR without a value, then its note (the words before the
        # note name exactly one such KR).
        for k in range(len(ref) - 1, 0, -1):
            short = _match(ref[:k], krs)
            if isinstance(short, ReplyKR) and not _takes_value(short):
                return _line(short, line, tokens[k:])
        return Reading(line=line, problem=found)
    return _line(found, line, rest)


def _takes_value(kr: ReplyKR) -> bool:
    return kr.kr_type.takes_value or kr.kr_type == KRType.MANUAL


def _clean(text: str) -> list[str]:
    lines = []
    plain = html.unescape(text or "").translate(MARKUP)
    for raw in plain.replace("\r", "\n").split("\n"):
        line = BULLET.sub("", raw).strip()
        if line.strip(EDGE + " "):
            lines.append(line)
    return lines


def _all_unchanged(line: str, krs: Sequence[ReplyKR]) -> tuple[Reading, ...] | None:
    """A line with no KR that says "no change": every open KR (None when it is not that)."""
    tokens = _tokens(line)
    phrase = _phrase(tokens, 0, NO_CHANGE_WORDS)
    if phrase is None or not krs:
        return None
    return tuple(_line(kr, line, tokens) for kr in krs)


def parse(text: str, krs: Sequence[ReplyKR]) -> Parsed:
    """Read a DM message against the person's open KRs (never raises)."""
    lines = _clean(text)
    if len(lines) == 1 and lines[0].strip(EDGE + " ").lower() in HELP_WORDS:
        return Parsed(help=True)
    if not krs:
        return Parsed(tuple(Reading(line=ln, problem="you have no open key results to check "
                                                     "in on") for ln in lines[:1]))
    extra = lines[MAX_LINES:]
    lines = lines[:MAX_LINES]
    if len(lines) == 1:
        everything = _all_unchanged(lines[0], krs)
        if everything is not None:
            return Parsed(everything)
    readings = [read_line(ln, krs) for ln in lines]
    twice = Counter(r.kr_key for r in readings if r.kr_key is not None)
    readings = [r if r.kr_key is None or twice[r.kr_key] == 1 else
                Reading(line=r.line, kr_key=r.kr_key,
                        problem="two lines name this key result: say it once")
                for r in readings]
    readings += [Reading(line=ln, problem=f"I read only the first {MAX_LINES} lines")
                 for ln in extra[:1]]
    return Parsed(tuple(readings))


__all__ = ["Parsed", "Reading", "ReplyKR", "parse", "read_line"]
