"""``okr`` with a configuration or database it cannot use: one line on stderr naming what to
fix, exit status 1, no traceback; and import files with values YAML cannot build."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from app.cli import main

OKR = str(Path(sys.executable).parent / "okr")


@pytest.fixture(autouse=True)
def _clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env, no okr.db left behind
    for name in list(os.environ):
        if name.startswith(("OKR_", "SLACK_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)


def okr(*args: str) -> Result:
    return CliRunner().invoke(main, ["--log-level", "WARNING", *args])


def _one_line_error(result: Result) -> str:
    assert result.exit_code == 1, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception  # not an escaped error
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


@pytest.mark.parametrize(("url", "says"), [
    ("postgresql://okr:hunter2@127.0.0.1:1/okr", "postgresql://***@127.0.0.1:1/okr"),
    ("nonsense", "DATABASE_URL nonsense cannot be used"),
    ("mysql://db.example/okr", "DATABASE_URL mysql://db.example/okr cannot be used"),
    ("postgresql://u:pw@[::1/x", "cannot be used"),
    ("sqlite:////nonexistent-okr-folder/okr.db", "the folder /nonexistent-okr-folder does not"),
])
@pytest.mark.parametrize("command", [["tree"], ["db", "upgrade"], ["token", "list"]])
def test_an_unusable_database_is_one_line(url: str, says: str, command: list[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    line = _one_line_error(okr(*command))
    assert says in line
    assert "hunter2" not in line


@pytest.mark.parametrize(("env", "says"), [
    ({"OKR_WEB_WORKERS": "abc"}, "OKR_WEB_WORKERS: Input should be a valid integer"),
    ({"OKR_WEB_THREADS": "0"}, "OKR_WEB_THREADS: Input should be greater than or equal to 1"),
])
def test_bad_settings_are_one_line_naming_the_variable(env: dict[str, str], says: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert says in _one_line_error(okr("tree"))


def test_a_real_process_prints_no_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OKR_", "SLACK_")) and k != "DATABASE_URL"}
    env["DATABASE_URL"] = "postgresql://okr@127.0.0.1:1/okr"
    done = subprocess.run([OKR, "tree"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("Error: cannot use the database at postgresql://***@")


@pytest.mark.parametrize(("yaml_text", "says"), [
    ("cycles:\n  - name: Q1\n    start: 2026-13-45\n    end: 2026-04-30\n",
     "line 3, column 12: YAML value error: '2026-13-45' is not a real date"),
    ("cycles:\n  - name: Q1\n    start: 2026-02-30\n    end: 2026-04-30\n",
     "'2026-02-30' is not a real date (day is out of range for month)"),
    ("settings:\n  holiday_dates: [2026-01-01 25:61:00]\n", "is not a real date"),
    ("settings:\n  fiscal_year_start_month: " + "9" * 5000 + "\n", "is not a usable number"),
    ('settings:\n  name: "acme\\0corp"\n', "line 2, column 9: YAML value error: a text contains "
                                          "a NUL character"),
    ("objectives: [\n", "YAML syntax error"),
])
def test_import_files_yaml_cannot_build_are_problems(yaml_text: str, says: str,
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'okr.db'}")
    path = tmp_path / "okrs.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    result = okr("import", str(path))
    assert result.exit_code == 1, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    assert says in result.output
    assert "nothing was imported" in result.output
