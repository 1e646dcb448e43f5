"""Plain rows, fast: Core selects read straight from the driver.

SQLAlchemy's ``Row`` objects cost about 2 us each to build, and the read model reads a few
hundred thousand rows per cycle. Here rows are the driver's tuples; only the columns whose
type has a result processor (here: UTC datetimes) are converted, exactly as SQLAlchemy
would. On PostgreSQL the statements of one read go out together in one pipeline (one round
trip) and come back in binary, which the driver reads in half the time text takes
(numbers, timestamps: 100,000 KR rows in 0.09 s instead of 0.17 s).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select

Rows = list[tuple[Any, ...]]


def rows_of(db: Connection, stmt: Select[Any]) -> Rows:
    """One select's rows as plain tuples."""
    return rows_many(db, [stmt])[0]


def rows_many(db: Connection, stmts: list[Select[Any]]) -> list[Rows]:
    """Each select's rows as plain tuples, in order.

    On PostgreSQL they go out in one pipeline (one round trip for all of them) and come
    back in binary; elsewhere they run one after the other.
    """
    if db.dialect.driver != "psycopg":
        return [_run(db, stmt) for stmt in stmts]
    raw = db.connection.driver_connection
    assert raw is not None  # an open connection always has one
    cursors = []
    with raw.pipeline():
        for stmt in stmts:
            compiled = stmt.compile(dialect=db.dialect,
                                    compile_kwargs={"render_postcompile": True})
            cursor = raw.cursor(binary=True)
            cursor.execute(str(compiled), _bind(compiled))
            cursors.append(cursor)
    out = []
    for stmt, cursor in zip(stmts, cursors, strict=True):
        with cursor:
            rows = cursor.fetchall()
            out.append(_processed(db, stmt, cursor.description, rows))
    return out


def _run(db: Connection, stmt: Select[Any]) -> Rows:
    result = db.execute(stmt)
    cursor = result.cursor
    assert cursor is not None  # a select has a cursor
    try:
        return _processed(db, stmt, cursor.description, list(cursor.fetchall()))
    finally:
        result.close()


def _bind(compiled: Any) -> dict[str, Any]:
    """A compiled statement's parameters after their types' bind processing."""
    params: dict[str, Any] = compiled.construct_params()
    for name, proc in compiled._bind_processors.items():
        if name in params:
            params[name] = proc(params[name])
    return params


def _processed(db: Connection, stmt: Select[Any], description: Any, rows: Rows) -> Rows:
    assert description is not None  # a select returns rows
    dialect = db.dialect
    procs = [(i, proc) for i, (col, desc) in enumerate(zip(stmt.selected_columns, description,
                                                            strict=True))
             if (proc := col.type.dialect_impl(dialect).result_processor(
                 dialect, desc[1])) is not None]  # desc[1]: the DB-API type code
    if not procs:
        return rows
    out = []
    for row in rows:
        values = list(row)
        for i, proc in procs:
            values[i] = proc(values[i])
        out.append(tuple(values))
    return out
