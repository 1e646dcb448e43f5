"""Bulk writes for set-based services (the import): many rows, few round trips.

On PostgreSQL new rows go in with ``COPY`` (several times faster than even a pipelined
executemany); elsewhere with batched INSERTs. Updates are batched by primary key.
Rows are plain dicts keyed by column name; these helpers bypass ORM events and the identity
map, so callers expire what they loaded afterwards.
"""

from __future__ import annotations

import json
from typing import Any

from psycopg import sql
from sqlalchemy import JSON, insert, null, update
from sqlalchemy.orm import Session


def _json_columns(model: type[Any]) -> frozenset[str]:
    return frozenset(c.key for c in model.__table__.columns if isinstance(c.type, JSON))


def bulk_insert(session: Session, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """INSERT many rows: COPY on PostgreSQL, batched INSERTs elsewhere.

    ``render_nulls`` keeps NULL columns in the statement so rows share one column set and
    batch together. JSON columns are the exception: a None there would be stored as JSON
    ``null``, so those keys are dropped and the column stays SQL NULL, as ORM inserts leave it.
    """
    if not rows:
        return
    if session.connection().dialect.name == "postgresql":
        session.flush()
        _copy(session, model, rows)
        return
    json_cols = _json_columns(model)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        if json_cols:
            row = {k: v for k, v in row.items() if v is not None or k not in json_cols}
        groups.setdefault(tuple(sorted(row)), []).append(row)
    stmt = insert(model).execution_options(render_nulls=True)
    for group in groups.values():
        session.execute(stmt, group)


def bulk_update(session: Session, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """UPDATE by primary key, batched per set of changed columns (JSON set to None: SQL NULL)."""
    json_cols = _json_columns(model)
    to_null: dict[str, list[int]] = {}
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        for col in json_cols & row.keys():
            if row[col] is None:
                to_null.setdefault(col, []).append(row["id"])
        row = {k: v for k, v in row.items() if k not in to_null or v is not None}
        if len(row) > 1:
            groups.setdefault(tuple(sorted(row)), []).append(row)
    for group in groups.values():
        session.execute(update(model), group)
    table = model.__table__
    for col, ids in to_null.items():
        session.execute(update(table).where(table.c.id.in_(ids)).values({col: null()}))


def _copy(session: Session, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """COPY rows into the model's table on the session's own connection and transaction.

    Columns missing from a row take their scalar Python-side default (as an ORM insert
    would); JSON values are sent as JSON text, None as SQL NULL.
    """
    table = model.__table__
    given = set().union(*(row.keys() for row in rows))
    columns = [c for c in table.columns if c.key in given or (
        c.default is not None and c.default.is_scalar)]
    defaults = {c.key: c.default.arg for c in columns
                if c.default is not None and c.default.is_scalar}
    json_cols = _json_columns(model)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(c.name) for c in columns))
    keys = [c.key for c in columns]
    driver = session.connection().connection.driver_connection
    assert driver is not None  # an open connection always has one
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            values = [row.get(k, defaults.get(k)) for k in keys]
            if json_cols:
                values = [json.dumps(v) if v is not None and k in json_cols else v
                          for k, v in zip(keys, values, strict=True)]
            copy.write_row(values)
