"""Circuit_Breaker__c (list custom setting) <-> `Snapshot`: field mapping, reads and writes.

Only fields present in the org's describe are read or written, so an org with an older
Circuit_Breaker__c (fewer fields) still works. The describe is cached in the local store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sfops.breakers.core import Snapshot, State
from sfops.salesforce import LockRetry, format_datetime, parse_datetime, with_lock_retry

if TYPE_CHECKING:
    from sfops.salesforce import Org
    from sfops.store import Store

BREAKER_OBJECT = "Circuit_Breaker__c"
DESCRIBE_TTL = dt.timedelta(minutes=10)

# Snapshot attribute -> (field, kind). Kinds: int, minutes, percent, datetime, text, bool, state.
FIELDS: dict[str, tuple[str, str]] = {
    "state": ("State__c", "state"),
    "failure_count": ("Failure_Count__c", "int"),
    "success_count": ("Success_Count__c", "int"),
    "request_count": ("Request_Count__c", "int"),
    "window_started_at": ("Window_Started_At__c", "datetime"),
    "opened_at": ("Opened_At__c", "datetime"),
    "last_failure": ("Last_Failure__c", "datetime"),
    "last_success": ("Last_Success__c", "datetime"),
    "last_error": ("Last_Error__c", "text"),
    "max_failures": ("Max_Failures__c", "int"),
    "cooldown": ("Cooldown_Minutes__c", "minutes"),
    "success_threshold": ("Success_Threshold__c", "int"),
    "failure_rate": ("Failure_Rate_Threshold__c", "percent"),
    "minimum_calls": ("Minimum_Requests__c", "int"),
    "window": ("Window_Minutes__c", "minutes"),
    "linked_switch": ("Linked_Kill_Switch__c", "text"),
    "switch_flipped": ("Kill_Switch_Flipped__c", "bool"),
}
_STATE_TEXT = {State.CLOSED: "Closed", State.OPEN: "Open", State.HALF_OPEN: "Half_Open"}


def state_from_text(text: Any) -> State:
    """`Closed` / `Open` / `Half_Open` (any case, blank = Closed) as a State."""
    value = str(text or "Closed").strip().lower().replace("-", "_").replace(" ", "_")
    return {"open": State.OPEN, "half_open": State.HALF_OPEN, "halfopen": State.HALF_OPEN}.get(value, State.CLOSED)


def state_text(state: State) -> str:
    """The State__c text of a state."""
    return _STATE_TEXT[state]


def _from_field(kind: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    if kind == "int":
        return int(float(value))
    if kind == "minutes":
        return dt.timedelta(minutes=float(value))
    if kind == "percent":
        return float(value) / 100.0
    if kind == "datetime":
        return parse_datetime(value)
    if kind == "bool":
        return bool(value)
    if kind == "state":
        return state_from_text(value)
    return str(value)


def _to_field(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "minutes":
        return value.total_seconds() / 60.0
    if kind == "percent":
        return round(value * 100.0, 4)
    if kind == "datetime":
        return format_datetime(value)
    if kind == "state":
        return state_text(value)
    if kind == "text" and isinstance(value, str):
        return value[:255]
    return value


def snapshot_from_row(row: Mapping[str, Any]) -> Snapshot:
    """A Snapshot from a Circuit_Breaker__c row (missing fields keep their defaults)."""
    values: dict[str, Any] = {}
    for attr, (name, kind) in FIELDS.items():
        if name in row:
            converted = _from_field(kind, row[name])
            if converted is not None:
                values[attr] = converted
    return Snapshot(**values)


def changed_fields(new: Snapshot, old: Snapshot | None, available: set[str]) -> dict[str, Any]:
    """Field values of `new` that differ from `old` (all of them when old is None)."""
    out = {}
    for attr, (name, kind) in FIELDS.items():
        if name not in available:
            continue
        value = getattr(new, attr)
        if old is None or value != getattr(old, attr):
            if old is None and value is None:
                continue
            out[name] = _to_field(kind, value)
    return out


def available_fields(org: Org, store: Store | None, *, now: dt.datetime | None = None) -> set[str]:
    """Circuit_Breaker__c fields this org has (describe cached in the store when one is given)."""
    now = now or dt.datetime.now(dt.UTC)
    key = f"breakers.describe.{org.alias}"
    if store is not None:
        cached = store.get_state(key)
        if cached and now - dt.datetime.fromisoformat(cached["fetched_at"]) < DESCRIBE_TTL:
            return set(cached["fields"])
    names = {str(f["name"]) for f in org.describe(BREAKER_OBJECT).get("fields", [])}
    if store is not None:
        store.set_state(key, {"fetched_at": now.isoformat(), "fields": sorted(names)})
    return names


@dataclass(frozen=True)
class BreakerRow:
    """One Circuit_Breaker__c record as shown by `breaker list/show`."""

    name: str
    id: str
    state: State
    failure_count: int
    max_failures: int | None
    cooldown_minutes: float | None
    success_count: int
    success_threshold: int | None
    mode: str
    opened_at: dt.datetime | None
    reopens_at: dt.datetime | None
    last_failure: dt.datetime | None
    last_error: str | None
    linked_switch: str | None
    switch_flipped: bool


def row_view(record_id: str, name: str, snap: Snapshot) -> BreakerRow:
    """A display row from a snapshot."""
    reopens = snap.opened_at + snap.cooldown if snap.state is State.OPEN and snap.opened_at and snap.cooldown else None
    return BreakerRow(
        name=name,
        id=record_id,
        state=snap.state,
        failure_count=snap.failure_count,
        max_failures=snap.max_failures,
        cooldown_minutes=snap.cooldown.total_seconds() / 60 if snap.cooldown is not None else None,
        success_count=snap.success_count,
        success_threshold=snap.success_threshold,
        mode=f"rate {snap.failure_rate:.0%}" if snap.failure_rate else "consecutive",
        opened_at=snap.opened_at,
        reopens_at=reopens,
        last_failure=snap.last_failure,
        last_error=snap.last_error,
        linked_switch=snap.linked_switch,
        switch_flipped=snap.switch_flipped,
    )


def fetch_rows(org: Org, fields: set[str]) -> list[dict[str, Any]]:
    """Every Circuit_Breaker__c row (list settings are small: one query, no user input)."""
    columns = ["Id", "Name", *sorted(name for name, _ in FIELDS.values() if name in fields)]
    return org.query(f"SELECT {', '.join(columns)} FROM {BREAKER_OBJECT} ORDER BY Name")  # noqa: S608


def write(
    org: Org, record_id: str | None, name: str, values: dict[str, Any], retry: LockRetry | None = None
) -> tuple[str, int]:
    """PATCH the given fields (or create the record); returns (id, attempts)."""
    policy = retry or LockRetry()
    if record_id is None:
        result, attempts = with_lock_retry(lambda: org.create(BREAKER_OBJECT, {"Name": name, **values}), policy)
        return result, attempts
    if not values:
        return record_id, 0
    _, attempts = with_lock_retry(lambda: org.update(BREAKER_OBJECT, record_id, dict(values), retry_safe=True), policy)
    return record_id, attempts
