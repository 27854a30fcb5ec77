"""Leader lease: one row per lock name in `agent_lease`, so two agents on one store never both run a job.

Portable (SQLite, PostgreSQL): a holder takes or renews the lease with one conditional UPDATE
(`... WHERE name = :name AND (expires_at <= :now OR holder = :me)`), and the first holder creates the
row with an INSERT that only one agent can win (primary key). The leader renews well before the lease
expires (every ttl / 3); an agent that stops renewing (crash, kill -9, network loss) loses the lease
after `ttl` and another agent takes over. Every job checks the lease right before it runs.

Fencing: each take (not a renewal) raises the row's `generation`. The holder remembers the generation it
took; `sfops.agent.runs.claim_run` records a run only while the row still has this holder *and* this
generation, in the same transaction, so a leader that lost the lease without noticing (frozen process,
dead database session) cannot record a run as leader after another agent took over.
Clocks of the agents sharing a store must agree to well under the ttl (NTP).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from dataclasses import dataclass

from sfops.clock import Clock, aware, utcnow
from sfops.store import Store, agent_leases


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
    generation: int = 0


class LeaderLease:
    """Take, renew and release named leases in the store for one holder."""

    def __init__(self, store: Store, holder: str, ttl: dt.timedelta, clock: Clock = utcnow) -> None:
        self.store = store
        self.holder = holder
        self.ttl = ttl
        self.clock = clock
        self.generations: dict[str, int] = {}

    def _now(self) -> dt.datetime:
        return self.clock().astimezone(dt.UTC)

    def hold(self, name: str) -> bool:
        """Take the lease if it is free or expired, or renew it if we hold it. True if we hold it now."""
        now = self._now()
        generation = agent_leases.take_or_renew(self.store, name, self.holder, now, now + self.ttl)
        if generation is None:
            self.generations.pop(name, None)
            return False
        self.generations[name] = generation
        return True

    def renew(self, name: str) -> bool:
        """Extend a lease we hold at the generation we took; never takes one. False (and forgotten) if lost."""
        generation = self.generations.get(name)
        if generation is None:
            return False
        now = self._now()
        if agent_leases.renew(self.store, name, self.holder, generation, now, now + self.ttl):
            return True
        self.generations.pop(name, None)
        return False

    def generation(self, name: str) -> int | None:
        """The generation we took `name` at, if we believe we hold it (the fencing token for claims)."""
        return self.generations.get(name)

    def release(self, name: str) -> bool:
        """Give the lease up now (only if we hold it) so another agent can take over at once."""
        self.generations.pop(name, None)
        return agent_leases.expire(self.store, name, self.holder, self._now())

    def info(self, name: str) -> LeaseInfo | None:
        """The lease row, if any (whoever holds it)."""
        m = agent_leases.lease_row(self.store, name)
        if m is None:
            return None
        return LeaseInfo(
            name=m["name"],
            holder=m["holder"],
            acquired_at=aware(m["acquired_at"]),
            renewed_at=aware(m["renewed_at"]),
            expires_at=aware(m["expires_at"]),
            generation=int(m.get("generation") or 0),
        )

    def is_live(self, info: LeaseInfo | None) -> bool:
        """Whether a lease is held by anyone right now."""
        return info is not None and info.expires_at > self._now()
