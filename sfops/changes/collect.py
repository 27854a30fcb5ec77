"""Copy an org's change history into the store: DeployRequest (Tooling API, about 30 days) with its components
(the deployRequest resource, `includeDetails=true`), and SetupAuditTrail (180 days).

Incremental: each source keeps an inclusive watermark (state `changes.<source>.watermark.<org>`); a deploy that
was still running stays inside the watermark until it is done, so its final status replaces the first one.
Idempotent: rows are keyed by (org, source, Id). An org without an object reports it as unavailable.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sfops.errors import SalesforceError
from sfops.salesforce.soql import soql_literal
from sfops.salesforce.values import require_datetime
from sfops.store import Store
from sfops.store.changes import save_changes

DEPLOY_FIELDS = (
    "Id",
    "Status",
    "CreatedDate",
    "StartDate",
    "CompletedDate",
    "CreatedById",
    "CheckOnly",
    "NumberComponentsDeployed",
    "NumberComponentsTotal",
    "NumberComponentErrors",
    "NumberTestErrors",
    "ErrorMessage",
)
AUDIT_FIELDS = ("Id", "Action", "Section", "CreatedDate", "CreatedById", "Display", "DelegateUser")
DONE = ("Succeeded", "SucceededPartial", "Failed", "Canceled")
DEPLOY_DAYS, AUDIT_DAYS = 30, 180
UNAVAILABLE = ("INVALID_TYPE", "INVALID_FIELD", "NOT_FOUND")


@dataclass
class CollectResult:
    """What one collection did, per source."""

    org: str
    deploys_new: int = 0
    deploys_updated: int = 0
    audit_new: int = 0
    unavailable: list[str] = field(default_factory=list)
    new_rows: list[dict[str, Any]] = field(default_factory=list)  # new org-side changes (for Change Events)


def _key(source: str, org: str) -> str:
    return f"changes.{source}.watermark.{org}"


def _watermark(store: Store, source: str, org: str, now: dt.datetime, days: int) -> dt.datetime:
    value = store.get_state(_key(source, org))
    floor = now - dt.timedelta(days=days)
    return max(dt.datetime.fromisoformat(value), floor) if value else floor


def _user_names(org: Any, ids: set[str]) -> dict[str, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    rows = org.query(f"SELECT Id, Name FROM User WHERE Id IN ({', '.join(soql_literal(i) for i in sorted(ids))})")  # noqa: S608
    out = {}
    for row in rows:
        out[row["Id"]] = row.get("Name") or row["Id"]
        out[row["Id"][:15]] = out[row["Id"]]
    return out


def _components(org: Any, deploy_id: str) -> list[str]:
    """`Type:FullName` of every component of a deploy (one request; empty when the resource is refused)."""
    try:
        body = org.request("GET", f"metadata/deployRequest/{deploy_id}", params={"includeDetails": "true"})
    except SalesforceError:
        return []
    details = (body.get("deployResult") or {}).get("details") or {}
    out = []
    for item in [*(details.get("componentSuccesses") or []), *(details.get("componentFailures") or [])]:
        kind, name = item.get("componentType") or "", item.get("fullName") or ""
        if name and name != "package.xml" and kind:
            out.append(f"{kind}:{name}")
    return sorted(set(out))


def _deploy_row(record: dict[str, Any], who: str, components: list[str]) -> dict[str, Any]:
    at = record.get("CompletedDate") or record.get("StartDate") or record["CreatedDate"]
    status = record.get("Status") or "Unknown"
    total = record.get("NumberComponentsTotal") or len(components)
    names = ", ".join(c.split(":", 1)[1] for c in components[:6]) + (" ..." if len(components) > 6 else "")
    summary = f"Deployment {status}: {total} component(s)" + (f" ({names})" if names else "")
    if record.get("ErrorMessage"):
        summary += f": {record['ErrorMessage']}"
    return {
        "id": record["Id"],
        "at": require_datetime(at),
        "kind": "deploy",
        "status": status,
        "who": who,
        "summary": summary[:2000],
        "components": components,
        "details": {
            "created": record.get("CreatedDate"),
            "component_errors": record.get("NumberComponentErrors"),
            "test_errors": record.get("NumberTestErrors"),
        },
    }


def collect_deploys(org: Any, store: Store, alias: str, now: dt.datetime, result: CollectResult) -> None:
    """New and still-running DeployRequests since the watermark."""
    since = _watermark(store, "DeployRequest", alias, now, DEPLOY_DAYS)
    soql = (
        f"SELECT {', '.join(DEPLOY_FIELDS)} FROM DeployRequest WHERE CreatedDate >= {soql_literal(since)} "  # noqa: S608
        "AND CheckOnly = false ORDER BY CreatedDate ASC"
    )
    try:
        records = org.tooling_query(soql)
    except SalesforceError as exc:
        if exc.error_code not in UNAVAILABLE:
            raise
        result.unavailable.append(f"DeployRequest ({exc.error_code})")
        return
    if not records:
        return
    names = _user_names(org, {r.get("CreatedById") or "" for r in records})
    from sfops.store.changes import change_rows

    known = {r["id"]: r for r in change_rows(store, alias, since=since, sources=["DeployRequest"])}
    rows = []
    for record in records:
        previous = known.get(record["Id"])
        done = record.get("Status") in DONE
        if previous is not None and previous["status"] == record.get("Status"):
            continue
        components = (previous or {}).get("components") or (_components(org, record["Id"]) if done else [])
        who = names.get(record.get("CreatedById") or "", record.get("CreatedById") or "")
        rows.append(_deploy_row(record, who, components))
    running = [require_datetime(r["CreatedDate"]) for r in records if r.get("Status") not in DONE]
    watermark = min(running) if running else require_datetime(records[-1]["CreatedDate"])
    new, updated = save_changes(store, alias, "DeployRequest", rows, _key("DeployRequest", alias), watermark)
    result.deploys_new += new
    result.deploys_updated += updated
    result.new_rows += [r for r in rows if r["id"] not in known and r["status"] in DONE]


def collect_audit_trail(org: Any, store: Store, alias: str, now: dt.datetime, result: CollectResult) -> None:
    """New SetupAuditTrail entries since the watermark."""
    since = _watermark(store, "SetupAuditTrail", alias, now, AUDIT_DAYS)
    soql = (
        f"SELECT {', '.join(AUDIT_FIELDS)} FROM SetupAuditTrail WHERE CreatedDate >= {soql_literal(since)} "  # noqa: S608
        "ORDER BY CreatedDate ASC"
    )
    try:
        records = org.query(soql)
    except SalesforceError as exc:
        if exc.error_code not in UNAVAILABLE:
            raise
        result.unavailable.append(f"SetupAuditTrail ({exc.error_code})")
        return
    if not records:
        return
    from sfops.store.changes import change_rows

    known = {r["id"] for r in change_rows(store, alias, since=since, sources=["SetupAuditTrail"])}
    names = _user_names(org, {r.get("CreatedById") or "" for r in records})
    rows = [
        {
            "id": r["Id"],
            "at": require_datetime(r["CreatedDate"]),
            "kind": r.get("Action") or "setup",
            "status": None,
            "who": names.get(r.get("CreatedById") or "", r.get("CreatedById") or ""),
            "summary": (r.get("Display") or r.get("Action") or "")[:2000],
            "components": [],
            "details": {"section": r.get("Section"), "delegate_user": r.get("DelegateUser")},
        }
        for r in records
        if r["Id"] not in known
    ]
    new, _ = save_changes(
        store,
        alias,
        "SetupAuditTrail",
        rows,
        _key("SetupAuditTrail", alias),
        require_datetime(records[-1]["CreatedDate"]),
    )
    result.audit_new += new
    result.new_rows += rows


def collect_changes(org: Any, store: Store, alias: str, *, now: dt.datetime | None = None) -> CollectResult:
    """Copy new deployments and Setup Audit Trail entries of the org into the store."""
    now = now or dt.datetime.now(dt.UTC)
    result = CollectResult(org=alias)
    collect_deploys(org, store, alias, now, result)
    collect_audit_trail(org, store, alias, now, result)
    return result
