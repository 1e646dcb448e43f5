"""Fitting the demo's output in a terminal: at most ``WIDTH`` columns, cut only between words,
and commands printed so that they run as shown from the directory the demo ran in."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import textwrap
from pathlib import Path

WIDTH = 100


def shorten(text: str, width: int) -> str:
    """``text`` in at most ``width`` columns, cut between words with an ellipsis."""
    if len(text) <= width:
        return text
    cut = text[: max(width - 1, 0)]
    if " " in cut and text[len(cut)] != " ":
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:·(-") + "…"


def wrap(text: str, width: int = WIDTH) -> str:
    """Each line of ``text`` wrapped at word boundaries; continuations keep the indent plus 2."""
    out: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip(" "))]
        out += textwrap.wrap(line, width=width, initial_indent="", subsequent_indent=indent + "  ",
                             break_long_words=False, break_on_hyphens=False,
                             drop_whitespace=True) or [line]
    return "\n".join(out)


def activate_lines() -> list[str]:
    """What makes ``okr`` the one running now, from the current directory: nothing when it is
    already the one on PATH, else activating its virtual environment (``.venv`` after
    ``make demo``)."""
    mine = Path(sys.prefix) / "bin" / "okr"
    on_path = shutil.which("okr")
    if not mine.exists() or (on_path and Path(on_path).resolve() == mine.resolve()):
        return []
    activate = mine.parent / "activate"
    if activate.exists():
        return [f"source {shlex.quote(_relative(activate))}"]
    return [f"export PATH={shlex.quote(_relative(mine.parent))}:\"$PATH\""]


def database_url(db_path: Path) -> str:
    return f"sqlite:///{_relative(db_path)}"


def _relative(path: Path) -> str:
    path = path.absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return os.fspath(path)
