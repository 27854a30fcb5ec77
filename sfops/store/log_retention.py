"""Retention of the logs area's tables: `apex_log` (by StartTime) and `error_event` (by time)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from sfops.store import Store, schema


def prune(store: Store, alias: str, before: dt.datetime, *, dry_run: bool = False) -> dict[str, int]:
    """Delete stored logs and errors of `org` older than `before`, in one transaction; counts per table.

    Only these two tables are touched: watermarks (in `state`) stay, so pruned logs are never pulled again.
    """
    targets = ((schema.apex_log, schema.apex_log.c.start_time), (schema.error_event, schema.error_event.c.occurred_at))
    counts: dict[str, int] = {}
    key = store.org_key(alias)
    with store.begin() as conn:
        for table, column in targets:
            condition = (table.c.org == key) & (column < before)
            if dry_run:
                query = select(func.count()).select_from(table).where(condition)
                counts[table.name] = int(conn.execute(query).scalar_one())
            else:
                counts[table.name] = conn.execute(table.delete().where(condition)).rowcount or 0
    return counts
