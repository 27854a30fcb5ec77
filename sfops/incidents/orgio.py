"""Reading and writing Incident_Log__c and publishing Incident_Event__e through the gateway."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from email import utils as email_utils
from typing import Any

from sfops.errors import SalesforceError
from sfops.incidents.model import PAGERDUTY_SEVERITY, Incident, Status
from sfops.salesforce import Org, format_datetime, parse_datetime, soql_literal, soql_quote

INCIDENT_OBJECT = "Incident_Log__c"
EVENT_OBJECT = "Incident_Event__e"

# Incident attribute -> Incident_Log__c field.
FIELDS: dict[str, str] = {
    "name": "Name",
    "severity": "Severity__c",
    "status": "Status__c",
    "summary": "Message__c",
    "context": "Context__c",
    "category": "Category__c",
    "source": "Source__c",
    "release": "Release__c",
    "dedup_key": "Dedup_Key__c",
    "occurrence_count": "Occurrence_Count__c",
    "detected_at": "Detected_At__c",
    "acknowledged_at": "Acknowledged_At__c",
    "mitigated_at": "Mitigated_At__c",
    "resolved_at": "Resolved_At__c",
    "closed_at": "Closed_At__c",
    "last_seen_at": "Last_Seen_At__c",
    "resolution": "Resolution__c",
    "root_cause": "Root_Cause__c",
}
_DATETIMES = ("detected_at", "acknowledged_at", "mitigated_at", "resolved_at", "closed_at", "last_seen_at")
SELECT = "SELECT Id, SystemModstamp, " + ", ".join(FIELDS.values()) + f" FROM {INCIDENT_OBJECT}"  # noqa: S608 (constants)


def to_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """Incident attributes -> Incident_Log__c field values (datetimes formatted, status as text)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in FIELDS or key == "name":
            continue
        if key in _DATETIMES:
            value = format_datetime(value) if value is not None else None
        elif isinstance(value, Status):
            value = value.value
        out[FIELDS[key]] = value
    return out


def from_record(record: Mapping[str, Any], alias: str) -> Incident:
    """An Incident from an Incident_Log__c record."""
    values: dict[str, Any] = {attr: record.get(name) for attr, name in FIELDS.items()}
    for key in _DATETIMES:
        values[key] = parse_datetime(values[key])
    values["occurrence_count"] = int(values["occurrence_count"] or 1)
    try:
        values["status"] = Status(values["status"] or Status.NEW.value)
    except ValueError:
        known = ", ".join(s.value for s in Status)
        raise SalesforceError(
            f"Incident_Log__c {record.get('Id')} has Status__c {values['status']!r}, which sfops "
            f"does not know ({known}): was the picklist changed in the org?",
            error_code="UNKNOWN_STATUS",
        ) from None
    values["summary"] = values["summary"] or ""
    values["severity"] = values["severity"] or "P3"
    return Incident(id=str(record["Id"]), org=alias, **values)


def fetch(org: Org, record_id: str) -> dict[str, Any] | None:
    """The Incident_Log__c record by id, or None."""
    rows = org.query(f"{SELECT} WHERE Id = {soql_quote(record_id)}")
    return rows[0] if rows else None


def fetch_by_name(org: Org, name: str) -> dict[str, Any] | None:
    """The Incident_Log__c record by its INC number, or None."""
    rows = org.query(f"{SELECT} WHERE Name = {soql_quote(name)}")
    return rows[0] if rows else None


def fetch_by_dedup_key(org: Org, key: str) -> dict[str, Any] | None:
    """The Incident_Log__c record holding a dedup key, or None."""
    rows = org.query(f"{SELECT} WHERE Dedup_Key__c = {soql_quote(key)}")
    return rows[0] if rows else None


def create(org: Org, values: Mapping[str, Any]) -> str:
    """Insert an Incident_Log__c; DUPLICATE_VALUE (dedup key taken) propagates as SalesforceError.

    Retried by the gateway after a lost reply or a 5xx: the unique Dedup_Key__c makes a second
    insert fail with DUPLICATE_VALUE instead of creating a second incident."""
    return org.create(INCIDENT_OBJECT, to_fields(values), retry_safe=True)


def update(org: Org, record_id: str, values: Mapping[str, Any], unmodified_since: dt.datetime | None = None) -> None:
    """PATCH fields; with `unmodified_since` the org refuses (412) if someone changed the record since.

    The header has one-second resolution, so the time is rounded UP to the next whole second:
    rounding down would make the record's own SystemModstamp (with milliseconds) look like a later
    change. A change within that same second goes unnoticed (weak validation, as HTTP defines it).
    """
    headers = {"If-Unmodified-Since": http_date(unmodified_since)} if unmodified_since else None
    # Fixed values (a status, its stamps) are safe to send again; a conditional count is not: its replay
    # after a lost reply would fail the precondition and be counted a second time.
    org.request(
        "PATCH",
        f"sobjects/{INCIDENT_OBJECT}/{record_id}",
        json=to_fields(values),
        headers=headers,
        idempotent=unmodified_since is None,
    )


def http_date(moment: dt.datetime) -> str:
    """An HTTP-date (RFC 9110) for `moment`, rounded up to the whole second."""
    moment = moment.astimezone(dt.UTC)
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + dt.timedelta(seconds=1)
    return email_utils.format_datetime(moment, usegmt=True)


def is_duplicate(error: SalesforceError) -> bool:
    return error.error_code == "DUPLICATE_VALUE"


def is_precondition_failed(error: SalesforceError) -> bool:
    return error.status == 412


def query(
    org: Org,
    *,
    statuses: list[str] | None = None,
    severities: list[str] | None = None,
    since: dt.datetime | None = None,
    category: str | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Incident_Log__c records matching the filters, newest first."""
    where: list[str] = []
    if statuses:
        where.append(f"Status__c IN {soql_literal(statuses)}")
    if severities:
        where.append(f"Severity__c IN {soql_literal(severities)}")
    if category:
        where.append(f"Category__c = {soql_quote(category)}")
    if since:
        where.append(f"Detected_At__c >= {soql_literal(since)}")
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    return org.query(f"{SELECT}{clause} ORDER BY Detected_At__c DESC LIMIT {int(limit)}")


def event_fields(incident: Incident, action: str, *, source: str, details: Mapping[str, Any]) -> dict[str, Any]:
    """Incident_Event__e fields, shaped like a PagerDuty Events v2 event."""
    summary = f"[{incident.severity}] {incident.summary}"
    return {
        "Event_Action__c": action,
        "Dedup_Key__c": incident.dedup_key or incident.id,
        "Summary__c": summary[:255],
        "Severity__c": PAGERDUTY_SEVERITY[incident.severity],
        "Source__c": source[:255],
        "Component__c": incident.category,
        "Custom_Details__c": json.dumps(dict(details), default=str)[:131072],
        "Incident_Id__c": incident.id,
    }


def publish_event(org: Org, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Publish Incident_Event__e. Success is `success: true`; the OPERATION_ENQUEUED entry in
    `errors` is normal for a platform event and is not an error."""
    result = org.request("POST", f"sobjects/{EVENT_OBJECT}/", json=dict(fields))
    if not isinstance(result, dict) or not result.get("success"):
        raise SalesforceError(f"Publishing {EVENT_OBJECT} failed: {result}", error_code="PUBLISH_FAILED")
    enqueued = [e for e in result.get("errors") or [] if e.get("statusCode") == "OPERATION_ENQUEUED"]
    return {"id": result.get("id"), "uuid": enqueued[0].get("message") if enqueued else None}
