"""Every table's workspace lookups are indexed exactly once: by an index or unique constraint
that begins with ``workspace_id`` (which also serves a workspace's cascade delete), and not
again by an index of ``workspace_id`` alone, which would be upkeep on every write."""

from __future__ import annotations

from sqlalchemy import Engine, inspect


def _leading(engine: Engine) -> dict[str, list[tuple[str, list[str]]]]:
    """Per table with a ``workspace_id`` column: (name, columns) of each index, unique
    constraint and primary key whose first column is ``workspace_id``."""
    found: dict[str, list[tuple[str, list[str]]]] = {}
    schema = inspect(engine)
    for table in schema.get_table_names():
        if "workspace_id" not in {c["name"] for c in schema.get_columns(table)}:
            continue
        keys = [(str(i["name"]), [str(c) for c in i["column_names"]])
                for i in schema.get_indexes(table)]
        keys += [(str(u["name"]), list(u["column_names"]))
                 for u in schema.get_unique_constraints(table)]
        pk = schema.get_pk_constraint(table)
        keys.append((str(pk["name"]), list(pk["constrained_columns"])))
        found[table] = [(name, cols) for name, cols in keys if cols[:1] == ["workspace_id"]]
    return found


def test_workspace_lookups_are_indexed_once(db_engine: Engine) -> None:
    leading = _leading(db_engine)
    assert "key_results" in leading and "checkins" in leading
    unindexed = sorted(table for table, keys in leading.items() if not keys)
    assert unindexed == []
    redundant = sorted(
        (table, name) for table, keys in leading.items() for name, cols in keys
        if cols == ["workspace_id"] and any(len(other) > 1 for _n, other in keys))
    assert redundant == []
