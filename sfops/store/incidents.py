"""The `incident` table (the local mirror of Incident_Log__c) and `incident_event` (each incident's timeline).

Rows go in and come out as plain dicts keyed by column name; datetimes come out timezone-aware (UTC).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import or_, select

from sfops.clock import aware_row
from sfops.store import Store, inserted_id, schema
from sfops.store.upserts import upsert_row


def upsert_incidents(store: Store, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert or replace mirror rows (each with `alias` and `id`) in one transaction, under the org id of
    the alias (sfops.store.org_keys); returns how many."""
    table = schema.incident
    now = dt.datetime.now(dt.UTC)
    count = 0
    keys: dict[str, str] = {}
    with store.begin() as conn:
        for row in rows:
            alias = str(row["alias"])
            key = keys.get(alias) or keys.setdefault(alias, store.org_key(alias, conn))
            values = {k: v for k, v in row.items() if k != "id"}
            values["updated_at"] = now
            upsert_row(conn, table, {"org": key, "id": row["id"]}, values)  # racing mirrors both succeed
            count += 1
    return count


def find_incident(store: Store, alias: str, ref: str) -> dict[str, Any] | None:
    """The mirror row whose id or name (INC number) is `ref`."""
    table = schema.incident
    query = select(table).where(table.c.org == store.org_key(alias), or_(table.c.id == ref, table.c.name == ref))
    with store.engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return aware_row(row) if row else None


def incident_rows(store: Store, alias: str | None = None) -> list[dict[str, Any]]:
    """Every mirror row (of the org of `alias`, or all), by detection time."""
    table = schema.incident
    query = select(table).order_by(table.c.detected_at)
    if alias:
        query = query.where(table.c.org == store.org_key(alias))
    with store.engine.connect() as conn:
        return [aware_row(r) for r in conn.execute(query).mappings()]


def insert_event(
    store: Store,
    *,
    alias: str,
    incident_id: str,
    kind: str,
    actor: str,
    at: dt.datetime,
    note: str | None = None,
    status_from: str | None = None,
    status_to: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> int:
    """Append one timeline event; returns its id."""
    with store.begin() as conn:
        result = conn.execute(
            schema.incident_event.insert().values(
                org=store.org_key(alias),
                alias=alias,
                incident_id=incident_id,
                kind=kind,
                actor=actor,
                at=at,
                note=note,
                status_from=status_from,
                status_to=status_to,
                details=dict(details or {}),
            )
        )
        return inserted_id(result)


def event_rows(store: Store, alias: str, incident_id: str) -> list[dict[str, Any]]:
    """The incident's own timeline events, oldest first."""
    table = schema.incident_event
    query = (
        select(table)
        .where(table.c.org == store.org_key(alias), table.c.incident_id == incident_id)
        .order_by(table.c.at, table.c.id)
    )
    with store.engine.connect() as conn:
        return [aware_row(r) for r in conn.execute(query).mappings()]
