"""Numbers as people type them in a chat line, read against one key result. Pure.

Accepted (and documented in docs/checkins.md, "Replying in the DM"):

| typed | reads as |
| --- | --- |
| ``30``, ``-4``, ``1.5``, ``.5``, ``1,200``, ``1,200.5`` | that number (commas group thousands) |
| ``30 users``, ``5days``, ``300 ms`` | the number, when the word is the KR's unit |
| ``45%``, ``45 %`` | 45 on a percent KR (or a KR whose unit is %); 0.45 on a manual KR |
| ``0.7`` | a manual KR's score (0.0-1.0) |
| ``15k``, ``1.2M``, ``1.2m``, ``3bn`` | thousands, millions, billions ... |
| ``$1.2M``, ``€300``, ``300€`` | currency symbols are decoration: no conversion |

A scale is relative to the KR's unit: on a KR counted in ``M€`` (or ``$M``, ``k users``),
``1.2M`` is 1.2 and ``800k`` is 0.8; without a scale the number is in the KR's unit.

Refused, with a reason: ``+5`` (a change, not the new value), ``1,5`` (decimal comma or a
typo: write 1.5 or 1,500), ``%`` on a KR that is not a percentage, a number over 1 for a
manual score, anything else after the digits (``30x``, ``3-4``), and numbers too large to use.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from app.domain import KRType

CURRENCY = "$€£¥"
SCALES = {"k": 1e3, "m": 1e6, "mm": 1e6, "b": 1e9, "bn": 1e9}
# Scales a unit may start with ("M€", "$M", "k users"); lowercase "m" is metres or minutes.
UNIT_SCALES = {"k": 1e3, "K": 1e3, "M": 1e6, "MM": 1e6, "B": 1e9, "bn": 1e9}
PUNCT = ",;.!?)"

NUMBER = re.compile(
    r"(?P<sign>[-−+])?(?P<cur>[$€£¥])?(?P<num>\d+(?:,\d+)*(?:\.\d+)?|\.\d+)(?P<tail>\S*)")
GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
STARTS_NUMBER = re.compile(r"[-−+]?[$€£¥]?\.?\d")


class Unreadable(ValueError):
    """The text is not a value for this KR; ``str()`` says why, in words for the person."""


@dataclass(frozen=True, slots=True)
class Amount:
    """A value read from the text; ``used`` tokens of the line were consumed."""

    value: float
    used: int


def looks_like_number(token: str) -> bool:
    return STARTS_NUMBER.match(token) is not None


def _words(unit: str) -> set[str]:
    """The spellings of a unit a person may type after a number ("day" for "days")."""
    base = unit.strip().lower()
    if not base:
        return set()
    out = {base, base.rstrip("s"), base + "s"}
    stripped = base.strip(CURRENCY).strip()
    if stripped:
        out |= {stripped, stripped.rstrip("s"), stripped + "s"}
    return {w for w in out if w}


def unit_scale(unit: str | None) -> float:
    """How many ones one of the KR's units is (1e6 for "M€" or "$M", 1 for "users")."""
    text = "".join(ch for ch in (unit or "") if ch not in CURRENCY).strip()
    first = text.split(" ", 1)[0] if text else ""
    return UNIT_SCALES.get(first, 1.0)


def _is_percent_kr(kr_type: KRType, unit: str | None) -> bool:
    return kr_type == KRType.PERCENT or (unit or "").strip().lower() in ("%", "percent")


def _number(text: str) -> float:
    if "," in text and not GROUPED.fullmatch(text):
        raise Unreadable(f"“{text}” is not a number I can read: write 1.5 or 1,500")
    value = float(text.replace(",", ""))
    if not math.isfinite(value):
        raise Unreadable("that is not a usable number")
    return value


def _tail(tail: str, unit: str | None) -> tuple[float | None, bool, bool]:
    """Read what is stuck to the digits: (scale, percent, recognised)."""
    tail = tail.rstrip(PUNCT)
    tail = tail.strip(CURRENCY)
    if not tail:
        return None, False, True
    if tail == "%":
        return None, True, True
    if unit and tail.lower() in _words(unit):
        return None, False, True
    scale = SCALES.get(tail.lower().rstrip(CURRENCY))
    if scale is not None:
        return scale, False, True
    return None, False, False


def read_amount(tokens: list[str], kr_type: KRType, unit: str | None) -> Amount:
    """The value at the start of ``tokens`` (whitespace-split) for a KR of this type and unit.

    Raises :class:`Unreadable`. Only the types that take a number come here (milestones use
    "done", issues and children KRs take none).
    """
    first = tokens[0] if tokens else ""
    m = NUMBER.fullmatch(first)
    if m is None:
        raise Unreadable(f"“{first}” is not a number I can read")
    if m.group("sign") == "+":
        raise Unreadable(f"write the new value, not the change (“{first}”)")
    number = _number(m.group("num"))
    if m.group("sign") in ("-", "−"):
        number = -number
    scale, percent, known = _tail(m.group("tail"), unit)
    if not known:
        raise Unreadable(f"“{first}” is not a number I can read")
    used = 1
    following = tokens[1].rstrip(PUNCT).lower() if len(tokens) > 1 else ""
    if following and scale is None and not percent:
        if following == "%":
            percent, used = True, 2
        elif unit and following in _words(unit):
            used = 2
    if percent:
        return Amount(_percent(number, kr_type, unit), used)
    if scale is not None:
        number = number * scale / unit_scale(unit)
    if kr_type == KRType.MANUAL and not 0.0 <= number <= 1.0:
        raise Unreadable("a score is between 0.0 and 1.0 (or write it as a percentage, "
                         "like 70%)")
    if abs(number) > 1e15:
        raise Unreadable("that is not a usable number")
    return Amount(round(number, 9), used)


def _percent(number: float, kr_type: KRType, unit: str | None) -> float:
    if kr_type == KRType.MANUAL:
        if not 0.0 <= number <= 100.0:
            raise Unreadable("a score is between 0% and 100%")
        return round(number / 100.0, 9)
    if _is_percent_kr(kr_type, unit):
        return number
    what = f"counted in {unit}" if unit else "not a percentage"
    raise Unreadable(f"this key result is {what}: write the number without %")
