"""The `notification` table: the incidents' notification outbox, one row per (notification, channel).

A row is written before it is sent; its `status` says where it is (the statuses are sfops.incidents.notify's).
Rows come out as plain dicts with datetimes as stored (SQLite gives them back without tzinfo).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import func, select

from sfops.store import Store, inserted_id, schema

# "org" in these rows is the alias the row was made through (the JSON field users read)
OUTBOX_COLUMNS = (
    "id",
    "org",
    "incident_id",
    "channel",
    "kind",
    "phase",
    "status",
    "attempts",
    "last_error",
    "created_at",
    "next_attempt_at",
    "sent_at",
)


def insert_notification(store: Store, values: Mapping[str, Any]) -> int:
    """Append one outbox row (its `alias` column says which org: stored under the org id); returns its id."""
    row = {**values, "org": store.org_key(str(values["alias"]))}
    with store.begin() as conn:
        return inserted_id(conn.execute(schema.notification.insert().values(**row)))


def claim(
    store: Store, row_id: int, *, claimable: Collection[str], status: str, at: dt.datetime
) -> tuple[dict[str, Any], bool]:
    """Read a row and, in the same transaction, move it to `status` if its status is one of `claimable` and
    nobody changed it meanwhile: (the row as read, whether this caller claimed it)."""
    table = schema.notification
    with store.begin() as conn:
        row = dict(conn.execute(select(table).where(table.c.id == row_id)).mappings().one())
        claimed = conn.execute(
            table.update()
            .where(table.c.id == row_id, table.c.status == row["status"], table.c.status.in_(list(claimable)))
            .values(status=status, next_attempt_at=at)
        ).rowcount
    return row, bool(claimed)


def update_notification(store: Store, row_id: int, values: Mapping[str, Any]) -> None:
    """Set some columns of one outbox row."""
    table = schema.notification
    with store.begin() as conn:
        conn.execute(table.update().where(table.c.id == row_id).values(**values))


def release_stuck(
    store: Store, alias: str, *, status: str, claimed_before: dt.datetime, new_status: str, last_error: str
) -> None:
    """Rows of `org` left in `status` since before `claimed_before` go to `new_status` with `last_error`."""
    table = schema.notification
    with store.begin() as conn:
        conn.execute(
            table.update()
            .where(
                table.c.org == store.org_key(alias), table.c.status == status, table.c.next_attempt_at <= claimed_before
            )
            .values(status=new_status, last_error=last_error)
        )


def queued(store: Store, alias: str, statuses: Collection[str]) -> list[tuple[int, dt.datetime | None, str]]:
    """(id, next_attempt_at, status) of the rows of `org` in one of `statuses`, oldest first."""
    table = schema.notification
    query = (
        select(table.c.id, table.c.next_attempt_at, table.c.status)
        .where(table.c.org == store.org_key(alias), table.c.status.in_(list(statuses)))
        .order_by(table.c.id)
    )
    with store.engine.connect() as conn:
        return [(row_id, next_at, status) for row_id, next_at, status in conn.execute(query)]


def outbox_rows(
    store: Store, alias: str | None = None, statuses: Collection[str] | None = None, incident_id: str | None = None
) -> list[dict[str, Any]]:
    """Outbox rows (newest first) without their payloads, filtered; `incident` is the incident's number
    (INC-00001) from the local mirror, None when the mirror does not have it."""
    table, incident = schema.notification, schema.incident
    shown = [
        func.coalesce(table.c.alias, table.c.org).label("org") if name == "org" else table.c[name]
        for name in OUTBOX_COLUMNS
    ]
    query = (
        select(*shown, incident.c.name.label("incident"))
        .select_from(
            table.outerjoin(incident, (incident.c.org == table.c.org) & (incident.c.id == table.c.incident_id))
        )
        .order_by(table.c.id.desc())
    )
    if alias:
        query = query.where(table.c.org == store.org_key(alias))
    if statuses:
        query = query.where(table.c.status.in_(list(statuses)))
    if incident_id:
        query = query.where((table.c.incident_id == incident_id) | (incident.c.name == incident_id))
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
