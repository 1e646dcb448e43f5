"""Alembic environment. The URL comes from the caller (``okr db upgrade``) or DATABASE_URL."""

from __future__ import annotations

from typing import Any

from alembic import context
from alembic.operations import ops
from sqlalchemy import JSON, ForeignKeyConstraint, pool
from sqlalchemy.dialects.postgresql import JSONB

from app.config import Settings
from app.db import make_engine
from app.models import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render our column types as plain SQLAlchemy types so migrations never import the app."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, (JSON, JSONB)):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')"
    return False


def defer_use_alter_fks(_context: Any, _revision: Any, directives: list[Any]) -> None:
    """Write ``use_alter`` foreign keys (objectives.aligned_kr_id -> key_results, which closes
    a cycle) as a separate step after both tables exist. Left inside CREATE TABLE, they are
    silently skipped on PostgreSQL."""
    script = directives[0]
    if script.upgrade_ops is None:
        return
    deferred: list[ForeignKeyConstraint] = []
    for op in script.upgrade_ops.ops:
        if isinstance(op, ops.CreateTableOp):
            fks = [c for c in op.columns if isinstance(c, ForeignKeyConstraint) and c.use_alter]
            op.columns = [c for c in op.columns if not any(c is fk for fk in fks)]
            deferred += fks
    for fk in deferred:
        table = fk.table.name
        script.upgrade_ops.ops.append(
            ops.ModifyTableOps(table, [ops.CreateForeignKeyOp.from_constraint(fk)]))
        script.downgrade_ops.ops.insert(
            0, ops.ModifyTableOps(table, [ops.DropConstraintOp.from_constraint(fk)]))


OPTIONS: dict[str, Any] = {"render_as_batch": True, "render_item": render_item,
                           "compare_type": True,
                           "process_revision_directives": defer_use_alter_fks}


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    return url or Settings().database_url


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
