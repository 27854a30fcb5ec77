"""Database access for sfops.logs: pulled debug logs (`apex_log`, migration 2) and the error history
(`error_event`, migration 5). The only module of sfops.logs that uses SQLAlchemy (it belongs to the store layer
and can move to sfops/store/ as is).

Bodies are stored zlib-compressed next to their ApexLog metadata and the parsed per-transaction summary, in
one transaction per log, so a log is either completely stored or not at all.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from sfops.store import Store, schema

WATERMARK_KEY = "logs.watermark.{org}"


def parse_sf_datetime(value: str) -> dt.datetime:
    """`2026-11-26T16:41:00.000+0000` (or `Z`) -> aware datetime."""
    text = value.replace("Z", "+0000")
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return dt.datetime.strptime(text, fmt).astimezone(dt.UTC)
        except ValueError:
            continue
    raise ValueError(f"not a Salesforce datetime: {value!r}")


def soql_datetime(value: dt.datetime) -> str:
    """An aware datetime as a SOQL datetime literal (UTC, no quotes)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def get_watermark(store: Store, org: str) -> dt.datetime | None:
    """StartTime from which the next pull lists logs (inclusive), or None before the first pull."""
    value = store.get_state(WATERMARK_KEY.format(org=org))
    return dt.datetime.fromisoformat(value) if value else None


def set_watermark(store: Store, org: str, value: dt.datetime) -> None:
    store.set_state(WATERMARK_KEY.format(org=org), value.astimezone(dt.UTC).isoformat())


def stored_ids(store: Store, org: str, since: dt.datetime | None) -> set[str]:
    """Ids of logs already stored for `org` with StartTime >= since (the overlap a new pull re-lists)."""
    table = schema.apex_log
    query = select(table.c.id).where(table.c.org == org)
    if since is not None:
        query = query.where(table.c.start_time >= since)
    with store.engine.connect() as conn:
        return set(conn.execute(query).scalars())


def save_log(store: Store, org: str, record: dict[str, Any], body: bytes, summary: list[dict[str, Any]]) -> bool:
    """Store one log atomically. False when it was already there (idempotent)."""
    values = {
        "org": org, "id": record["Id"], "start_time": parse_sf_datetime(record["StartTime"]),
        "log_user_id": record.get("LogUserId"), "operation": (record.get("Operation") or "")[:255],
        "request": record.get("Request"), "application": record.get("Application"),
        "status": record.get("Status"), "duration_ms": record.get("DurationMilliseconds"),
        "log_length": record.get("LogLength"), "location": record.get("Location"),
        "body": zlib.compress(body, 6), "body_bytes": len(body), "pulled_at": dt.datetime.now(dt.UTC),
        "summary": summary,
    }
    try:
        with store.begin() as conn:
            conn.execute(schema.apex_log.insert().values(**values))
    except IntegrityError:
        return False
    return True


def load_body(store: Store, org: str, log_id: str) -> bytes | None:
    """The original bytes of a stored log body."""
    table = schema.apex_log
    with store.engine.connect() as conn:
        blob = conn.execute(select(table.c.body).where(table.c.org == org, table.c.id == log_id)).scalar()
    return None if blob is None else zlib.decompress(blob)


def iter_summaries(store: Store, org: str | None = None,
                   since: dt.datetime | None = None) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(log metadata, transaction summaries) for each stored log, oldest first."""
    table = schema.apex_log
    columns = [c for c in table.c if c.name != "body"]
    query = select(*columns).order_by(table.c.start_time, table.c.id)
    if org is not None:
        query = query.where(table.c.org == org)
    if since is not None:
        query = query.where(table.c.start_time >= since)
    with store.engine.connect() as conn:
        for row in conn.execute(query):
            meta = dict(row._mapping)
            yield meta, list(meta.pop("summary") or [])


def count_logs(store: Store, org: str | None = None) -> int:
    return sum(1 for _ in _ids(store, org))


def _ids(store: Store, org: str | None) -> Iterable[str]:
    table = schema.apex_log
    query = select(table.c.id)
    if org is not None:
        query = query.where(table.c.org == org)
    with store.engine.connect() as conn:
        return list(conn.execute(query).scalars())


# ---- error history (error_event) -------------------------------------------------------------------------
def error_ids_present(store: Store, org: str, source: str, ids: list[str]) -> set[str]:
    """Which of `ids` are already stored for (org, source)."""
    if not ids:
        return set()
    table = schema.error_event
    query = select(table.c.id).where(table.c.org == org, table.c.source == source, table.c.id.in_(ids))
    with store.engine.connect() as conn:
        return set(conn.execute(query).scalars())


def save_errors(store: Store, org: str, source: str, rows: list[dict[str, Any]], watermark_key: str,
                watermark: dt.datetime | None) -> tuple[int, int]:
    """Insert the rows not stored yet and move the watermark forward, in one transaction: (inserted, known)."""
    table = schema.error_event
    with store.begin() as conn:
        ids = [r["id"] for r in rows]
        known = set(conn.execute(select(table.c.id).where(table.c.org == org, table.c.source == source,
                                                          table.c.id.in_(ids))).scalars()) if ids else set()
        fresh = [r for r in rows if r["id"] not in known]
        if fresh:
            conn.execute(table.insert(), [{"org": org, "source": source, **r} for r in fresh])
        if watermark is not None:
            current = conn.execute(select(schema.state.c.value).where(schema.state.c.key == watermark_key)).scalar()
            if current is None or watermark > dt.datetime.fromisoformat(current):
                store.set_state(watermark_key, watermark.astimezone(dt.UTC).isoformat(), conn=conn)
    return len(fresh), len(rows) - len(fresh)


ERROR_COLUMNS = ("source", "category", "fingerprint", "entry_point", "exception_type", "message", "occurred_at")


def error_records(store: Store, org: str | None = None, since: dt.datetime | None = None) -> list[tuple[Any, ...]]:
    """(source, category, fingerprint, entry_point, exception_type, message, occurred_at) of stored errors."""
    table = schema.error_event
    query = select(*(table.c[name] for name in ERROR_COLUMNS))
    if org is not None:
        query = query.where(table.c.org == org)
    if since is not None:
        query = query.where(table.c.occurred_at >= since)
    with store.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


# ---- retention ---------------------------------------------------------------------------------------------
def prune(store: Store, org: str, before: dt.datetime, *, dry_run: bool = False) -> dict[str, int]:
    """Delete stored logs (by StartTime) and errors (by time) older than `before`; counts per table.

    Watermarks are left alone, so pruned logs are never pulled again.
    """
    targets = ((schema.apex_log, schema.apex_log.c.start_time), (schema.error_event, schema.error_event.c.occurred_at))
    counts: dict[str, int] = {}
    with store.begin() as conn:
        for table, column in targets:
            condition = (table.c.org == org) & (column < before)
            if dry_run:
                counts[table.name] = len(conn.execute(select(table.c.id).where(condition)).fetchall())
            else:
                counts[table.name] = conn.execute(table.delete().where(condition)).rowcount or 0
    return counts
