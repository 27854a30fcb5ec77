"""The `agent_member` table: a heartbeat row per running agent (see sfops.agent.spread)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from sfops.store import Store, schema


def heartbeat(store: Store, holder: str, now: dt.datetime, expires_at: dt.datetime) -> None:
    """Insert or refresh `holder`'s row (portable upsert)."""
    table = schema.agent_member
    with store.begin() as conn:
        if conn.execute(
            table.update().where(table.c.holder == holder).values(seen_at=now, expires_at=expires_at)
        ).rowcount:
            return
    try:
        with store.begin() as conn:
            conn.execute(table.insert().values(holder=holder, started_at=now, seen_at=now, expires_at=expires_at))
    except IntegrityError:  # our own row, written meanwhile by another thread of this agent
        heartbeat(store, holder, now, expires_at)


def live_members(store: Store, now: dt.datetime) -> list[str]:
    """Holders whose heartbeat has not expired, sorted."""
    table = schema.agent_member
    with store.engine.connect() as conn:
        return sorted(conn.execute(select(table.c.holder).where(table.c.expires_at > now)).scalars())


def leave(store: Store, holder: str, *, forget_before: dt.datetime | None = None) -> None:
    """Remove `holder`'s row (a clean stop), and rows that expired before `forget_before`."""
    table = schema.agent_member
    with store.begin() as conn:
        conn.execute(delete(table).where(table.c.holder == holder))
        if forget_before is not None:
            conn.execute(delete(table).where(table.c.expires_at < forget_before))
