"""Numbers with their units, written one way on every Slack surface. Pure.

:func:`format_value` holds the rules:

================  =========  ===============  ============================================
value             unit       reads            rule
================  =========  ===============  ============================================
1.2               ``$M``     ``$1.2M``        money: the currency symbol goes first, the
300               ``€k``     ``€300k``        magnitude (k, M, B, bn) and any words after
9.44              ``$M ARR`` ``$9.44M ARR``   it follow the number without a space
1.2               ``M€``     ``€1.2M``        a symbol written last moves first too
-0.5              ``$M``     ``-$0.5M``       the sign goes before the symbol
1500              ``$``      ``$1,500``       thousands are separated by commas
45                ``%``      ``45%``          percent sticks to the number (also
99.9              ``% up``   ``99.9% up``     ``percent``, and ``%`` followed by words)
300               ``ms``     ``300 ms``       any other unit follows after a space
5                 ``days``   ``5 days``
1                 ``days``   ``1 day``        with exactly 1 a plural count noun reads
1                 ``game     ``1 game day``   singular (:func:`blocks.words.singular`);
                  days``                      abbreviations (``ms``, ``NPS``) stay
1.5               ``days``   ``1.5 days``
7                 (none)     ``7``
None              any        ``–``            no value yet (NaN too; infinity is ``∞``)
================  =========  ===============  ============================================

Numbers show at most two decimals (``0.125`` reads ``0.12``), integers without a decimal
point, huge magnitudes in scientific notation (``1e+20``), and units are cut to
``MAX_UNIT`` characters, so the result stays short whatever it is given.
"""

from __future__ import annotations

import math

from blocks.words import singular

MAX_UNIT = 40
CURRENCIES = "$€£¥₹"
MAGNITUDES = ("k", "K", "M", "B", "bn", "T")
PERCENT = ("%", "percent", "pct")
NONE = "–"


def number(value: float | None) -> str:
    """``1,500``, ``1.2``, ``0.12``: at most two decimals, never ``-0``."""
    if value is None or math.isnan(value):
        return NONE
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if abs(value) >= 1e15:
        return f"{value:.3g}"
    if float(value).is_integer():
        return f"{int(value):,}"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _money(value: float, unit: str) -> str | None:
    """``$1.2M`` for a money unit, None for any other unit."""
    if unit[0] in CURRENCIES:
        symbol, rest = unit[0], unit[1:]
    elif unit[-1] in CURRENCIES and unit[:-1].strip() in (*MAGNITUDES, ""):
        symbol, rest = unit[-1], unit[:-1].strip()
    else:
        return None
    shown = number(abs(value))
    sign = "-" if value < 0 and shown != "0" else ""
    return f"{sign}{symbol}{shown}{rest}"


def format_value(value: float | None, unit: str | None) -> str:
    """``value`` with ``unit`` as people write it (rules and examples above)."""
    if value is None or math.isnan(value):
        return NONE
    unit = " ".join((unit or "").split())[:MAX_UNIT]
    if not unit:
        return number(value)
    if unit in PERCENT or unit.startswith("%"):
        return f"{number(value)}{'%' if unit in PERCENT else unit}"
    money = _money(value, unit)
    if money is not None:
        return money
    return f"{number(value)} {singular(unit) if abs(value) == 1 else unit}"
