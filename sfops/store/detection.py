"""Detection tables (migration 6): alert states, the firing log, seen fingerprints; and the windowed reads
the detector's signals make over stored history (debug-log failures, error events, audit records).

Every read is bounded by a time window on an indexed column, so one detector tick touches recent rows only,
however much history the store holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy import and_, func, select

from sfops.clock import aware, aware_row
from sfops.store import Store, inserted_id, schema


def _row(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    return aware_row(mapping)


# --- alert states ------------------------------------------------------------------------------
def load_alerts(store: Store, org: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(rule, key) -> the stored alert row of one org."""
    org = store.org_key(org)  # an alias: its org id once known (sfops.store.org_keys)
    table = schema.detect_alert
    with store.engine.connect() as conn:
        rows = conn.execute(select(table).where(table.c.org == org))
        return {(r.rule, r.key): _row(r._mapping) for r in rows}


def record_firing_intent(store: Store, org: str, firing: Mapping[str, Any]) -> int:
    """Record a firing as pending (`details.status = "pending"`) before its incident is raised or updated; the
    id is settled by `save_alerts`. Returns the id."""
    org = store.org_key(org)  # an alias: its org id once known (sfops.store.org_keys)
    details = {**(firing.get("details") or {}), "status": "pending"}
    with store.begin() as conn:
        result = conn.execute(schema.detect_firing.insert().values(**{**firing, "org": org, "details": details}))
        return inserted_id(result)


def pending_firings(store: Store, org: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(rule, key, kind) -> the oldest firing of the org still pending: a tick that crashed between recording
    its intent and settling it (the next tick finishes it instead of firing again)."""
    org = store.org_key(org)  # an alias: its org id once known (sfops.store.org_keys)
    table = schema.detect_firing
    query = select(table).where(table.c.org == org).order_by(table.c.id.desc()).limit(200)
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    with store.engine.connect() as conn:
        for r in conn.execute(query):
            row = _row(r._mapping)
            if (row.get("details") or {}).get("status") == "pending":
                out[(row["rule"], row["key"], row["kind"])] = row
    return out


def save_alerts(
    store: Store, org: str, rows: Iterable[Mapping[str, Any]], firings: Iterable[Mapping[str, Any]] = ()
) -> None:
    """Upsert alert rows and append firing records (a firing with an `id` settles that pending record), in one
    transaction."""
    org = store.org_key(org)  # an alias: its org id once known (sfops.store.org_keys)
    table = schema.detect_alert
    with store.begin() as conn:
        for row in rows:
            values = {**row, "org": org}
            where = and_(table.c.org == org, table.c.rule == row["rule"], table.c.key == row["key"])
            if conn.execute(select(table.c.rule).where(where)).first() is None:
                conn.execute(table.insert().values(**values))
            else:
                conn.execute(table.update().where(where).values(**values))
        batch = []
        for f in firings:
            if f.get("id") is not None:
                fire = schema.detect_firing
                conn.execute(
                    fire.update()
                    .where(fire.c.id == f["id"])
                    .values(**{k: v for k, v in f.items() if k != "id"}, org=org)
                )
            else:
                batch.append({**f, "org": org})
        if batch:
            conn.execute(schema.detect_firing.insert(), batch)


def firing_rows(
    store: Store,
    *,
    org: str | None = None,
    since: dt.datetime | None = None,
    rule: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Recorded firings (fired, updated, cleared, damped), newest first."""
    org = None if org is None else store.org_key(org)  # an alias: its org id once known
    table = schema.detect_firing
    query = select(table).order_by(table.c.id.desc()).limit(limit)
    if org is not None:
        query = query.where(table.c.org == org)
    if since is not None:
        query = query.where(table.c.at >= since)
    if rule is not None:
        query = query.where(table.c.rule == rule)
    with store.engine.connect() as conn:
        return [_row(r._mapping) for r in conn.execute(query)]


def firing_counts(store: Store, org: str | None = None) -> dict[tuple[str, str, str], int]:
    """(org, rule, kind) -> how many firing records: a cheap read for metrics."""
    org = None if org is None else store.org_key(org)  # an alias: its org id once known
    table = schema.detect_firing
    query = select(table.c.org, table.c.rule, table.c.kind, func.count()).group_by(
        table.c.org, table.c.rule, table.c.kind
    )
    if org is not None:
        query = query.where(table.c.org == org)
    with store.engine.connect() as conn:
        return {(o, r, k): int(n) for o, r, k, n in conn.execute(query)}


# --- fingerprints ------------------------------------------------------------------------------
def first_seen(store: Store, org: str, fingerprints: Iterable[str]) -> dict[str, dt.datetime]:
    """fingerprint -> when the detector first saw it, for the given fingerprints that are known."""
    org = store.org_key(org)  # an alias: its org id once known (sfops.store.org_keys)
    wanted = sorted(set(fingerprints))
    if not wanted:
        return {}
    table = schema.detect_fingerprint
    out: dict[str, dt.datetime] = {}
    with store.engine.connect() as conn:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            query = select(table.c.fingerprint, table.c.first_seen).where(
                table.c.org == org, table.c.fingerprint.in_(chunk)
            )
            out.update({fp: aware(at) for fp, at in conn.execute(query)})
    return out


def remember_fingerprints(store: Store, org: str, seen: Mapping[str, tuple[dt.datetime, str]]) -> int:
    """Record fingerprints not known yet (fingerprint -> (first seen, source)); returns how many were new."""
    org = store.org_key(org)  # an alias: its org id once known (sfops.store.org_keys)
    known = first_seen(store, org, seen)
    fresh = [
        {"org": org, "fingerprint": fp, "first_seen": at, "source": source}
        for fp, (at, source) in seen.items()
        if fp not in known
    ]
    if fresh:
        with store.begin() as conn:
            conn.execute(schema.detect_fingerprint.insert(), fresh)
    return len(fresh)


def fingerprint_count(store: Store, org: str) -> int:
    """How many fingerprints the detector knows for an org."""
    org = store.org_key(org)  # an alias: its org id once known (sfops.store.org_keys)
    table = schema.detect_fingerprint
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(table.c.org == org)).scalar_one())


def error_fingerprints_before(store: Store, org: str, before: dt.datetime) -> dict[str, tuple[dt.datetime, str]]:
    """Fingerprints of stored error events older than `before` with their first time (learning history)."""
    org = store.org_key(org)  # an alias: its org id once known (sfops.store.org_keys)
    table = schema.error_event
    query = (
        select(table.c.fingerprint, func.min(table.c.occurred_at), func.min(table.c.source))
        .where(table.c.org == org, table.c.occurred_at < before, table.c.fingerprint.is_not(None))
        .group_by(table.c.fingerprint)
    )
    with store.engine.connect() as conn:
        return {fp: (aware(at), src) for fp, at, src in conn.execute(query)}


# --- windowed signal reads ----------------------------------------------------------------------
def _fatal(text: str | None) -> str | None:
    """The fatal exception of an analyze row's `exceptions` text ("X: msg [fatal]; Y: msg [handled]")."""
    if not text:
        return text
    first = text.split("; ")[0]
    return first.removesuffix(" [fatal]") if first.endswith(" [fatal]") else text


def log_failures(store: Store, org: str, since: dt.datetime, until: dt.datetime) -> Iterator[dict[str, Any]]:
    """Failed transactions of the debug logs that started in [since, until]."""
    org = store.org_key(org)  # an alias: its org id once known (sfops.store.org_keys)
    table = schema.apex_log
    query = (
        select(table.c.id, table.c.start_time, table.c.log_user_id, table.c.summary)
        .where(table.c.org == org, table.c.start_time >= since, table.c.start_time <= until)
        .order_by(table.c.start_time, table.c.id)
    )
    with store.engine.connect() as conn:
        for log_id, start, user, summary in conn.execute(query):
            for tx in summary or []:
                if tx.get("failed"):
                    yield {
                        "source": "ApexLog",
                        "id": f"{log_id}:{tx.get('tx')}",
                        "at": aware(start),
                        "category": tx.get("category"),
                        "limit": tx.get("limit"),
                        "fingerprint": tx.get("fingerprint"),
                        "exception": _fatal(tx.get("exceptions")),
                        "entry_point": tx.get("entry_point"),
                        "user_id": user,
                    }


def error_events(
    store: Store, org: str, sources: Iterable[str], since: dt.datetime, until: dt.datetime
) -> Iterator[dict[str, Any]]:
    """Stored error events of the given sources that occurred in [since, until]."""
    org = store.org_key(org)  # an alias: its org id once known (sfops.store.org_keys)
    table = schema.error_event
    query = (
        select(table)
        .where(
            table.c.org == org,
            table.c.source.in_(list(sources)),
            table.c.occurred_at >= since,
            table.c.occurred_at <= until,
        )
        .order_by(table.c.occurred_at, table.c.id)
    )
    with store.engine.connect() as conn:
        for row in conn.execute(query):
            values = _row(row._mapping)
            details = values.pop("details") or {}
            yield {
                **values,
                "at": values.pop("occurred_at"),
                "exception": values.get("exception_type"),
                **{k: v for k, v in details.items() if k not in values},
            }


def audit_events(
    store: Store, org: str, action_prefix: str, since: dt.datetime, until: dt.datetime
) -> list[dict[str, Any]]:
    """Audit records of one org whose action starts with `action_prefix`, in [since, until]."""
    org = store.org_key(org)  # an alias: its org id once known (sfops.store.org_keys)
    table = schema.audit
    query = (
        select(table)
        .where(table.c.org == org, table.c.action.startswith(action_prefix), table.c.at >= since, table.c.at <= until)
        .order_by(table.c.id)
    )
    with store.engine.connect() as conn:
        return [_row(r._mapping) for r in conn.execute(query)]


def count_audit(
    store: Store, org: str, action_prefix: str, since: dt.datetime, outcomes: Iterable[str] = ("done",)
) -> int:
    """How many audit records of one org with that action prefix and outcome since `since`."""
    org = store.org_key(org)  # an alias: its org id once known (sfops.store.org_keys)
    table = schema.audit
    query = (
        select(func.count())
        .select_from(table)
        .where(
            table.c.org == org,
            table.c.action.startswith(action_prefix),
            table.c.at >= since,
            table.c.outcome.in_(list(outcomes)),
        )
    )
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def audit_record(store: Store, audit_id: int) -> dict[str, Any] | None:
    """One audit record by id."""
    table = schema.audit
    with store.engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.id == audit_id)).first()
    return None if row is None else _row(row._mapping)
