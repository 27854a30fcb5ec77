"""The `agent_lease` table: one row per lease name (see sfops.agent.lease for the protocol)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, case, or_, select
from sqlalchemy.exc import IntegrityError

from sfops.store import Store, schema


def take_or_renew(store: Store, name: str, holder: str, now: dt.datetime, expires_at: dt.datetime) -> int | None:
    """Renew the lease if `holder` has it, take it if it has expired (one conditional UPDATE), or create
    it (an INSERT only one agent can win: primary key). The lease generation `holder` holds now, or None.

    The generation is the fencing token: it goes up by one whenever the lease is taken rather than
    renewed (another holder's, or our own after it lapsed), so writes claimed with an older one are refused.
    """
    generation = _renew_or_take(store, name, holder, now, expires_at)
    if generation is not None:
        return generation
    try:
        with store.begin() as conn:
            conn.execute(
                schema.agent_lease.insert().values(
                    name=name, holder=holder, acquired_at=now, renewed_at=now, expires_at=expires_at, generation=1
                )
            )
    except IntegrityError:
        # The row appeared meanwhile. Its creator may be this same holder in another thread (the renewal
        # and a job both start at once), so let the conditional UPDATE decide rather than answer None.
        return _renew_or_take(store, name, holder, now, expires_at)
    return 1


def _renew_or_take(store: Store, name: str, holder: str, now: dt.datetime, expires_at: dt.datetime) -> int | None:
    table = schema.agent_lease
    ours_and_live = and_(table.c.holder == holder, table.c.expires_at > now)
    with store.begin() as conn:
        updated = conn.execute(
            table.update()
            .where(table.c.name == name, or_(table.c.holder == holder, table.c.expires_at <= now))
            .values(
                holder=holder,
                renewed_at=now,
                expires_at=expires_at,
                acquired_at=case((ours_and_live, table.c.acquired_at), else_=now),
                generation=case((ours_and_live, table.c.generation), else_=table.c.generation + 1),
            )
        ).rowcount
        if not updated:
            return None
        return int(conn.execute(select(table.c.generation).where(table.c.name == name)).scalar_one())


def renew(store: Store, name: str, holder: str, generation: int, now: dt.datetime, expires_at: dt.datetime) -> bool:
    """Extend the lease only if `holder` still has it at `generation` and it has not lapsed (never takes)."""
    table = schema.agent_lease
    with store.begin() as conn:
        return bool(
            conn.execute(
                table.update()
                .where(
                    table.c.name == name,
                    table.c.holder == holder,
                    table.c.generation == generation,
                    table.c.expires_at > now,
                )
                .values(renewed_at=now, expires_at=expires_at)
            ).rowcount
        )


def expire(store: Store, name: str, holder: str, now: dt.datetime) -> bool:
    """Let the lease expire at `now` if `holder` has it; False if it does not."""
    table = schema.agent_lease
    with store.begin() as conn:
        return bool(
            conn.execute(
                table.update().where(table.c.name == name, table.c.holder == holder).values(expires_at=now)
            ).rowcount
        )


def lease_row(store: Store, name: str) -> dict[str, Any] | None:
    """The lease's row (datetimes as stored), or None."""
    table = schema.agent_lease
    with store.engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.name == name)).mappings().first()
    return dict(row) if row is not None else None
