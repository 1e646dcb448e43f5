"""Running ``okr`` as real processes for the operations tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

OKR = str(Path(sys.executable).parent / "okr")


def okr_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of an ``okr`` process: this one's, less any Slack or log settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "OKR_", "DATABASE_URL"))}
    env.update(DATABASE_URL=database_url, **extra)
    return env


def okr(*args: str, database_url: str, cwd: Path, timeout: float = 120,
        **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OKR, *args], cwd=cwd, env=okr_env(database_url, **extra),
                          capture_output=True, text=True, timeout=timeout, check=False)


def started(*args: str, database_url: str, cwd: Path, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([OKR, *args], cwd=cwd, env=okr_env(database_url, **extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
