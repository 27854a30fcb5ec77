"""The incidents' part of the local store: the Incident_Log__c mirror and the timeline, as domain objects.

The SQL lives in sfops/store/incidents.py; the outbox is sfops/incidents/notify.py's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sfops.incidents.model import Incident, Status, TimelineEntry
from sfops.store import Store, notifications
from sfops.store import incidents as incident_table

_COLUMNS = (
    "name",
    "severity",
    "status",
    "summary",
    "context",
    "category",
    "source",
    "release",
    "dedup_key",
    "occurrence_count",
    "detected_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
    "closed_at",
    "last_seen_at",
    "resolution",
    "root_cause",
)


def save_incident(store: Store, incident: Incident) -> None:
    """Insert or replace the mirror row of an incident."""
    save_incidents(store, [incident])


def _row(incident: Incident) -> dict[str, Any]:
    values = {c: getattr(incident, c) for c in _COLUMNS}
    values["status"] = incident.status.value
    return {"alias": incident.org, "id": incident.id, **values}


def save_incidents(store: Store, incidents: Iterable[Incident]) -> int:
    """Insert or replace the mirror rows of many incidents in one transaction; returns how many."""
    return incident_table.upsert_incidents(store, (_row(i) for i in incidents))


def _incident(row: Mapping[str, Any]) -> Incident:
    values = {k: row[k] for k in _COLUMNS}
    values["status"] = Status(values["status"])
    values["summary"] = values["summary"] or ""
    return Incident(id=row["id"], org=row["alias"] or row["org"], **values)


def load_incident(store: Store, alias: str, ref: str) -> Incident | None:
    """The mirrored incident by id or INC number."""
    row = incident_table.find_incident(store, alias, ref)
    return _incident(row) if row else None


def list_incidents(store: Store, alias: str | None = None) -> list[Incident]:
    """Every mirrored incident (of one org, or all), oldest first."""
    return [_incident(r) for r in incident_table.incident_rows(store, alias)]


def add_event(
    store: Store,
    *,
    alias: str,
    incident_id: str,
    kind: str,
    actor: str,
    at: dt.datetime,
    note: str | None = None,
    status_from: str | None = None,
    status_to: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> int:
    """Append one timeline event; returns its id."""
    return incident_table.insert_event(
        store,
        alias=alias,
        incident_id=incident_id,
        kind=kind,
        actor=actor,
        at=at,
        note=note,
        status_from=status_from,
        status_to=status_to,
        details=details,
    )


def events(store: Store, alias: str, incident_id: str) -> list[dict[str, Any]]:
    """The incident's own timeline events, oldest first."""
    return incident_table.event_rows(store, alias, incident_id)


def timeline(store: Store, incident: Incident) -> list[TimelineEntry]:
    """Lifecycle events, notes and notifications plus every sfops action recorded in the audit trail
    with this incident's id or INC number (switch flips, breaker transitions, rollbacks), by time."""
    entries: list[TimelineEntry] = []
    for e in events(store, incident.org, incident.id):
        text = e["note"] or ""
        if e["status_to"]:
            move = f"{e['status_from']} -> {e['status_to']}" if e["status_from"] else e["status_to"]
            text = f"{move}: {text}" if text else move
        entries.append(
            TimelineEntry(at=e["at"], kind=e["kind"], actor=e["actor"], text=text, details=e["details"] or {})
        )
    refs = {incident.id, incident.id[:15]} | ({incident.name} if incident.name else set())
    seen: set[int] = set()
    for ref in refs:
        for record in store.audit_history(incident_id=ref, limit=1000):
            if record.id in seen:
                continue
            seen.add(record.id)
            change = (
                f"{_brief(record.before)} -> {_brief(record.after)}"
                if record.before is not None or record.after is not None
                else ""
            )
            text = " ".join(
                p
                for p in (
                    record.target,
                    change,
                    f"({record.reason})" if record.reason else "",
                    "" if record.outcome == "done" else f"[{record.outcome}]",
                )
                if p
            )
            entries.append(
                TimelineEntry(
                    at=record.at,
                    kind=record.action,
                    actor=record.actor,
                    text=text,
                    details={"audit_id": record.id, "org": record.alias},
                )
            )
    entries.sort(key=lambda e: e.at)
    return entries


def _brief(value: Any) -> str:
    """An audit before/after value in a few characters: one-key mappings by their value, SHAs shortened."""
    if isinstance(value, Mapping) and len(value) == 1:
        value = next(iter(value.values()))
    if isinstance(value, str) and len(value) == 40 and all(c in "0123456789abcdef" for c in value):
        return value[:10]
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_brief(v)}" for k, v in value.items())
    return str(value)


# --- idempotent raise: intent before the insert, settled after its side effects -------------------
def _intent_key(store: Store, alias: str, dedup_key: str) -> str:
    digest = hashlib.sha256(dedup_key.lower().encode("utf-8")).hexdigest()[:32]
    return f"incidents.raise_intent.{store.org_key(alias)}.{digest}"  # one org, one intent, whichever alias


def record_raise_intent(store: Store, alias: str, dedup_key: str, detected_at: dt.datetime) -> None:
    """Remember, before inserting, that this store is about to create the incident of `dedup_key`."""
    store.set_state(
        _intent_key(store, alias, dedup_key), {"dedup_key": dedup_key, "detected_at": detected_at.isoformat()}
    )


def raise_intent(store: Store, alias: str, dedup_key: str) -> dt.datetime | None:
    """The Detected_At__c of an unsettled raise of `dedup_key` (an earlier run that did not finish), or None."""
    value = store.get_state(_intent_key(store, alias, dedup_key))
    if not isinstance(value, Mapping) or str(value.get("dedup_key", "")).lower() != dedup_key.lower():
        return None
    return dt.datetime.fromisoformat(str(value["detected_at"]))


def settle_raise_intent(store: Store, alias: str, dedup_key: str) -> None:
    """The raise finished (or turned out to be someone else's incident): forget the intent."""
    store.delete_state(_intent_key(store, alias, dedup_key))


@dataclass(frozen=True)
class RaiseProgress:
    """Which side effects of raising an incident this store has already recorded."""

    raised: bool
    trigger_published: bool
    triggered_queued: bool


def raise_progress(store: Store, alias: str, incident_id: str) -> RaiseProgress:
    """Whether the "raised" event, a published trigger Incident_Event__e and a "triggered" notification
    (in the outbox, whatever its delivery status: the outbox retries it) exist for the incident."""
    rows = events(store, alias, incident_id)
    raised = any(e["kind"] == "raised" for e in rows)
    published = any(e["kind"] == "event" and (e["details"] or {}).get("action") == "trigger" for e in rows)
    queued = any(r["phase"] == "triggered" for r in notifications.outbox_rows(store, alias, incident_id=incident_id))
    return RaiseProgress(raised=raised, trigger_published=published, triggered_queued=queued)
