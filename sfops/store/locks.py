"""Short named locks shared by every process on one store (a row in `state`), for work that two
processes must not do at once, such as writing the same kill-switch record and auditing it.

The row is inserted with ON CONFLICT DO NOTHING, so exactly one process takes it; a holder that
died leaves a row older than `ttl`, which the next taker replaces with one conditional UPDATE.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sfops.store import Store, schema
from sfops.store.upserts import insert_ignore

PREFIX = "lock."


class LockBusy(Exception):
    """Another process held the lock for longer than we were willing to wait."""


def try_lock(store: Store, name: str, *, ttl: dt.timedelta, holder: str) -> bool:
    """Take the lock if it is free or its holder's time is up; True if taken."""
    table = schema.state
    now = dt.datetime.now(dt.UTC)
    key = PREFIX + name
    with store.begin() as conn:
        if insert_ignore(conn, table, {"key": key, "value": {"holder": holder}, "updated_at": now}, ["key"]):
            return True
        taken = conn.execute(
            table.update()
            .where(table.c.key == key, table.c.updated_at < now - ttl)
            .values(value={"holder": holder}, updated_at=now)
        ).rowcount
    return bool(taken)


def unlock(store: Store, name: str) -> None:
    store.delete_state(PREFIX + name)


@contextmanager
def held(
    store: Store,
    name: str,
    *,
    ttl: dt.timedelta = dt.timedelta(minutes=2),
    wait: float = 30.0,
    poll: float = 0.2,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Hold the lock for the block, waiting up to `wait` seconds for it; raises LockBusy after that."""
    holder = uuid.uuid4().hex
    deadline = time.monotonic() + wait
    while not try_lock(store, name, ttl=ttl, holder=holder):
        if time.monotonic() >= deadline:
            raise LockBusy(name)
        sleep(poll)
    try:
        yield
    finally:
        unlock(store, name)
