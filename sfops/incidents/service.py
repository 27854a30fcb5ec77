"""The incident lifecycle: raise (with dedup), acknowledge, update, mitigate, resolve, close, list, show.

Incident_Log__c in the org is the record of truth; every change is written there first and then
mirrored in the local store with a timeline event. P1/P2 incidents publish Incident_Event__e
(trigger / acknowledge / resolve) and go through the notifier.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sfops.errors import SalesforceError, UsageError
from sfops.incidents import orgio, records
from sfops.incidents.model import (
    CATEGORIES,
    EVENT_ACTION,
    PAGING_SEVERITIES,
    Incident,
    Status,
    TimelineEntry,
    check_transition,
    parse_severity,
    parse_status,
    stamps_for,
)
from sfops.incidents.templates import phase_for
from sfops.salesforce import Org, format_datetime, parse_datetime
from sfops.store import Store, org_keys

Clock = Callable[[], dt.datetime]
_RANK = {"P1": 1, "P2": 2, "P3": 3, "P4": 4}
_CLOSED = (Status.RESOLVED, Status.CLOSED)
_COUNT_RETRIES = 5
_key_locks: dict[str, threading.Lock] = {}
_key_locks_guard = threading.Lock()


class Notifier(Protocol):
    """Sends the notifications of one lifecycle phase (see sfops.incidents.notify)."""

    def __call__(self, incident: Incident, phase: str, *, note: str | None = None) -> list[dict[str, Any]]: ...


@dataclass
class RaiseOutcome:
    """What `raise_incident` did."""

    incident: Incident
    created: bool
    escalated: bool = False
    recurred: bool = False
    event: dict[str, Any] | None = None
    notifications: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ChangeOutcome:
    """What a lifecycle change did."""

    incident: Incident
    previous: Status
    event: dict[str, Any] | None = None
    notifications: list[dict[str, Any]] = field(default_factory=list)


def derive_dedup_key(summary: str, category: str | None, source: str | None) -> str:
    """The key IncidentAlert (Apex) derives when none is given, so both sides fold the same repeats."""
    text = f"{category or 'Other'}|{'null' if source is None else source}|{summary}"
    return "auto-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def _key_lock(key: str) -> threading.Lock:
    with _key_locks_guard:
        return _key_locks.setdefault(key.lower(), threading.Lock())


class IncidentService:
    """Lifecycle operations on one org's incidents."""

    def __init__(
        self,
        org: Org,
        store: Store,
        *,
        alias: str,
        actor: str,
        clock: Clock | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self.org = org
        self.store = store
        self.alias = alias
        self.actor = actor
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.notifier = notifier

    # --- lookups -------------------------------------------------------------------------------
    def get(self, ref: str) -> Incident:
        """An incident by record id, INC number or dedup key, read from the org (and re-mirrored)."""
        self._key()
        ref = ref.strip()
        record = None
        if len(ref) in (15, 18) and ref.isalnum():
            try:
                record = orgio.fetch(self.org, ref)
            except SalesforceError as exc:
                if exc.error_code not in ("INVALID_QUERY_FILTER_OPERATOR", "MALFORMED_ID", "INVALID_ID_FIELD"):
                    raise  # an 18-character dedup key is not an id: Salesforce refuses it in WHERE Id
        if record is None:
            record = orgio.fetch_by_name(self.org, ref)
        if record is None:
            record = orgio.fetch_by_dedup_key(self.org, ref)
        if record is None:
            mirrored = records.load_incident(self.store, self.alias, ref)
            if mirrored is not None:
                record = orgio.fetch(self.org, mirrored.id)
        if record is None:
            raise UsageError(f"No incident '{ref}' in org {self.alias}.", actions=["sfops incident list"])
        incident = orgio.from_record(record, self.alias)
        records.save_incident(self.store, incident)
        return incident

    def find(
        self,
        *,
        statuses: list[str] | None = None,
        severities: list[str] | None = None,
        since: dt.datetime | None = None,
        category: str | None = None,
        open_only: bool = False,
        limit: int = 200,
    ) -> list[Incident]:
        """Incidents from the org, newest first, filtered; mirrored locally as a side effect."""
        self._key()
        wanted = [parse_status(s).value for s in statuses or []]
        if open_only:
            wanted = wanted or [s.value for s in (Status.NEW, Status.TRIAGED, Status.INVESTIGATING, Status.MITIGATED)]
        rows = orgio.query(
            self.org,
            statuses=wanted or None,
            severities=[parse_severity(s) for s in severities or []] or None,
            since=since,
            category=category,
            limit=limit,
        )
        out = [orgio.from_record(r, self.alias) for r in rows]
        records.save_incidents(self.store, out)
        return out

    def _key(self) -> None:
        """Mirror rows, timeline and outbox go under the org id (every alias of the org sees them): learned
        from the login's answer, without a call of its own (sfops.store.org_keys.key_for)."""
        org_keys.key_for(self.store, self.org)

    def timeline(self, ref: str) -> tuple[Incident, list[TimelineEntry]]:
        """The incident and its timeline (lifecycle, notes, notifications, sfops actions)."""
        incident = self.get(ref)
        return incident, records.timeline(self.store, incident)

    # --- raise ---------------------------------------------------------------------------------
    def raise_incident(
        self,
        severity: str,
        summary: str,
        *,
        context: str | None = None,
        category: str | None = None,
        dedup_key: str | None = None,
        source: str | None = None,
        release: str | None = None,
    ) -> RaiseOutcome:
        """Raise an incident, or count a repeat of an existing one with the same dedup key.

        The insert is atomic on the unique Dedup_Key__c: two raisers cannot both create. A repeat
        increments Occurrence_Count__c with an optimistic PATCH (If-Unmodified-Since the version
        read; retried on 412), and escalates the severity when the repeat is more severe.

        Idempotent end to end: the intent (dedup key, Detected_At__c) is stored before the insert,
        which the gateway may retry; a DUPLICATE_VALUE whose record carries our Detected_At__c is our
        own insert whose reply was lost, not a repeat. The side effects (timeline, trigger event,
        notifications) are each done once, checked against the store, and the intent is settled
        last, so a re-run after any failure finishes the raise instead of counting a repeat.
        """
        severity = parse_severity(severity)
        summary = (summary or "").strip()
        if not summary:
            raise UsageError("An incident needs a summary (--summary).")
        if category is not None and category not in CATEGORIES:
            raise UsageError(f"Unknown category '{category}'. Categories: {', '.join(CATEGORIES)}.")
        category = category or "Other"
        self._key()
        key = (dedup_key or "").strip()[:255] or derive_dedup_key(summary, category, source)
        now = self.clock()
        with _key_lock(key):
            values: dict[str, Any] = {
                "severity": severity,
                "status": Status.NEW,
                "summary": summary[:32768],
                "context": context[:131072] if context else None,
                "category": category,
                "source": source,
                "release": release,
                "dedup_key": key,
                "occurrence_count": 1,
                "detected_at": now,
                "last_seen_at": now,
            }
            earlier = records.raise_intent(self.store, self.alias, key)
            if earlier is not None:
                # An earlier run recorded its intent but did not finish: its insert may have landed
                # with the reply lost. If so, that incident is this raise: finish it, do not count it.
                adopted = self._ours(key, earlier)
                if adopted is not None:
                    return self._finish_raise(adopted)
            records.record_raise_intent(self.store, self.alias, key, now)
            try:
                record_id = orgio.create(self.org, values)
            except SalesforceError as exc:
                if not orgio.is_duplicate(exc):
                    raise  # the intent stays: a re-run looks for the record this call may have made
                # the gateway's retry of our own insert, whose reply was lost?
                adopted = self._ours(key, now, unrecorded=True)
                if adopted is not None:
                    return self._finish_raise(adopted)
                records.settle_raise_intent(self.store, self.alias, key)
                return self._repeat(key, severity, now)
        incident = Incident(id=record_id, org=self.alias, **values)
        record = orgio.fetch(self.org, record_id)
        if record is not None:
            incident.name = record.get("Name")
        return self._finish_raise(incident)

    def _ours(self, key: str, detected_at: dt.datetime, *, unrecorded: bool = False) -> Incident | None:
        """The org's incident of `key` if it is the one this store set out to create (same Detected_At__c;
        with `unrecorded`, also not yet on this store's timeline, so that an earlier raise in the same
        millisecond is still counted as a repeat)."""
        record = orgio.fetch_by_dedup_key(self.org, key)
        if record is None:
            return None
        incident = orgio.from_record(record, self.alias)
        if incident.detected_at is None or format_datetime(incident.detected_at) != format_datetime(detected_at):
            return None
        if unrecorded and records.raise_progress(self.store, self.alias, incident.id).raised:
            return None
        return incident

    def _finish_raise(self, incident: Incident) -> RaiseOutcome:
        """The side effects of a new incident, each done once: mirror, "raised" event, trigger, notifications.

        Safe to run again after a crash or a lost reply: what the store shows as done is skipped,
        and the intent is settled only at the end.
        """
        records.save_incident(self.store, incident)
        progress = records.raise_progress(self.store, self.alias, incident.id)
        if not progress.raised:
            records.add_event(
                self.store,
                alias=self.alias,
                incident_id=incident.id,
                kind="raised",
                actor=self.actor,
                at=incident.detected_at or self.clock(),
                status_to=Status.NEW.value,
                note=incident.summary,
                details={"severity": incident.severity, "dedup_key": incident.dedup_key, "category": incident.category},
            )
        outcome = RaiseOutcome(incident=incident, created=True)
        if incident.severity in PAGING_SEVERITIES and not progress.trigger_published:
            outcome.event = self._publish(incident, "trigger", {"occurrences": incident.occurrence_count})
        if not progress.triggered_queued:
            outcome.notifications = self._notify(incident, "triggered")
        if incident.dedup_key:
            records.settle_raise_intent(self.store, self.alias, incident.dedup_key)
        return outcome

    def _repeat(self, key: str, severity: str, now: dt.datetime) -> RaiseOutcome:
        for _attempt in range(_COUNT_RETRIES):
            record = orgio.fetch_by_dedup_key(self.org, key)
            if record is None:
                raise SalesforceError(
                    f"Dedup key '{key}' is taken but its incident cannot be read (sharing?).",
                    error_code="DUPLICATE_VALUE",
                )
            current = orgio.from_record(record, self.alias)
            escalated = _RANK[severity] < _RANK[current.severity]
            changes: dict[str, Any] = {"occurrence_count": current.occurrence_count + 1, "last_seen_at": now}
            if escalated:
                changes["severity"] = severity
            try:
                orgio.update(
                    self.org, current.id, changes, unmodified_since=parse_datetime(record.get("SystemModstamp"))
                )
            except SalesforceError as exc:
                if orgio.is_precondition_failed(exc):
                    continue  # someone else counted in between: read again
                raise
            break
        else:
            raise SalesforceError(
                f"Could not count a repeat of '{key}': the incident kept changing.", error_code="CONCURRENT_UPDATE"
            )
        for name, value in changes.items():
            setattr(current, name, value)
        recurred = current.status in _CLOSED
        records.save_incident(self.store, current)
        note = (
            f"repeat #{current.occurrence_count}"
            + (f", escalated to {severity}" if escalated else "")
            + (f" after {current.status.value}" if recurred else "")
        )
        records.add_event(
            self.store,
            alias=self.alias,
            incident_id=current.id,
            kind="recurred",
            actor=self.actor,
            at=now,
            note=note,
            details={"occurrences": current.occurrence_count},
        )
        outcome = RaiseOutcome(incident=current, created=False, escalated=escalated, recurred=recurred)
        # Like IncidentAlert: page again only when a repeat escalates to P1/P2 or an ended incident recurs,
        # so a failing loop does not become a notification storm.
        if current.severity in PAGING_SEVERITIES and (escalated or recurred):
            outcome.event = self._publish(current, "trigger", {"occurrences": current.occurrence_count})
            outcome.notifications = self._notify(current, "triggered", note=note)
        elif not recurred:
            # ...but an open incident that was never paged from here (its trigger publish failed, or it
            # was raised elsewhere) is paged now, as a paging agent keeps an event queued until delivered.
            progress = records.raise_progress(self.store, self.alias, current.id)
            if current.severity in PAGING_SEVERITIES and not progress.trigger_published:
                outcome.event = self._publish(current, "trigger", {"occurrences": current.occurrence_count})
            if not progress.triggered_queued:
                outcome.notifications = self._notify(current, "triggered", note=note)
        return outcome

    # --- lifecycle -----------------------------------------------------------------------------
    def acknowledge(self, ref: str, note: str | None = None) -> ChangeOutcome:
        """New -> Triaged (stamps Acknowledged_At__c; stops escalation)."""
        return self.transition(ref, Status.TRIAGED, note=note)

    def mitigate(self, ref: str, note: str | None = None) -> ChangeOutcome:
        """-> Mitigated (impact stopped, cause not yet fixed)."""
        return self.transition(ref, Status.MITIGATED, note=note)

    def resolve(
        self, ref: str, *, resolution: str, root_cause: str | None = None, note: str | None = None
    ) -> ChangeOutcome:
        """-> Resolved, recording the resolution and root cause."""
        if not (resolution or "").strip():
            raise UsageError("Resolving needs --resolution (what fixed it).")
        extra = {"resolution": resolution.strip()}
        if root_cause:
            extra["root_cause"] = root_cause.strip()
        return self.transition(ref, Status.RESOLVED, note=note, extra=extra)

    def close(self, ref: str, note: str | None = None) -> ChangeOutcome:
        """Resolved -> Closed (post-mortem done or not needed)."""
        return self.transition(ref, Status.CLOSED, note=note)

    def update(self, ref: str, *, status: str | None = None, note: str | None = None) -> ChangeOutcome:
        """Change status (enforced) and/or add a note to the timeline."""
        if status:
            return self.transition(ref, parse_status(status), note=note)
        if not (note or "").strip():
            raise UsageError("Nothing to update: give --status and/or --note.")
        incident = self.get(ref)
        records.add_event(
            self.store,
            alias=self.alias,
            incident_id=incident.id,
            kind="note",
            actor=self.actor,
            at=self.clock(),
            note=note,
        )
        outcome = ChangeOutcome(incident=incident, previous=incident.status)
        outcome.notifications = self._notify(incident, "update", note=note)
        return outcome

    def transition(
        self, ref: str, target: Status, *, note: str | None = None, extra: dict[str, Any] | None = None
    ) -> ChangeOutcome:
        """Move an incident to `target` if the state machine allows it; stamp and mirror it."""
        incident = self.get(ref)
        previous = incident.status
        check_transition(previous, target, incident.ref)
        now = self.clock()
        changes: dict[str, Any] = {"status": target, **stamps_for(previous, target, now, incident), **(extra or {})}
        orgio.update(self.org, incident.id, changes)
        for name, value in changes.items():
            setattr(incident, name, value)
        records.save_incident(self.store, incident)
        records.add_event(
            self.store,
            alias=self.alias,
            incident_id=incident.id,
            kind="status",
            actor=self.actor,
            at=now,
            status_from=previous.value,
            status_to=target.value,
            note=note,
            details={k: v for k, v in (extra or {}).items()},
        )
        outcome = ChangeOutcome(incident=incident, previous=previous)
        action = EVENT_ACTION.get(target)
        if previous == Status.NEW and target == Status.INVESTIGATING:
            action = "acknowledge"
        if action and incident.severity in PAGING_SEVERITIES:
            outcome.event = self._publish(incident, action, {"status": target.value})
        outcome.notifications = self._notify(incident, _phase(target), note=note)
        return outcome

    # --- side effects --------------------------------------------------------------------------
    def _publish(self, incident: Incident, action: str, details: dict[str, Any]) -> dict[str, Any]:
        body = {
            "incident_id": incident.id,
            "incident": incident.ref,
            "severity": incident.severity,
            "status": incident.status.value,
            "category": incident.category,
            "release": incident.release,
            "org": self.alias,
            **details,
        }
        fields = orgio.event_fields(incident, action, source=f"sfops:{self.alias}", details=body)
        try:
            published = orgio.publish_event(self.org, fields)
        except SalesforceError as exc:
            # The incident record stands; a failed publish is recorded on the timeline, not hidden.
            records.add_event(
                self.store,
                alias=self.alias,
                incident_id=incident.id,
                kind="event_failed",
                actor=self.actor,
                at=self.clock(),
                note=f"Incident_Event__e {action}: {exc.message}",
            )
            return {"action": action, "published": False, "error": exc.message}
        records.add_event(
            self.store,
            alias=self.alias,
            incident_id=incident.id,
            kind="event",
            actor=self.actor,
            at=self.clock(),
            note=f"Incident_Event__e {action} published",
            details={"action": action, **published},
        )
        return {"action": action, "published": True, **published}

    def _notify(self, incident: Incident, phase: str, note: str | None = None) -> list[dict[str, Any]]:
        if self.notifier is None:
            return []
        return self.notifier(incident, phase, note=note)


def _phase(status: Status) -> str:
    return "update" if status == Status.NEW else phase_for(status)
