"""What the logs area keeps in the local store: pull watermarks, and pulled logs as stored rows.

The SQL itself lives in the store layer: sfops/store/apex_logs.py (`apex_log`), sfops/store/error_events.py
(`error_event`) and sfops/store/log_retention.py (pruning both).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sfops.salesforce import Org
from sfops.salesforce.values import require_datetime
from sfops.store import Store, apex_logs, log_retention, org_keys

WATERMARK_KEY = "logs.watermark.{org}"


def get_watermark(store: Store, alias: str) -> dt.datetime | None:
    """StartTime from which the next pull lists logs (inclusive), or None before the first pull."""
    value = store.get_state(WATERMARK_KEY.format(org=alias))
    return dt.datetime.fromisoformat(value) if value else None


def set_watermark(store: Store, alias: str, value: dt.datetime) -> None:
    """Move the pull watermark of `org` to `value`."""
    store.set_state(WATERMARK_KEY.format(org=alias), value.astimezone(dt.UTC).isoformat())


def save_log(store: Store, alias: str, record: dict[str, Any], body: bytes, summary: list[dict[str, Any]]) -> bool:
    """Store one ApexLog record with its body and parsed summary atomically. False when it was already there."""
    row = {
        "org": alias,
        "id": record["Id"],
        "start_time": require_datetime(record["StartTime"]),
        "log_user_id": record.get("LogUserId"),
        "operation": (record.get("Operation") or "")[:255],
        "request": record.get("Request"),
        "application": record.get("Application"),
        "status": record.get("Status"),
        "duration_ms": record.get("DurationMilliseconds"),
        "log_length": record.get("LogLength"),
        "location": record.get("Location"),
        "pulled_at": dt.datetime.now(dt.UTC),
        "summary": summary,
    }
    return apex_logs.insert_log(store, row, body)


def prune(store: Store, alias: str, before: dt.datetime, *, dry_run: bool = False) -> dict[str, int]:
    """Delete stored logs (by StartTime) and errors (by time) older than `before`; counts per table.

    Watermarks are left alone, so pruned logs are never pulled again.
    """
    return log_retention.prune(store, alias, before, dry_run=dry_run)


def data_key(org: Org, store: Store) -> str:
    """The key pulled logs and errors of `org` are stored under: its 18-character org id, so two aliases of
    one org share them (sfops.store.org_keys.learn)."""
    return org_keys.learn(store, org)


def known_key(store: Store, alias: str) -> str:
    """The data key of an alias without asking the org: its org id once a command has learned it, else the
    alias."""
    return store.org_key(alias)
