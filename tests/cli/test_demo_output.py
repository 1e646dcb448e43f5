"""What a first-time reader of ``okr demo`` sees: 100 columns, words kept whole, plain words,
and the suggested commands run as printed."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.calendar import timeline
from app.cli import main
from app.demo import phases
from app.demo.text import WIDTH, shorten, wrap

INTERNAL = ["fake", "in-process", "occurrence", "(kind", "kind,", "exactly-once", "prompt",
            "simulation means", "bench/", "stored in UTC"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    where = tmp_path_factory.mktemp("demo-run")
    before = Path.cwd()
    os.chdir(where)
    try:
        result = CliRunner().invoke(main, ["--log-level", "WARNING", "demo", "--no-color"])
    finally:
        os.chdir(before)
    assert result.exit_code == 0, result.output
    yield where, result.stdout.split("\n")


@pytest.mark.slow
def test_every_line_fits_100_columns(demo: tuple[Path, list[str]]) -> None:
    _, lines = demo
    too_wide = [line for line in lines if len(line) > WIDTH]
    assert too_wide == []


@pytest.mark.slow
def test_no_word_is_cut(demo: tuple[Path, list[str]]) -> None:
    """What is shortened ends in a whole word before its ellipsis ("onboarding…", never
    "experi…"): every such word also appears whole in the sample or elsewhere in the output."""
    _, lines = demo
    text = "\n".join(lines)
    before_ellipsis = re.findall(r"(\w+)…", text)
    assert before_ellipsis  # the tree and the transcript do shorten
    # The full texts: the sample organisation and the planning reminders' wording.
    sources = phases.sample_text() + Path(timeline.__file__).read_text(encoding="utf-8")
    whole = set(re.findall(r"\w+", re.sub(r"\w+…", " ", text) + sources))
    assert sorted({w for w in before_ellipsis if w not in whole}) == []


@pytest.mark.slow
def test_a_shortened_title_never_touches_the_next_column(demo: tuple[Path, list[str]]) -> None:
    """A cut title ends in "…" and a space, however long the value beside it ("350 tickets")."""
    _, lines = demo
    touching = [line for line in lines if re.search(r"…\S", line)]
    assert touching == []


@pytest.mark.slow
def test_it_speaks_the_words_of_people_who_run_okrs(demo: tuple[Path, list[str]]) -> None:
    _, lines = demo
    text = "\n".join(lines).lower()
    assert [word for word in INTERNAL if word in text] == []
    assert "Nobody got the same message twice." in lines


@pytest.mark.slow
def test_the_suggested_commands_run_as_printed(demo: tuple[Path, list[str]]) -> None:
    where, lines = demo
    start = next(i for i, line in enumerate(lines) if line.startswith("Explore the demo"))
    commands = []
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        commands.append(line[2:])
    assert any(c.startswith("okr checkin ") for c in commands)
    assert any(c.startswith("okr report ") for c in commands)  # the report's own suggestion
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "VIRTUAL_ENV")}
    env["PATH"] = "/usr/bin:/bin"  # a fresh shell: okr is not on PATH until the first line
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", "\n".join(commands)], cwd=where,
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, (commands, run.stdout[-2000:], run.stderr[-2000:])
    assert "recorded a check-in on apac-japan" in run.stdout
    assert "# FY27-Q1 OKR report" in run.stdout
    assert "Traceback" not in run.stderr


def test_wrap_keeps_words_whole_and_the_indent() -> None:
    line = "  " + " ".join(f"word{i}" for i in range(60))
    wrapped = wrap(line, width=40).split("\n")
    assert all(len(part) <= 40 for part in wrapped)
    assert wrapped[0].startswith("  word0") and all(p.startswith("    w") for p in wrapped[1:])
    assert " ".join(" ".join(wrapped).split()) == " ".join(line.split())  # nothing cut or lost


def test_shorten_cuts_between_words() -> None:
    assert shorten("Deliver an exceptional customer onboarding experience", 30) == \
        "Deliver an exceptional…"
    assert shorten("short", 30) == "short"
    assert len(shorten("x " * 40, 11)) <= 11
