"""A small organisation with a check-in history, loaded through the ``okr`` command, and its
``okr export --format json`` for comparing one database with another."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.fixtures.scheduler import ORG

# `okr ARGS...` -> its standard output (raises on a non-zero exit).
Run = Callable[..., str]

CHECKINS = [
    ["kr-rev", "--value", "130", "--status", "green", "--note", "Two deals signed",
     "--as", "U0ADA", "--at", "2026-03-02T10:00:00Z"],
    ["kr-ttv", "--value", "11", "--status", "yellow", "--as", "U0BOB",
     "--at", "2026-03-03T15:00:00Z"],
    ["kr-walk", "--done", "--as", "U0CAT", "--at", "2026-03-04T01:00:00Z"],
    ["kr-nps", "--value", "40", "--confidence", "high", "--blockers", "waiting on the survey",
     "--as", "U0DEV", "--at", "2026-03-05T06:00:00Z"],
    ["kr-rev", "--value", "150", "--as", "U0ADA", "--at", "2026-03-09T10:00:00Z"],
    ["kr-docs", "--value", "45", "--note", "Ünïcode ✓ and 'quotes'", "--as", "U0EVE",
     "--at", "2026-03-10T12:00:00Z"],
]


def load(run: Run, folder: Path) -> None:
    org = folder / "org.yaml"
    org.write_text(ORG, encoding="utf-8")
    run("import", str(org))
    for args in CHECKINS:
        run("checkin", *args)


def exported(run: Run) -> dict[str, Any]:
    """The JSON export, less the instant it was taken."""
    data: dict[str, Any] = json.loads(run("export", "--format", "json"))
    data.pop("exported_at")
    return data


def checkin_count(data: dict[str, Any]) -> int:
    return sum(len(kr.get("checkins") or []) for o in data["objectives"]
               for kr in o["key_results"])
