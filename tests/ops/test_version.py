"""``okr --version`` is the installed package's version."""

from __future__ import annotations

from importlib.metadata import version

from click.testing import CliRunner

from app.cli import main


def test_version_comes_from_the_package_metadata() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"okr, version {version('okr-checkin')}\n"
