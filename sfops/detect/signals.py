"""Signals: what a rule looks at, read from the local store (collected there by the agent's jobs).

Each event signal returns the events of one time window; `observe` filters them by the rule's `match`, groups
them, and evaluates the rule's condition per group. Every read is bounded by the window (indexed time
columns), so a tick costs the same whether the store holds a day or a year of history.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from sfops.detect.model import Observation, Rule, fmt_duration
from sfops.store import Store
from sfops.store import changes as change_store
from sfops.store import detection as db

EXCEPTION_SOURCES = ("EventLogFile", "ApexUnexpectedExcpEventLog")
FAILED_DEPLOY = ("Failed", "SucceededPartial")
LONG_RUNNING = "ConcurrentLongRunningApexLimit"


def _one_per_exception(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Exception events with each exception once: an org with the ApexUnexpectedExcpEventLog object reports
    the same exception there (at once) and in the EventLogFile CSVs (later), with the same request id."""
    rows = list(rows)
    seen = {
        (r.get("request_id"), r.get("exception_type"))
        for r in rows
        if r.get("source") == "ApexUnexpectedExcpEventLog" and r.get("request_id")
    }
    return [
        r
        for r in rows
        if r.get("source") != "EventLogFile" or (r.get("request_id"), r.get("exception_type")) not in seen
    ]


class Fingerprints(Protocol):
    """When each failure fingerprint was first seen (the store's table live, a dict in a replay)."""

    def first_seen(self, fingerprints: Iterable[str]) -> dict[str, dt.datetime]: ...

    def remember(self, seen: Mapping[str, tuple[dt.datetime, str]]) -> None: ...


class StoreFingerprints:
    """Fingerprints kept in the store's `detect_fingerprint` table."""

    def __init__(self, store: Store, org: str) -> None:
        self.store, self.org = store, org

    def first_seen(self, fingerprints: Iterable[str]) -> dict[str, dt.datetime]:
        return db.first_seen(self.store, self.org, fingerprints)

    def remember(self, seen: Mapping[str, tuple[dt.datetime, str]]) -> None:
        db.remember_fingerprints(self.store, self.org, seen)


class MemoryFingerprints:
    """Fingerprints in memory (replays must not change what the live detector knows)."""

    def __init__(self) -> None:
        self.known: dict[str, dt.datetime] = {}

    def first_seen(self, fingerprints: Iterable[str]) -> dict[str, dt.datetime]:
        return {fp: self.known[fp] for fp in fingerprints if fp in self.known}

    def remember(self, seen: Mapping[str, tuple[dt.datetime, str]]) -> None:
        for fp, (at, _source) in seen.items():
            self.known.setdefault(fp, at)


def _breaker_events(store: Store, org: str, since: dt.datetime, until: dt.datetime) -> list[dict[str, Any]]:
    out = []
    for row in db.audit_events(store, org, "breaker.", since, until):
        opened = row["action"] == "breaker.open" or str(row.get("after") or "").lower() == "open"
        if opened and row["outcome"] == "done":
            out.append(
                {
                    "source": "audit",
                    "id": str(row["id"]),
                    "at": row["at"],
                    "name": row["target"].rsplit(".", 1)[-1],
                    "actor": row["actor"],
                }
            )
    return out


def _deploy_events(store: Store, org: str, since: dt.datetime, until: dt.datetime) -> list[dict[str, Any]]:
    rows = change_store.change_rows(store, org, since=since, until=until, sources=["DeployRequest"])
    return [
        {
            "source": "DeployRequest",
            "id": r["id"],
            "at": r["at"],
            "status": r["status"],
            "who": r["who"],
            "summary": r["summary"],
            **(r.get("details") or {}),
        }
        for r in rows
        if r["status"] in FAILED_DEPLOY
    ]


def data_key(store: Store, alias: str) -> str:
    """The key the org's pulled logs and errors are stored under (its org id once a pull has seen it)."""
    from sfops.logs.store import known_key

    return known_key(store, alias)


def events(
    store: Store, org: str, signal: str, since: dt.datetime, until: dt.datetime, data_org: str | None = None
) -> list[dict[str, Any]]:
    """The events of an event signal in [since, until], oldest first. Logs and errors are read under
    `data_org` (the org id they are stored under), audit records and changes under the alias `org`."""
    logs = data_org or org
    if signal == "failures":
        found = list(db.log_failures(store, logs, since, until))
        found += db.error_events(store, logs, ["Error_Log__c"], since, until)
    elif signal == "exceptions":
        found = _one_per_exception(db.error_events(store, logs, EXCEPTION_SOURCES, since, until))
    elif signal == "long_running":
        found = list(db.error_events(store, logs, [LONG_RUNNING], since, until))
    elif signal == "async_jobs":
        found = list(db.error_events(store, logs, ["AsyncApexJob"], since, until))
    elif signal == "breakers":
        found = _breaker_events(store, org, since, until)
    elif signal == "integrations":
        from sfops.detect.integrations import integration_events

        found = integration_events(store, org, since, until)
    elif signal == "deploys":
        found = _deploy_events(store, org, since, until)
    else:
        raise ValueError(f"not an event signal: {signal}")
    return sorted(found, key=lambda e: e["at"])


def matches(rule: Rule, event: Mapping[str, Any]) -> bool:
    """Does the event satisfy every `match` entry (values compared as text; `*` and `?` glob)?"""
    for name, wanted in rule.match.items():
        value = event.get(name)
        options = wanted if isinstance(wanted, list) else [wanted]
        text = "" if value is None else str(value)
        if not any(fnmatch.fnmatchcase(text, str(option)) for option in options):
            return False
    return True


class _Fields(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "-"


def render(template: str, fields: Mapping[str, Any]) -> str:
    """A rule template (`{rule}`, `{fingerprint}`, ...) filled in; unknown names become `-`."""
    try:
        return template.format_map(_Fields({k: ("-" if v is None else v) for k, v in fields.items()}))
    except (ValueError, IndexError, AttributeError):
        return template


def _key(rule: Rule, org: str, group: Mapping[str, Any]) -> str:
    label = "/".join(str(group.get(g) or "-") for g in rule.groups)
    key = render(rule.dedup_key, {"org": org, "rule": rule.name, "group": label, **group})
    if len(key) > 255:  # Dedup_Key__c holds 255 characters: keep it unique by hashing the tail
        key = key[:230] + ":" + hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:24]
    return key


def observe_events(
    rule: Rule, org: str, found: list[dict[str, Any]], now: dt.datetime, fingerprints: Fingerprints | None = None
) -> dict[str, Observation]:
    """The rule's condition per group over the window's events."""
    start = now - rule.window
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for event in found:
        if start <= event["at"] <= now and matches(rule, event):
            groups.setdefault(tuple(event.get(g) for g in rule.groups), []).append(event)
    first: dict[str, dt.datetime] = {}
    if rule.condition == "new_fingerprint" and fingerprints is not None:
        first = fingerprints.first_seen(str(e.get("fingerprint")) for evs in groups.values() for e in evs)
    out: dict[str, Observation] = {}
    minutes = max(rule.window.total_seconds() / 60.0, 1e-9)
    for values, evs in groups.items():
        group = dict(zip(rule.groups, values, strict=True))
        count, newest = len(evs), evs[-1]["at"]
        if rule.condition == "threshold":
            true, value = count >= rule.threshold, float(count)
        elif rule.condition == "failure_rate":
            failures, calls = sum(int(e.get("failures") or 0) for e in evs), sum(int(e.get("calls") or 0) for e in evs)
            value = round(100.0 * failures / calls, 1) if calls else 0.0
            true = calls >= rule.min_calls and value >= rule.threshold
            count = failures
        elif rule.condition == "rate":
            value = round(count / minutes, 3)
            true = value >= (rule.rate or 0)
        else:  # new_fingerprint: first seen by the detector inside the window
            seen = [first.get(str(e.get("fingerprint"))) for e in evs]
            true = any(at is not None and at >= start for at in seen) if first else False
            value = float(count)
        sample = {k: v for k, v in evs[-1].items() if k != "at"}
        if rule.condition == "failure_rate":
            sample.update(failures=count, calls=sum(int(e.get("calls") or 0) for e in evs))
        out[_key(rule, org, group)] = Observation(
            key=_key(rule, org, group), group=group, true=true, value=value, count=count, newest=newest, sample=sample
        )
    return out


def observe_limits(rule: Rule, org: str, frame: Any, now: dt.datetime) -> dict[str, Observation]:
    """Per limit (top-level entries): percent used in the latest snapshot, and the exhaustion forecast."""
    import pandas as pd

    from sfops.limits import forecast

    if frame is None or frame.empty:
        return {}
    upto = frame[(frame["taken_at"] <= pd.Timestamp(now)) & (frame["app"] == "")]
    out: dict[str, Observation] = {}
    for name, group in upto.groupby("name", sort=True):
        last = group.iloc[-1]
        event = {"name": str(name)}
        if not matches(rule, event) or int(last["max"]) <= 0:
            continue
        used_pct = round(100.0 * (int(last["max"]) - int(last["remaining"])) / int(last["max"]), 1)
        newest = last["taken_at"].to_pydatetime()
        sample = {
            "name": str(name),
            "used_pct": used_pct,
            "max": int(last["max"]),
            "remaining": int(last["remaining"]),
            "within": fmt_duration(rule.within),
        }
        if rule.condition == "forecast":
            window = group[group["taken_at"] >= pd.Timestamp(now - dt.timedelta(hours=24))]
            _rate, _runs_out, hours_left, text = forecast(window)
            true = hours_left is not None and hours_left <= rule.within.total_seconds() / 3600.0
            value = -1.0 if hours_left is None else round(hours_left, 2)
            sample.update(runs_out=text, hours_left=value)
        else:
            true, value = used_pct >= rule.threshold, used_pct
        key = _key(rule, org, {"name": str(name)})
        out[key] = Observation(
            key=key, group={"name": str(name)}, true=true, value=value, count=1, newest=newest, sample=sample
        )
    return out


def load_limit_frame(store: Store, org: str, since: dt.datetime) -> Any:
    """Stored limit snapshots of the org since `since` (a DataFrame: taken_at, name, app, max, remaining)."""
    from sfops.limits import load_snapshots

    return load_snapshots(store, org, since, include_apps=False)


EventSource = Callable[[str, dt.datetime, dt.datetime], list[dict[str, Any]]]
