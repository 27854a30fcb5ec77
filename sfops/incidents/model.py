"""The incident model: severities, statuses, the lifecycle state machine and the Incident record.

Statuses are the Incident_Log__c.Status__c picklist values. "Triaged" is the acknowledged state.
Each transition stamps its phase time (Acknowledged_At__c, Mitigated_At__c, Resolved_At__c,
Closed_At__c); Detected_At__c is stamped when the incident is raised.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sfops.errors import UsageError

SEVERITIES: tuple[str, ...] = ("P1", "P2", "P3", "P4")
# PagerDuty Events v2 payload.severity and urgency for each sfops severity.
PAGERDUTY_SEVERITY: dict[str, str] = {"P1": "critical", "P2": "error", "P3": "warning", "P4": "info"}
URGENCY: dict[str, str] = {"P1": "high", "P2": "high", "P3": "low", "P4": "low"}
# Severities that publish Incident_Event__e and page.
PAGING_SEVERITIES: frozenset[str] = frozenset({"P1", "P2"})
SEVERITY_HELP: dict[str, str] = {
    "P1": "critical: production down or data at risk for many users (e.g. every order save fails)",
    "P2": "high: a key process degraded or failing for some users (e.g. ERP sync hits CPU limits)",
    "P3": "medium: a non-critical feature broken, a workaround exists (e.g. a report times out)",
    "P4": "low: cosmetic or single-user problem (e.g. a label typo, one stuck batch record)",
}
CATEGORIES: tuple[str, ...] = (
    "Governor Limit",
    "Row Lock",
    "Callout",
    "Non-Selective Query",
    "Sharing Recalculation",
    "Validation/Flow",
    "Deployment",
    "Integration",
    "Other",
)


class Status(StrEnum):
    """Incident_Log__c.Status__c values, in lifecycle order."""

    NEW = "New"
    TRIAGED = "Triaged"
    INVESTIGATING = "Investigating"
    MITIGATED = "Mitigated"
    RESOLVED = "Resolved"
    CLOSED = "Closed"


OPEN_STATUSES: frozenset[Status] = frozenset({Status.NEW, Status.TRIAGED, Status.INVESTIGATING, Status.MITIGATED})

# Allowed next states. Rootly-style ordering: no jump from New straight to Resolved (acknowledge
# first, so MTTA means something); Mitigated can regress to Investigating; Resolved can reopen.
TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.NEW: (Status.TRIAGED, Status.INVESTIGATING),
    Status.TRIAGED: (Status.INVESTIGATING, Status.MITIGATED, Status.RESOLVED),
    Status.INVESTIGATING: (Status.MITIGATED, Status.RESOLVED),
    Status.MITIGATED: (Status.INVESTIGATING, Status.RESOLVED),
    Status.RESOLVED: (Status.CLOSED, Status.INVESTIGATING),
    Status.CLOSED: (),
}

# Incident_Event__e.Event_Action__c sent when an incident enters a status (PagerDuty Events v2).
EVENT_ACTION: dict[Status, str] = {Status.TRIAGED: "acknowledge", Status.RESOLVED: "resolve"}


class TransitionError(UsageError):
    """A lifecycle transition that is not allowed from the current status."""


def parse_severity(value: str) -> str:
    """'p1' -> 'P1'; anything else is a usage error."""
    severity = (value or "").strip().upper()
    if severity not in SEVERITIES:
        raise UsageError(f"Severity must be one of {', '.join(SEVERITIES)}, not '{value}'.")
    return severity


def parse_status(value: str) -> Status:
    """A status by name, case-insensitively ('acknowledged' is accepted for Triaged)."""
    text = (value or "").strip().lower()
    if text in ("acknowledged", "ack", "acked"):
        return Status.TRIAGED
    for status in Status:
        if status.value.lower() == text:
            return status
    raise UsageError(f"Unknown status '{value}'. Statuses: {', '.join(s.value for s in Status)}.")


def check_transition(current: Status, target: Status, incident: str = "the incident") -> None:
    """Raise TransitionError (listing the allowed next states) unless current -> target is allowed."""
    allowed = TRANSITIONS[current]
    if target in allowed:
        return
    if target == current:
        raise TransitionError(f"{incident} is already {current.value}.")
    nexts = ", ".join(s.value for s in allowed) or "none (Closed is final)"
    raise TransitionError(
        f"Cannot move {incident} from {current.value} to {target.value}. Allowed next states: {nexts}."
    )


def stamps_for(current: Status, target: Status, now: dt.datetime, incident: Incident) -> dict[str, Any]:
    """The phase timestamps to set when moving to `target` (only the unset ones, except reopen)."""
    out: dict[str, Any] = {}
    if target != Status.NEW and incident.acknowledged_at is None:
        out["acknowledged_at"] = now  # any move forward acknowledges implicitly
    if target == Status.MITIGATED and incident.mitigated_at is None:
        out["mitigated_at"] = now
    if target == Status.RESOLVED:
        out["resolved_at"] = now
        if incident.mitigated_at is None:
            out["mitigated_at"] = now  # resolving ends the impact too
    if target == Status.CLOSED:
        out["closed_at"] = now
    if current == Status.RESOLVED and target == Status.INVESTIGATING:
        out["resolved_at"] = None  # reopened
    return out


@dataclass
class Incident:
    """One incident as sfops sees it (mirrors Incident_Log__c)."""

    id: str
    org: str
    severity: str
    status: Status
    summary: str
    name: str | None = None
    context: str | None = None
    category: str | None = None
    source: str | None = None
    release: str | None = None
    dedup_key: str | None = None
    occurrence_count: int = 1
    detected_at: dt.datetime | None = None
    acknowledged_at: dt.datetime | None = None
    mitigated_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    last_seen_at: dt.datetime | None = None
    resolution: str | None = None
    root_cause: str | None = None

    @property
    def ref(self) -> str:
        """What people call it: the INC number when the org gave one, else the record id."""
        return self.name or self.id

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def row(self) -> dict[str, Any]:
        """A flat dict for tables."""
        return {
            "id": self.id,
            "ref": self.ref,
            "severity": self.severity,
            "status": self.status.value,
            "summary": self.summary,
            "category": self.category,
            "occurrences": self.occurrence_count,
            "detected_at": self.detected_at,
            "acknowledged_at": self.acknowledged_at,
            "resolved_at": self.resolved_at,
        }


@dataclass
class TimelineEntry:
    """One line of an incident's timeline (lifecycle, notes, notifications, sfops actions)."""

    at: dt.datetime
    kind: str
    actor: str
    text: str
    details: dict[str, Any] = field(default_factory=dict)
