"""The `oncall_override` table: who covers a rotation when; cancelled overrides stay for history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from sfops.store import Store, inserted_id, schema


def insert_override(
    store: Store,
    *,
    rotation: str,
    person: str,
    start: dt.datetime,
    end: dt.datetime,
    reason: str | None,
    created_by: str,
    created_at: dt.datetime,
) -> int:
    """Record an override; returns its id (ids grow, so a later override has a higher id)."""
    with store.begin() as conn:
        result = conn.execute(
            schema.oncall_override.insert().values(
                rotation=rotation,
                person=person,
                start=start,
                end=end,
                reason=reason,
                created_by=created_by,
                created_at=created_at,
            )
        )
        return inserted_id(result)


def cancel_override(store: Store, override_id: int, at: dt.datetime) -> bool:
    """Mark an active override cancelled at `at`; False when there is no active override with that id."""
    table = schema.oncall_override
    with store.begin() as conn:
        done = conn.execute(
            table.update().where(table.c.id == override_id, table.c.cancelled_at.is_(None)).values(cancelled_at=at)
        ).rowcount
    return bool(done)


def active_overrides(store: Store, rotation: str) -> list[dict[str, Any]]:
    """The rows of the rotation's overrides that are not cancelled, oldest first (datetimes as stored)."""
    table = schema.oncall_override
    query = select(table).where(table.c.rotation == rotation, table.c.cancelled_at.is_(None)).order_by(table.c.id)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
