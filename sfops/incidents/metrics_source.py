"""Where metrics come from: the incident mirror (refreshed from the org) and the audit trail.

Releases for the change failure rate: audit records whose action starts with `deploy.` or
`rollback.` name a release in `details["release"]` (rollbacks: the release rolled back; also
accepted: `details["from_release"]`) or, failing that, in `target`. Incidents contribute their
Release__c. A release fails when it was rolled back or carries a P1/P2 incident.
"""

from __future__ import annotations

import datetime as dt

from sfops.incidents import metrics, orgio, records
from sfops.salesforce import Org
from sfops.store import Store


def _release(details: object, target: str) -> str | None:
    if isinstance(details, dict):
        for key in ("release", "from_release"):
            if details.get(key):
                return str(details[key])
    return target or None


def releases_from_audit(store: Store, alias: str) -> tuple[list[str], list[str]]:
    """(deployed releases, rolled-back releases) named in the audit trail."""
    deployed = [
        r
        for rec in store.audit_history(alias=alias, action_prefix="deploy.", limit=100_000)
        if rec.outcome == "done" and (r := _release(rec.details, rec.target))
    ]
    rolled = [
        r
        for rec in store.audit_history(alias=alias, action_prefix="rollback.", limit=100_000)
        if rec.outcome == "done" and (r := _release(rec.details, rec.target))
    ]
    return deployed, rolled


def refresh_mirror(org: Org, store: Store, alias: str, since: dt.datetime | None = None) -> int:
    """Copy Incident_Log__c records into the local mirror; returns how many."""
    rows = orgio.query(org, since=since, limit=50_000)
    return records.save_incidents(store, (orgio.from_record(row, alias) for row in rows))


def compute_for(store: Store, alias: str, org: Org | None, *, since: dt.datetime | None = None) -> metrics.Metrics:
    """Metrics for one org: refresh the mirror from the org when given, then compute."""
    if org is not None:
        refresh_mirror(org, store, alias, since)
    deployed, rolled = releases_from_audit(store, alias)
    return metrics.compute(
        records.list_incidents(store, alias), since=since, deployed_releases=deployed, rolled_back_releases=rolled
    )
