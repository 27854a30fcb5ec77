"""Rank an org's recent changes against a failure: what touched the failing code first, then by time.

Score: a change whose components (or class) appear in the failure's stack trace ranks first; deployments
before Setup Audit Trail entries before sfops's own actions; then the most recent first.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sfops.errors import SalesforceError
from sfops.salesforce.soql import soql_literal
from sfops.salesforce.values import require_datetime
from sfops.store import Store
from sfops.store.changes import change_rows

_FRAME = re.compile(r"\b(Class|Trigger)\.([A-Za-z_][A-Za-z0-9_]*)")
_ENTRY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\.[A-Za-z_][A-Za-z0-9_]*)?(?:\(|$| on )")
OWN_ACTIONS = ("switch.", "breaker.", "rollback.", "detect.action", "detect.undo")
_WEIGHT = {"DeployRequest": 40, "ApexClass": 30, "ApexTrigger": 30, "SetupAuditTrail": 20, "sfops": 10}


@dataclass
class Change:
    """One change in the org (or by sfops), with why it ranks where it does."""

    at: dt.datetime
    source: str  # DeployRequest | SetupAuditTrail | ApexClass | ApexTrigger | sfops
    kind: str
    summary: str
    who: str | None = None
    status: str | None = None
    id: str | None = None
    components: list[str] = field(default_factory=list)
    touches: list[str] = field(default_factory=list)  # stack-trace classes this change touches
    score: float = 0.0


def apex_in_stack(*texts: str | None) -> list[str]:
    """Apex class and trigger names in stack traces / entry points (`Class.QuoteGuard.check: line 4`)."""
    names: list[str] = []
    for text in texts:
        if not text:
            continue
        for _kind, name in _FRAME.findall(text):
            if name not in names:
                names.append(name)
        first = _ENTRY.match(text.strip())
        if first and first.group(1) not in names and first.group(1) not in ("Class", "Trigger", "System"):
            names.append(first.group(1))
    return names


def stack_apex_changes(org: Any, names: Sequence[str]) -> list[Change]:
    """The named Apex classes and triggers with their LastModifiedDate and LastModifiedBy (one query each)."""
    if not names:
        return []
    wanted = ", ".join(soql_literal(n) for n in names[:50])
    out: list[Change] = []
    for sobject in ("ApexClass", "ApexTrigger"):
        try:
            rows = org.query(
                f"SELECT Id, Name, LastModifiedDate, LastModifiedById FROM {sobject} "  # noqa: S608
                f"WHERE Name IN ({wanted})"
            )
        except SalesforceError:
            continue
        users = {r.get("LastModifiedById") for r in rows if r.get("LastModifiedById")}
        who: dict[str, str] = {}
        if users:
            try:
                who = {
                    u["Id"]: u.get("Name") or u["Id"]
                    for u in org.query(
                        f"SELECT Id, Name FROM User WHERE Id IN ({', '.join(soql_literal(u) for u in sorted(users))})"  # noqa: S608
                    )
                }
            except SalesforceError:
                who = {}
        for r in rows:
            by = r.get("LastModifiedById") or ""
            out.append(
                Change(
                    at=require_datetime(r["LastModifiedDate"]),
                    source=sobject,
                    kind="modified",
                    summary=f"{sobject} {r['Name']} last modified",
                    who=who.get(by, by or None),
                    id=r["Id"],
                    components=[f"{sobject}:{r['Name']}"],
                    touches=[r["Name"]],
                )
            )
    return out


def _sfops_changes(store: Store, alias: str, since: dt.datetime, until: dt.datetime) -> list[Change]:
    out = []
    for record in store.audit_history(alias=alias, limit=500):
        if not (since <= record.at <= until) or not record.action.startswith(OWN_ACTIONS):
            continue
        if record.outcome not in ("done", None) and not record.action.startswith("rollback."):
            continue
        what = f"{record.action} {record.target}"
        if record.after is not None and not isinstance(record.after, dict):
            what += f" -> {record.after}"
        out.append(
            Change(
                at=record.at,
                source="sfops",
                kind=record.action,
                summary=what + (f" ({record.reason})" if record.reason else ""),
                who=record.actor,
                status=record.outcome,
                id=str(record.id),
            )
        )
    return out


def _touches(components: Iterable[str], classes: Sequence[str]) -> list[str]:
    lowered = {c.lower() for c in classes}
    return sorted({c.split(":", 1)[-1] for c in components if c.split(":", 1)[-1].lower() in lowered})


def list_changes(
    store: Store,
    alias: str,
    *,
    since: dt.datetime,
    until: dt.datetime | None = None,
    stack_classes: Sequence[str] = (),
    extra: Sequence[Change] = (),
) -> list[Change]:
    """Stored org changes and sfops's own actions in [since, until], ranked (most suspect first)."""
    until = until or dt.datetime.now(dt.UTC)
    changes: list[Change] = []
    for row in change_rows(store, alias, since=since, until=until):
        changes.append(
            Change(
                at=row["at"],
                source=row["source"],
                kind=row["kind"] or "",
                summary=row["summary"] or "",
                who=row["who"],
                status=row["status"],
                id=row["id"],
                components=row["components"] or [],
            )
        )
    changes += _sfops_changes(store, alias, since, until)
    changes += [c for c in extra if since <= c.at <= until]
    span = max((until - since).total_seconds(), 1.0)
    for change in changes:
        change.touches = change.touches or _touches(change.components, stack_classes)
        if change.source == "SetupAuditTrail" and stack_classes:
            change.touches = [
                c for c in stack_classes if re.search(rf"\b{re.escape(c)}\b", change.summary, re.IGNORECASE)
            ]
        recency = 1.0 - (until - change.at).total_seconds() / span  # 0 (oldest) .. 1 (just before)
        change.score = round((100.0 if change.touches else 0.0) + _WEIGHT.get(change.source, 0) + 9 * recency, 3)
    return sorted(changes, key=lambda c: (-c.score, -c.at.timestamp()))


def attach_to_incident(
    store: Store,
    alias: str,
    incident_id: str,
    *,
    detected_at: dt.datetime,
    actor: str,
    stack_texts: Sequence[str | None] = (),
    org: Any = None,
    lookback: dt.timedelta = dt.timedelta(hours=24),
    limit: int = 10,
) -> list[Change]:
    """Rank the changes before `detected_at` and put them on the incident's timeline (kind `changes`)."""
    from sfops.incidents.records import add_event

    classes = apex_in_stack(*stack_texts)
    extra = stack_apex_changes(org, classes) if org is not None and classes else []
    ranked = list_changes(
        store, alias, since=detected_at - lookback, until=detected_at, stack_classes=classes, extra=extra
    )[:limit]
    if ranked:
        first = ranked[0]
        note = (
            f"{len(ranked)} change(s) in the {int(lookback.total_seconds() // 3600)} h before; most suspect: "
            f"{first.summary} ({first.source}, {first.at:%Y-%m-%d %H:%M} UTC"
            + (f", touches {', '.join(first.touches)}" if first.touches else "")
            + ")"
        )
    else:
        note = f"No change recorded in the {int(lookback.total_seconds() // 3600)} h before."
    add_event(
        store,
        alias=alias,
        incident_id=incident_id,
        at=detected_at,
        kind="changes",
        actor=actor,
        note=note,
        details={"changes": [_plain(c) for c in ranked], "stack_classes": classes},
    )
    return ranked


def _plain(change: Change) -> dict[str, Any]:
    return {
        "at": change.at.isoformat(),
        "source": change.source,
        "kind": change.kind,
        "summary": change.summary,
        "who": change.who,
        "status": change.status,
        "id": change.id,
        "touches": change.touches,
        "score": change.score,
    }
