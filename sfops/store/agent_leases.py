"""The `agent_lease` table: one row per lease name (see sfops.agent.lease for the protocol)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, or_, select
from sqlalchemy.exc import IntegrityError

from sfops.store import Store, schema


def take_or_renew(store: Store, name: str, holder: str, now: dt.datetime, expires_at: dt.datetime) -> bool:
    """Renew the lease if `holder` has it, take it if it has expired (one conditional UPDATE), or create
    it (an INSERT only one agent can win: primary key). True if `holder` holds it now."""
    if _renew_or_take(store, name, holder, now, expires_at):
        return True
    try:
        with store.begin() as conn:
            conn.execute(schema.agent_lease.insert().values(name=name, holder=holder, acquired_at=now,
                                                            renewed_at=now, expires_at=expires_at))
    except IntegrityError:
        # The row appeared meanwhile. Its creator may be this same holder in another thread (the renewal
        # and a job both start at once), so let the conditional UPDATE decide rather than answer False.
        return _renew_or_take(store, name, holder, now, expires_at)
    return True


def _renew_or_take(store: Store, name: str, holder: str, now: dt.datetime, expires_at: dt.datetime) -> bool:
    table = schema.agent_lease
    with store.begin() as conn:
        return bool(conn.execute(
            table.update()
            .where(table.c.name == name, or_(table.c.holder == holder, table.c.expires_at <= now))
            .values(holder=holder, renewed_at=now, expires_at=expires_at,
                    acquired_at=case((table.c.holder == holder, table.c.acquired_at), else_=now))
        ).rowcount)


def expire(store: Store, name: str, holder: str, now: dt.datetime) -> bool:
    """Let the lease expire at `now` if `holder` has it; False if it does not."""
    table = schema.agent_lease
    with store.begin() as conn:
        return bool(conn.execute(table.update().where(table.c.name == name, table.c.holder == holder)
                                 .values(expires_at=now)).rowcount)


def lease_row(store: Store, name: str) -> dict[str, Any] | None:
    """The lease's row (datetimes as stored), or None."""
    table = schema.agent_lease
    with store.engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.name == name)).mappings().first()
    return dict(row) if row is not None else None
