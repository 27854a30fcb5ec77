"""The incidents' part of the local store: the Incident_Log__c mirror, the timeline, the outbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import and_, or_, select

from sfops.incidents.model import Incident, Status, TimelineEntry
from sfops.store import Store, schema

_COLUMNS = ("name", "severity", "status", "summary", "context", "category", "source", "release", "dedup_key",
            "occurrence_count", "detected_at", "acknowledged_at", "mitigated_at", "resolved_at", "closed_at",
            "last_seen_at", "resolution", "root_cause")


def _utc(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def save_incident(store: Store, incident: Incident) -> None:
    """Insert or replace the mirror row of an incident."""
    save_incidents(store, [incident])


def save_incidents(store: Store, incidents: Iterable[Incident]) -> int:
    """Insert or replace the mirror rows of many incidents in one transaction; returns how many."""
    table = schema.incident
    now = dt.datetime.now(dt.UTC)
    count = 0
    with store.begin() as conn:
        for incident in incidents:
            values = {c: getattr(incident, c) for c in _COLUMNS}
            values["status"] = incident.status.value
            values["updated_at"] = now
            key = and_(table.c.org == incident.org, table.c.id == incident.id)
            if not conn.execute(table.update().where(key).values(**values)).rowcount:
                conn.execute(table.insert().values(org=incident.org, id=incident.id, **values))
            count += 1
    return count


def _incident(row: Mapping[str, Any]) -> Incident:
    values = {k: _utc(row[k]) for k in _COLUMNS}
    values["status"] = Status(values["status"])
    values["summary"] = values["summary"] or ""
    return Incident(id=row["id"], org=row["org"], **values)


def load_incident(store: Store, org: str, ref: str) -> Incident | None:
    """The mirrored incident by id or INC number."""
    table = schema.incident
    query = select(table).where(table.c.org == org, or_(table.c.id == ref, table.c.name == ref))
    with store.engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return _incident(row) if row else None


def list_incidents(store: Store, org: str | None = None) -> list[Incident]:
    """Every mirrored incident (of one org, or all), oldest first."""
    table = schema.incident
    query = select(table).order_by(table.c.detected_at)
    if org:
        query = query.where(table.c.org == org)
    with store.engine.connect() as conn:
        return [_incident(r) for r in conn.execute(query).mappings()]


def add_event(store: Store, *, org: str, incident_id: str, kind: str, actor: str, at: dt.datetime,
              note: str | None = None, status_from: str | None = None, status_to: str | None = None,
              details: Mapping[str, Any] | None = None) -> int:
    """Append one timeline event; returns its id."""
    with store.begin() as conn:
        result = conn.execute(schema.incident_event.insert().values(
            org=org, incident_id=incident_id, kind=kind, actor=actor, at=at, note=note,
            status_from=status_from, status_to=status_to, details=dict(details or {})))
        return int(result.inserted_primary_key[0])


def events(store: Store, org: str, incident_id: str) -> list[dict[str, Any]]:
    """The incident's own timeline events, oldest first."""
    table = schema.incident_event
    query = (select(table).where(table.c.org == org, table.c.incident_id == incident_id)
             .order_by(table.c.at, table.c.id))
    with store.engine.connect() as conn:
        return [{k: _utc(v) for k, v in dict(r).items()} for r in conn.execute(query).mappings()]


def timeline(store: Store, incident: Incident) -> list[TimelineEntry]:
    """Lifecycle events, notes and notifications plus every sfops action recorded in the audit trail
    with this incident's id or INC number (switch flips, breaker transitions, rollbacks), by time."""
    entries: list[TimelineEntry] = []
    for e in events(store, incident.org, incident.id):
        text = e["note"] or ""
        if e["status_to"]:
            move = f"{e['status_from']} -> {e['status_to']}" if e["status_from"] else e["status_to"]
            text = f"{move}: {text}" if text else move
        entries.append(TimelineEntry(at=e["at"], kind=e["kind"], actor=e["actor"], text=text,
                                     details=e["details"] or {}))
    refs = {incident.id, incident.id[:15]} | ({incident.name} if incident.name else set())
    seen: set[int] = set()
    for ref in refs:
        for record in store.audit_history(incident_id=ref, limit=1000):
            if record.id in seen:
                continue
            seen.add(record.id)
            change = f"{record.before!r} -> {record.after!r}" if record.before is not None or \
                record.after is not None else ""
            text = " ".join(p for p in (record.target, change, f"({record.reason})" if record.reason else "",
                                        "" if record.outcome == "done" else f"[{record.outcome}]") if p)
            entries.append(TimelineEntry(at=record.at, kind=record.action, actor=record.actor, text=text,
                                         details={"audit_id": record.id, "org": record.org}))
    entries.sort(key=lambda e: e.at)
    return entries
