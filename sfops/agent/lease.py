"""Leader lease: one row per lock name in `agent_lease`, so two agents on one store never both run a job.

Portable (SQLite, PostgreSQL): a holder takes or renews the lease with one conditional UPDATE
(`... WHERE name = :name AND (expires_at <= :now OR holder = :me)`), and the first holder creates the
row with an INSERT that only one agent can win (primary key). The leader renews well before the lease
expires (every ttl / 3); an agent that stops renewing (crash, kill -9, network loss) loses the lease
after `ttl` and another agent takes over. Every job checks the lease right before it runs.
Clocks of the agents sharing a store must agree to well under the ttl (NTP).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import case, or_, select
from sqlalchemy.exc import IntegrityError

from sfops.store import Store, schema

Clock = Callable[[], dt.datetime]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def default_holder() -> str:
    """host:pid:random — unique per agent process."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class LeaseInfo:
    """Who holds a lease and until when."""

    name: str
    holder: str
    acquired_at: dt.datetime
    renewed_at: dt.datetime
    expires_at: dt.datetime


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class LeaderLease:
    """Take, renew and release named leases in the store for one holder."""

    def __init__(self, store: Store, holder: str, ttl: dt.timedelta, clock: Clock = _utcnow) -> None:
        self.store = store
        self.holder = holder
        self.ttl = ttl
        self.clock = clock

    def _now(self) -> dt.datetime:
        return self.clock().astimezone(dt.UTC)

    def hold(self, name: str) -> bool:
        """Take the lease if it is free or expired, or renew it if we hold it. True if we hold it now."""
        now = self._now()
        table = schema.agent_lease
        with self.store.begin() as conn:
            updated = conn.execute(
                table.update()
                .where(table.c.name == name, or_(table.c.holder == self.holder, table.c.expires_at <= now))
                .values(holder=self.holder, renewed_at=now, expires_at=now + self.ttl,
                        acquired_at=case((table.c.holder == self.holder, table.c.acquired_at), else_=now))
            ).rowcount
        if updated:
            return True
        try:
            with self.store.begin() as conn:
                conn.execute(table.insert().values(name=name, holder=self.holder, acquired_at=now,
                                                   renewed_at=now, expires_at=now + self.ttl))
        except IntegrityError:
            return False  # someone else holds a live lease (or won the race to create it)
        return True

    def release(self, name: str) -> bool:
        """Give the lease up now (only if we hold it) so another agent can take over at once."""
        now = self._now()
        table = schema.agent_lease
        with self.store.begin() as conn:
            return bool(conn.execute(table.update().where(table.c.name == name, table.c.holder == self.holder)
                                     .values(expires_at=now)).rowcount)

    def info(self, name: str) -> LeaseInfo | None:
        """The lease row, if any (whoever holds it)."""
        table = schema.agent_lease
        with self.store.engine.connect() as conn:
            row = conn.execute(select(table).where(table.c.name == name)).first()
        if row is None:
            return None
        m = row._mapping
        return LeaseInfo(name=m["name"], holder=m["holder"], acquired_at=_aware(m["acquired_at"]),
                         renewed_at=_aware(m["renewed_at"]), expires_at=_aware(m["expires_at"]))

    def is_live(self, info: LeaseInfo | None) -> bool:
        """Whether a lease is held by anyone right now."""
        return info is not None and info.expires_at > self._now()
