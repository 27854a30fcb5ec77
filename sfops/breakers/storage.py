"""Breaker storages beyond memory: the local store, and the org's Circuit_Breaker__c.

`OrgStorage` makes Python and Apex share one breaker: both read and write the same list
custom setting row (named after the integration). It reads the row at most once per
`read_ttl` seconds and PATCHes only the fields that changed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from typing import TYPE_CHECKING, Any

from sfops.breakers.core import Snapshot, State
from sfops.breakers.records import BREAKER_OBJECT, FIELDS, available_fields, changed_fields, snapshot_from_row, write
from sfops.salesforce import LockRetry, soql_quote

if TYPE_CHECKING:
    from sfops.salesforce import Org
    from sfops.store import Store

_DATETIMES = ("window_started_at", "opened_at", "last_failure", "last_success", "probe_until")
_DELTAS = ("cooldown", "window")


class StoreStorage:
    """A breaker kept in the local store (state table), shared by sfops processes on one machine."""

    def __init__(self, store: Store, name: str) -> None:
        self.store = store
        self.key = f"breakers.local.{name}"

    def load(self) -> Snapshot:
        raw = self.store.get_state(self.key)
        if not raw:
            return Snapshot()
        values = dict(raw)
        values["state"] = State(values["state"])
        for k in _DATETIMES:
            if values.get(k):
                values[k] = dt.datetime.fromisoformat(values[k])
        for k in _DELTAS:
            if values.get(k) is not None:
                values[k] = dt.timedelta(seconds=values[k])
        return Snapshot(**values)

    def save(self, snapshot: Snapshot, previous: Snapshot) -> None:
        values = dataclasses.asdict(snapshot)
        values["state"] = snapshot.state.value
        for k in _DATETIMES:
            values[k] = values[k].isoformat() if values[k] else None
        for k in _DELTAS:
            values[k] = values[k].total_seconds() if values[k] is not None else None
        self.store.set_state(self.key, values)


class OrgStorage:
    """A breaker kept in the org's Circuit_Breaker__c row `name` (created on first save)."""

    def __init__(
        self,
        org: Org,
        name: str,
        *,
        store: Store | None = None,
        read_ttl: float = 0.0,
        retry: LockRetry | None = None,
        clock: Any = None,
    ) -> None:
        self.org, self.name, self.store = org, name, store
        self.read_ttl = dt.timedelta(seconds=read_ttl)
        self.retry = retry or LockRetry()
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.record_id: str | None = None
        self._fields: set[str] | None = None
        self._cached: tuple[dt.datetime, Snapshot] | None = None
        # Circuit_Breaker__c has no probe-lease field: the lease is held per process.
        self._probe_until: dt.datetime | None = None
        self._lock = threading.Lock()

    def _available(self) -> set[str]:
        if self._fields is None:
            self._fields = available_fields(self.org, self.store)
        return self._fields

    def load(self) -> Snapshot:
        now = self.clock()
        with self._lock:
            if self._cached and now - self._cached[0] < self.read_ttl:
                return dataclasses.replace(self._cached[1], probe_until=self._probe_until)
        fields = sorted(name for name, _ in FIELDS.values() if name in self._available())
        # field names come from our mapping filtered by the describe; the name is quoted
        soql = f"SELECT Id, Name, {', '.join(fields)} FROM {BREAKER_OBJECT} WHERE Name = {soql_quote(self.name)}"  # noqa: S608
        rows = self.org.query(soql)
        snap = snapshot_from_row(rows[0]) if rows else Snapshot()
        with self._lock:
            self.record_id = str(rows[0]["Id"]) if rows else None
            self._cached = (now, snap)
            return dataclasses.replace(snap, probe_until=self._probe_until)

    def save(self, snapshot: Snapshot, previous: Snapshot) -> None:
        with self._lock:
            self._probe_until = snapshot.probe_until
        old = None if self.record_id is None else previous
        values = changed_fields(snapshot, old, self._available())
        if values or self.record_id is None:
            self.record_id, _ = write(self.org, self.record_id, self.name, values, self.retry)
        with self._lock:
            self._cached = (self.clock(), dataclasses.replace(snapshot, probe_until=None))
