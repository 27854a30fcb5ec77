"""The `change_event` table (migration 6): org changes copied from the org (DeployRequest, SetupAuditTrail),
one row per (org, source, id); each source keeps a watermark in `state`, moved in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select

from sfops.store import Store, schema


def save_changes(
    store: Store,
    org: str,
    source: str,
    rows: Sequence[Mapping[str, Any]],
    watermark_key: str | None = None,
    watermark: dt.datetime | None = None,
) -> tuple[int, int]:
    """Insert new rows, update known ones (a deploy's status moves on) and move the watermark: (new, updated)."""
    org = store.org_key(org)  # an alias: its org id once known (sfops.store.org_keys)
    table = schema.change_event
    inserted = updated = 0
    with store.begin() as conn:
        ids = [r["id"] for r in rows]
        known = (
            set(
                conn.execute(
                    select(table.c.id).where(table.c.org == org, table.c.source == source, table.c.id.in_(ids))
                ).scalars()
            )
            if ids
            else set()
        )
        for row in rows:
            values = {**row, "org": org, "source": source}
            if row["id"] in known:
                conn.execute(
                    table.update()
                    .where(table.c.org == org, table.c.source == source, table.c.id == row["id"])
                    .values(**values)
                )
                updated += 1
            else:
                conn.execute(table.insert().values(**values))
                inserted += 1
        if watermark_key and watermark is not None:
            current = conn.execute(select(schema.state.c.value).where(schema.state.c.key == watermark_key)).scalar()
            if current is None or watermark > dt.datetime.fromisoformat(current):
                store.set_state(watermark_key, watermark.astimezone(dt.UTC).isoformat(), conn=conn)
    return inserted, updated


def change_rows(
    store: Store,
    org: str,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    sources: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Stored changes of one org in [since, until], newest first."""
    org = store.org_key(org)  # an alias: its org id once known (sfops.store.org_keys)
    table = schema.change_event
    query = select(table).where(table.c.org == org).order_by(table.c.at.desc(), table.c.id)
    if since is not None:
        query = query.where(table.c.at >= since)
    if until is not None:
        query = query.where(table.c.at <= until)
    if sources:
        query = query.where(table.c.source.in_(list(sources)))
    with store.engine.connect() as conn:
        out = []
        for row in conn.execute(query):
            values = dict(row._mapping)
            if values["at"].tzinfo is None:
                values["at"] = values["at"].replace(tzinfo=dt.UTC)
            out.append(values)
        return out
