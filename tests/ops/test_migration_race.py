"""Schema upgrades are safe to race, and a schema newer than the code is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from app.db import make_engine
from app.migrate import ADVISORY_LOCK_KEY, SchemaTooNew, scripts, upgrade
from tests.dbutil import fresh_database
from tests.ops.procs import okr, started

pytestmark = pytest.mark.slow

KINDS = ["sqlite", "postgresql"]


@pytest.mark.parametrize("kind", KINDS)
def test_three_upgrades_started_together_all_succeed(kind: str, tmp_path: Path) -> None:
    head = scripts().get_current_head()
    with fresh_database(kind, tmp_path) as url:
        procs = [started("db", "upgrade", database_url=url, cwd=tmp_path) for _ in range(3)]
        results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
        for code, out, err in results:
            assert code == 0, f"exit {code}\n{out}\n{err}"
            assert "Traceback" not in err
        said = sorted(out.split(":")[0] for _, out, _ in results)
        assert said == [f"created the database schema (revision {head})",
                        *[f"the database schema is already current (revision {head})"] * 2]
        again = okr("db", "upgrade", database_url=url, cwd=tmp_path)
        assert again.returncode == 0 and "already current" in again.stdout


def _stamp_unknown(url: str, revision: str = "9999") -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    finally:
        engine.dispose()


def _refused(result: object, revision: str = "9999") -> None:
    code, out, err = result.returncode, result.stdout, result.stderr  # type: ignore[attr-defined]
    assert code == 1, f"exit {code}\n{out}\n{err}"
    assert "Traceback" not in err and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert f"the database schema is at revision {revision}" in lines[0]
    assert "newer release" in lines[0]


@pytest.mark.parametrize("kind", KINDS)
def test_a_schema_newer_than_the_code_is_refused(kind: str, tmp_path: Path) -> None:
    with fresh_database(kind, tmp_path) as url:
        _stamp_unknown(url)
        _refused(okr("db", "upgrade", database_url=url, cwd=tmp_path))
        serve = okr("serve", "--host", "127.0.0.1", "--port", "9", database_url=url,
                    cwd=tmp_path, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="s",
                    SLACK_API_URL="http://127.0.0.1:9/")
        _refused(serve)
        _refused(okr("worker", database_url=url, cwd=tmp_path, SLACK_BOT_TOKEN="xoxb-test",
                     SLACK_API_URL="http://127.0.0.1:9/"))
        engine = make_engine(url)
        try:  # nothing was touched
            with engine.connect() as conn:
                assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() \
                    == "9999"
        finally:
            engine.dispose()


def test_the_lock_is_given_back_when_an_upgrade_is_refused(tmp_path: Path) -> None:
    with fresh_database("postgresql", tmp_path) as url:
        _stamp_unknown(url)
        engine, other = make_engine(url), make_engine(url)
        try:
            with pytest.raises(SchemaTooNew):
                upgrade(engine)  # its pooled connection stays open
            with other.connect() as conn:
                key = {"key": ADVISORY_LOCK_KEY}
                assert conn.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar()
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), key)
        finally:
            engine.dispose()
            other.dispose()
