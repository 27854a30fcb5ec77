"""The `integrations` signal: failures and calls of each circuit breaker, sampled from its counters.

Circuit_Breaker__c keeps only the counters of its current window (Failure_Count__c, Success_Count__c,
Request_Count__c since Window_Started_At__c). The agent's breaker-sync job samples them every tick into the
store; consecutive samples of one breaker give the failures and calls in between (a counter that went down or a
new window start means the breaker reset: the new values are all new). A rule can then fire on a failure rate
over its window, before (or without) the breaker opening.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sfops.breakers.core import Snapshot
from sfops.store import Store

STATE_KEY = "detect.breaker_samples.{org}"
KEEP = dt.timedelta(hours=48)  # longer than any sensible rule window (and a 24 h replay); older samples dropped
MAX_SAMPLES = 20_000  # and at most this many (the newest): one state value rewritten each tick stays small


def _calls(snap: Snapshot) -> int:
    # rate mode counts every call in Request_Count__c; consecutive mode counts failures and successes apart
    return snap.request_count or (snap.failure_count + snap.success_count)


def record_samples(store: Store, alias: str, snapshots: Iterable[tuple[str, Snapshot]], now: dt.datetime) -> int:
    """Append one sample per breaker (failures and calls since the previous sample); returns how many."""
    key = STATE_KEY.format(org=alias)
    state = store.get_state(key) or {}
    last: dict[str, dict[str, Any]] = dict(state.get("last") or {})
    events: list[dict[str, Any]] = [
        e for e in state.get("events") or [] if dt.datetime.fromisoformat(e["at"]) >= now - KEEP
    ]
    count = 0
    for name, snap in snapshots:
        failures, calls = snap.failure_count, _calls(snap)
        window = snap.window_started_at.isoformat() if snap.window_started_at else None
        prev = last.get(name)
        if prev and prev.get("window") == window and failures >= prev["failures"] and calls >= prev["calls"]:
            new_failures, new_calls = failures - prev["failures"], calls - prev["calls"]
        else:
            new_failures, new_calls = failures, calls
        last[name] = {"failures": failures, "calls": calls, "window": window}
        if new_failures or new_calls:
            events.append(
                {
                    "at": now.astimezone(dt.UTC).isoformat(),
                    "name": name,
                    "failures": new_failures,
                    "calls": max(new_calls, new_failures),
                    "state": snap.state.value,
                    "last_error": (snap.last_error or "")[:255],
                }
            )
            count += 1
    store.set_state(key, {"last": last, "events": events[-MAX_SAMPLES:]})
    return count


def integration_events(store: Store, alias: str, since: dt.datetime, until: dt.datetime) -> list[dict[str, Any]]:
    """The sampled failures/calls of every breaker in [since, until], oldest first."""
    state = store.get_state(STATE_KEY.format(org=alias)) or {}
    out = []
    for event in state.get("events") or []:
        at = dt.datetime.fromisoformat(event["at"])
        if since <= at <= until:
            out.append({**event, "at": at, "source": "Circuit_Breaker__c", "id": f"{event['name']}@{event['at']}"})
    return out
