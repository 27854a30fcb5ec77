"""Reads behind the web console's pages: each one an indexed, bounded query (the console must answer in
well under 200 ms with 10,000 incidents and a million log transactions in the store)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import String, func, select, type_coerce

from sfops.store import Store, schema


def _aware(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _row(mapping: Any) -> dict[str, Any]:
    return {k: _aware(v) for k, v in mapping.items()}


def incidents_by_status(store: Store, alias: str, statuses: Iterable[str], limit: int = 200) -> list[dict[str, Any]]:
    """Incident rows of the org of `alias` in `statuses`, newest detection first."""
    table = schema.incident
    query = (
        select(table)
        .where(table.c.org == store.org_key(alias), table.c.status.in_(list(statuses)))
        .order_by(table.c.detected_at.desc())
        .limit(limit)
    )
    with store.engine.connect() as conn:
        return [_row(r) for r in conn.execute(query).mappings()]


def recent_incidents(store: Store, alias: str, limit: int = 50) -> list[dict[str, Any]]:
    """The newest incidents of the org of `alias` (any status)."""
    table = schema.incident
    query = select(table).where(table.c.org == store.org_key(alias)).order_by(table.c.detected_at.desc()).limit(limit)
    with store.engine.connect() as conn:
        return [_row(r) for r in conn.execute(query).mappings()]


def incident_facts(
    store: Store, aliases: Sequence[str], since: dt.datetime | None, until: dt.datetime | None = None
) -> list[tuple[Any, ...]]:
    """(alias, severity, category, detected_at, acknowledged_at, resolved_at) of incidents detected in the window.

    The three times are NAIVE UTC datetimes (only differences and calendar buckets are taken of them, and
    10,000 tz-aware conversions cost more than the query)."""
    table = schema.incident
    # Timestamps as the driver gives them (SQLite: ISO text, parsed below with fromisoformat, several times
    # faster than the generic DateTime processor on 10,000 rows; PostgreSQL: datetimes already).
    raw = [type_coerce(table.c[name], String) for name in ("detected_at", "acknowledged_at", "resolved_at")]
    alias_of = {store.org_key(a): a for a in reversed(aliases)}  # two aliases of one org: counted once
    query = select(table.c.org, table.c.severity, table.c.category, *raw).where(
        table.c.org.in_(list(alias_of)), table.c.detected_at.is_not(None)
    )
    if since is not None:
        query = query.where(table.c.detected_at >= since)
    if until is not None:
        query = query.where(table.c.detected_at < until)
    with store.engine.connect() as conn:
        rows = [(alias_of[r[0]], *r[1:]) for r in conn.execute(query).all()]
    if rows and not isinstance(rows[0][3], str):  # PostgreSQL: aware datetimes
        return [
            (r[0], r[1], r[2], *(None if v is None else v.astimezone(dt.UTC).replace(tzinfo=None) for v in r[3:]))
            for r in rows
        ]
    parse = dt.datetime.fromisoformat
    return [(r[0], r[1], r[2], parse(r[3]), r[4] and parse(r[4]), r[5] and parse(r[5])) for r in rows]


def failing_log_summaries(store: Store, alias: str, since: dt.datetime, limit: int = 2000) -> list[tuple[Any, Any]]:
    """(start_time, transaction summaries) of logs whose ApexLog status is not Success, newest first."""
    table = schema.apex_log
    query = (
        select(table.c.start_time, table.c.summary)
        .where(table.c.org == store.org_key(alias), table.c.start_time >= since, table.c.status != "Success")
        .order_by(table.c.start_time.desc())
        .limit(limit)
    )
    with store.engine.connect() as conn:
        return [(_aware(r[0]), r[1]) for r in conn.execute(query)]


def error_groups(store: Store, alias: str, since: dt.datetime, limit: int = 20) -> list[dict[str, Any]]:
    """Imported errors (Error_Log__c, EventLogFile) since `since` grouped by fingerprint, most frequent first."""
    table = schema.error_event
    query = (
        select(
            table.c.fingerprint,
            func.min(table.c.category).label("category"),
            func.min(table.c.exception_type).label("exception_type"),
            func.min(table.c.entry_point).label("entry_point"),
            func.count().label("count"),
            func.max(table.c.occurred_at).label("last_seen"),
        )
        .where(table.c.org == store.org_key(alias), table.c.occurred_at >= since)
        .group_by(table.c.fingerprint)
        .order_by(func.count().desc())
        .limit(limit)
    )
    with store.engine.connect() as conn:
        return [_row(r) for r in conn.execute(query).mappings()]


def snapshot_series(store: Store, alias: str, names: Sequence[str], since: dt.datetime) -> list[tuple[Any, ...]]:
    """(name, taken_at, max, remaining) of top-level snapshot rows of `names` since `since`, oldest first."""
    table = schema.limit_snapshot
    query = (
        select(table.c.name, table.c.taken_at, table.c.max, table.c.remaining)
        .where(
            table.c.org == store.org_key(alias),
            table.c.app == "",
            table.c.name.in_(list(names)),
            table.c.taken_at >= since,
        )
        .order_by(table.c.taken_at)
    )
    with store.engine.connect() as conn:
        return [(r[0], _aware(r[1]), int(r[2]), int(r[3])) for r in conn.execute(query)]
