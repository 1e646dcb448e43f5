"""One rule for every CSV this project writes: a cell a spreadsheet would read as a formula
stays text.

Cells come from people (titles, notes, Slack display names), and a spreadsheet runs a cell
that starts with ``=``, ``+``, ``-`` or ``@`` (tab and carriage return too) as a formula. Such
text gets a leading ``'``, which spreadsheets show as text. Numbers stay numbers: ``-5`` as a
number is not a formula. ``app.reports`` imports this too.
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """``value`` as a CSV cell: None is empty, numbers as they are, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
