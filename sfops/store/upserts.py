"""Insert-or-update of one row as a single statement, so two processes cannot both insert it.

UPDATE-then-INSERT races between processes: both UPDATE nothing, both INSERT, and one fails with a
unique violation. SQLite (3.24+) and PostgreSQL have `INSERT ... ON CONFLICT DO UPDATE`; other
databases fall back to UPDATE-then-INSERT, retried once on an IntegrityError.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, and_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError


def upsert_row(conn: Connection, table: Table, keys: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """Insert `keys | values`, or update `values` of the row with those `keys` (its primary key)."""
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(table)
        statement = insert.values(**keys, **values).on_conflict_do_update(
            index_elements=[table.c[k] for k in keys], set_=dict(values)
        )
        conn.execute(statement)
        return
    where = and_(*(table.c[k] == v for k, v in keys.items()))
    for attempt in range(2):
        if conn.execute(table.update().where(where).values(**values)).rowcount:
            return
        try:
            with conn.begin_nested():
                conn.execute(table.insert().values(**keys, **values))
            return
        except IntegrityError:
            if attempt:
                raise


def insert_ignore(conn: Connection, table: Table, values: Mapping[str, Any], keys: Sequence[str]) -> bool:
    """Insert a row unless one with the same `keys` exists; True if this call inserted it."""
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(table)
        # RETURNING, not rowcount: a driver may report -1 for a statement that inserted nothing
        result = conn.execute(
            insert.values(**values)
            .on_conflict_do_nothing(index_elements=[table.c[k] for k in keys])
            .returning(table.c[keys[0]])
        )
        return result.first() is not None
    try:
        with conn.begin_nested():
            conn.execute(table.insert().values(**values))
    except IntegrityError:
        return False
    return True
