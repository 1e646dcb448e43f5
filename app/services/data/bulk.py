"""Bulk writes for set-based services (the import): many rows, few round trips.

On PostgreSQL new rows go in with ``COPY`` (several times faster than even a pipelined
executemany), and updates are one ``UPDATE ... FROM unnest(arrays)`` per set of changed
columns (one statement instead of one per row: 10,000 rows in a few tens of milliseconds);
elsewhere rows go in with batched INSERTs and updates are batched by primary key.
Rows are plain dicts keyed by column name; these helpers bypass ORM events and the identity
map, so callers expire what they loaded afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from typing import Any

from psycopg import sql
from sqlalchemy import JSON, insert, null, text, update
from sqlalchemy.orm import Session


def _json_columns(model: type[Any]) -> frozenset[str]:
    return frozenset(c.key for c in model.__table__.columns if isinstance(c.type, JSON))


def bulk_insert(session: Session, model: type[Any], rows: Iterable[dict[str, Any]], *,
                columns: Collection[str] | None = None) -> None:
    """INSERT many rows: COPY on PostgreSQL, batched INSERTs elsewhere.

    ``rows`` may be a generator when ``columns`` names every key its rows have: on
    PostgreSQL each row is then built as COPY sends the ones before it. ``render_nulls``
    keeps NULL columns in the statement so rows share one column set and batch together.
    JSON columns are the exception: a None there would be stored as JSON ``null``, so those
    keys are dropped and the column stays SQL NULL, as ORM inserts leave it.
    """
    if session.connection().dialect.name == "postgresql":
        if columns is None:
            rows = list(rows)
            columns = set().union(*(row.keys() for row in rows))
        if columns:
            session.flush()
            _copy(session, model, rows, columns)
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
    postgres = session.connection().dialect.name == "postgresql"
    for columns, group in groups.items():
        if postgres and not json_cols & set(columns):
            _update_from_arrays(session, model, columns, group)
        else:
            session.execute(update(model), group)
    table = model.__table__
    for col, ids in to_null.items():
        session.execute(update(table).where(table.c.id.in_(ids)).values({col: null()}))


def reserve_ids(session: Session, model: type[Any], count: int) -> list[int] | None:
    """``count`` new primary keys, ascending, from the table's sequence on PostgreSQL (one
    query; the rows may then reference each other in one COPY). None elsewhere: SQLite
    assigns ids as rows go in."""
    if session.connection().dialect.name != "postgresql":
        return None
    if count == 0:
        return []
    table = model.__table__
    ids = session.execute(
        text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
             "FROM generate_series(1, :count)"),
        {"table": table.name, "count": count}).scalars().all()
    return sorted(ids)


def _copy(session: Session, model: type[Any], rows: Iterable[dict[str, Any]],
          given: Collection[str]) -> None:
    """COPY rows into the model's table on the session's own connection and transaction.

    Columns missing from a row take their scalar Python-side default (as an ORM insert
    would); JSON values are sent as JSON text, None as SQL NULL.
    """
    table = model.__table__
    columns = [c for c in table.columns if c.key in given or (
        c.default is not None and c.default.is_scalar)]
    defaults = {c.key: c.default.arg for c in columns
                if c.default is not None and c.default.is_scalar}
    json_cols = _json_columns(model)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(c.name) for c in columns))
    pairs = [(c.key, defaults.get(c.key)) for c in columns]
    json_at = [i for i, c in enumerate(columns) if c.key in json_cols]
    dumps = json.dumps
    driver = session.connection().connection.driver_connection
    assert driver is not None  # an open connection always has one
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        write = copy.write_row
        for row in rows:
            values = [row.get(k, default) for k, default in pairs]
            for i in json_at:
                if values[i] is not None:
                    values[i] = dumps(values[i])
            write(values)


def _update_from_arrays(session: Session, model: type[Any], columns: tuple[str, ...],
                        rows: list[dict[str, Any]]) -> None:
    """One UPDATE for every row: the new values travel as one typed array per column.

    Values go through each column type's bind processing, as ORM updates would (UTC
    datetimes are checked and converted). Bypasses ORM events, like the rest of this module.
    """
    session.flush()
    dialect = session.connection().dialect
    quote = dialect.identifier_preparer.quote
    table = model.__table__
    params: dict[str, list[Any]] = {}
    arrays = []
    for n, key in enumerate(columns):
        col = table.columns[key]
        proc = col.type.bind_processor(dialect)
        values = [row[key] for row in rows]
        params[f"a{n}"] = [proc(v) for v in values] if proc else values
        arrays.append(f"CAST(:a{n} AS {col.type.compile(dialect=dialect)}[])")
    names = [quote(table.columns[key].name) for key in columns]
    target = quote(table.name)
    sets = ", ".join(f"{name} = v.{name}" for key, name in zip(columns, names, strict=True)
                     if key != "id")
    session.execute(text(
        f"UPDATE {target} SET {sets} FROM unnest({', '.join(arrays)}) AS v({', '.join(names)}) "
        f"WHERE {target}.id = v.id"), params)


# Below this many new rows the planner's statistics stay close enough; autovacuum catches up.
ANALYZE_AFTER_ROWS = 1000


def refresh_statistics(session: Session, models: list[type[Any]], new_rows: int) -> None:
    """``ANALYZE`` the given tables on PostgreSQL after a bulk write of ``new_rows`` rows.

    Tables filled by one big import look empty to the planner until autovacuum analyses
    them (up to a minute later, or never for a quiet database): reads that follow at once
    (``okr export``, the first digest) then get nested loops over what it takes for one row
    each, and ran 40 s instead of 1 s. ``ANALYZE`` in the writing transaction samples its
    own new rows and takes only a lock that lets reads and writes through.
    """
    if new_rows < ANALYZE_AFTER_ROWS or session.connection().dialect.name != "postgresql":
        return
    session.flush()
    names = ", ".join(session.connection().dialect.identifier_preparer.quote(m.__tablename__)
                      for m in models)
    session.execute(text(f"ANALYZE {names}"))
