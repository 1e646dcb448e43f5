"""PostgreSQL sessions run in UTC whatever the server or database is configured with, and
instants come back as aware UTC datetimes on every path (ORM, Core, the read model's plain
rows)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text

from app.db import make_engine, make_session_factory
from app.migrate import upgrade
from app.models import Workspace
from app.services.okrs import rows
from tests.dbutil import fresh_postgres_database


def test_sessions_are_in_utc_even_when_the_database_says_otherwise() -> None:
    with fresh_postgres_database() as url:
        setup = make_engine(url, isolation_level="AUTOCOMMIT")
        with setup.connect() as conn:
            name = conn.execute(text("SELECT current_database()")).scalar_one()
            conn.execute(text(f'ALTER DATABASE "{name}" SET timezone TO \'Pacific/Auckland\''))
        setup.dispose()
        engine = make_engine(url)
        try:
            upgrade(engine)
            at = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
            with make_session_factory(engine)() as session:
                assert session.execute(text("SHOW TimeZone")).scalar_one() == "UTC"
                session.add(Workspace(name="acme", created_at=at))
                session.commit()
                orm = session.scalars(select(Workspace)).one().created_at
                core = session.execute(select(Workspace.created_at)).scalar_one()
                plain = rows.rows_of(session.connection(), select(Workspace.created_at))[0][0]
                # The date is the UTC date (in Auckland it is already the 3rd).
                assert session.execute(text("SELECT created_at::date FROM workspaces")
                                       ).scalar_one().day == 2
            for value in (orm, core, plain):
                assert value == at and value.tzinfo is UTC
            # A connection that asked for autocommit keeps it.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                assert conn.execute(text("SHOW TimeZone")).scalar_one() == "UTC"
        finally:
            engine.dispose()
