"""The `error_event` table (migration 5): the error history of an org, one row per (org, source, id).

Each source keeps a watermark in the `state` table; rows and watermark move together in one transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from sfops.store import Store, schema

ERROR_COLUMNS = ("source", "category", "fingerprint", "entry_point", "exception_type", "message", "occurred_at")


def error_ids_present(store: Store, alias: str, source: str, ids: list[str]) -> set[str]:
    """Which of `ids` are already stored for (org, source)."""
    if not ids:
        return set()
    table = schema.error_event
    query = select(table.c.id).where(table.c.org == store.org_key(alias), table.c.source == source, table.c.id.in_(ids))
    with store.engine.connect() as conn:
        return set(conn.execute(query).scalars())


def save_errors(
    store: Store, alias: str, source: str, rows: list[dict[str, Any]], watermark_key: str, watermark: dt.datetime | None
) -> tuple[int, int]:
    """Insert the rows not stored yet and move the watermark forward, in one transaction: (inserted, known)."""
    table = schema.error_event
    alias = store.org_key(alias)  # stored under the org id once known (sfops.store.org_keys)
    with store.begin() as conn:
        ids = [r["id"] for r in rows]
        known = (
            set(
                conn.execute(
                    select(table.c.id).where(table.c.org == alias, table.c.source == source, table.c.id.in_(ids))
                ).scalars()
            )
            if ids
            else set()
        )
        fresh = [r for r in rows if r["id"] not in known]
        if fresh:
            conn.execute(table.insert(), [{"org": alias, "source": source, **r} for r in fresh])
        if watermark is not None:
            current = conn.execute(select(schema.state.c.value).where(schema.state.c.key == watermark_key)).scalar()
            if current is None or watermark > dt.datetime.fromisoformat(current):
                store.set_state(watermark_key, watermark.astimezone(dt.UTC).isoformat(), conn=conn)
    return len(fresh), len(rows) - len(fresh)


def error_records(store: Store, alias: str | None = None, since: dt.datetime | None = None) -> list[tuple[Any, ...]]:
    """(source, category, fingerprint, entry_point, exception_type, message, occurred_at) of stored errors."""
    table = schema.error_event
    query = select(*(table.c[name] for name in ERROR_COLUMNS))
    if alias is not None:
        query = query.where(table.c.org == store.org_key(alias))
    if since is not None:
        query = query.where(table.c.occurred_at >= since)
    with store.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]
