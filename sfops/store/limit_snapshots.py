"""The `limit_snapshot` table: one row per limit (and per connected app) per snapshot of an org's /limits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from sfops.store import Store, schema

COLUMNS = ("taken_at", "name", "app", "max", "remaining")


def insert_snapshot(store: Store, alias: str, taken_at: dt.datetime, rows: Sequence[dict[str, Any]]) -> None:
    """Append one snapshot in one transaction: `rows` hold name, app ("" for org-wide), max, remaining."""
    if not rows:
        return
    with store.begin() as conn:
        key = store.org_key(alias, conn)
        conn.execute(
            schema.limit_snapshot.insert(), [{"org": key, "alias": alias, "taken_at": taken_at, **r} for r in rows]
        )


def snapshot_records(
    store: Store, alias: str, since: dt.datetime | None = None, *, org_wide_only: bool = False
) -> list[tuple[Any, ...]]:
    """(taken_at, name, app, max, remaining) tuples of the snapshots of the org of `alias` (whichever alias
    took them), oldest first (taken_at as stored)."""
    table = schema.limit_snapshot
    query = (
        select(*(table.c[c] for c in COLUMNS))
        .where(table.c.org == store.org_key(alias))
        .order_by(table.c.taken_at, table.c.id)
    )
    if since is not None:
        query = query.where(table.c.taken_at >= since)
    if org_wide_only:
        query = query.where(table.c.app == "")
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(query).all()]
