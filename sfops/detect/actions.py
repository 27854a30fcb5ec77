"""Automatic actions of firing rules, behind guard rails, and their one-command undo.

Guard rails, checked in this order for every action:
1. only the switch or breaker the rule names (literal names, checked when the rule is loaded);
2. `[detect] mode = "observe"`: the action is recorded as what would have been done, nothing is changed;
3. a quiet window (`[detect] quiet`): nothing automatic happens inside it;
4. at most `max_actions_per_hour` automatic actions per org in the last hour.

Every action (done, observed or refused) is an audit record `detect.action` naming the rule and the incident;
`sfops detect undo AUDIT_ID` reverses a done one (switch back on, breaker reset, trace flag removed).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sfops.detect.model import Action, DetectConfig, Rule
from sfops.detect.rules import in_quiet_window
from sfops.detect.signals import render
from sfops.errors import SfopsError, UsageError
from sfops.store import Store
from sfops.store import detection as db

AUDIT_ACTION = "detect.action"
UNDO_ACTION = "detect.undo"


def guard(config: DetectConfig, store: Store, alias: str, now: dt.datetime) -> str | None:
    """Why no automatic action may run now (observe mode, quiet window, hourly budget), or None."""
    if config.mode == "observe":
        return "observe mode"
    window = in_quiet_window(config.quiet, now)
    if window is not None:
        return f"quiet window {window['start']}-{window['end']}"
    done = db.count_audit(store, alias, AUDIT_ACTION, now - dt.timedelta(hours=1), outcomes=("done", "pending"))
    if done >= config.max_actions_per_hour:
        return f"{done} automatic action(s) in the last hour (max_actions_per_hour = {config.max_actions_per_hour})"
    return None


def _execute(
    action: Action,
    org: Any,
    store: Store,
    *,
    actor: str,
    reason: str,
    incident_id: str | None,
    sample: dict[str, Any],
    now: dt.datetime,
) -> dict[str, Any]:
    """Do one action; returns what undo needs."""
    if action.type == "switch_off":
        from sfops.switches import flip

        result = flip(
            org,
            store,
            {action.target: False},
            scope=action.scope,
            actor=actor,
            reason=reason,
            incident_id=incident_id,
            now=now,
        )
        changed = [c for c in result.changes if c.changed]
        return {
            "switch": action.target,
            "scope": action.scope,
            "changed": bool(changed),
            "before": changed[0].before if changed else None,
            "audit_ids": result.audit_ids,
        }
    if action.type == "breaker_open":
        from sfops.breakers.service import set_breaker

        change = set_breaker(
            org, store, action.target, "open", actor=actor, reason=reason, incident_id=incident_id, now=now
        )
        return {
            "breaker": action.target,
            "before": str(change.before.value if hasattr(change.before, "value") else change.before),
            "audit_id": change.audit_id,
        }
    from sfops.logs.traceflags import trace_on

    user = render(action.target, sample)
    if not user or user == "-":
        raise UsageError(f"no user to trace: '{action.target}' is empty for this failure")
    flag = trace_on(org, store, user, actor=actor, reason=reason, minutes=action.minutes, now=now)
    return {"user": flag.user_id, "username": flag.user, "flag_id": flag.id, "flag": flag.action}


def run_actions(
    rule: Rule,
    config: DetectConfig,
    org: Any,
    store: Store,
    *,
    alias: str,
    actor: str,
    incident_id: str | None,
    incident_ref: str | None,
    sample: dict[str, Any],
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """Run the rule's actions behind the guard rails; every one is audited (done, observed, refused, failed)."""
    out = []
    for action in rule.actions:
        reason = f"detect rule {rule.name} fired" + (f" (incident {incident_ref})" if incident_ref else "")
        blocked = guard(config, store, alias, now)
        entry: dict[str, Any] = {
            "rule": rule.name,
            "type": action.type,
            "target": action.target,
            "what": action.describe(),
            "incident": incident_ref,
        }
        details = {
            "rule": rule.name,
            "action": action.type,
            "target": action.target,
            "scope": action.scope,
            "incident": incident_ref,
            "minutes": action.minutes,
        }
        if blocked is not None:
            outcome = "observed" if config.mode == "observe" else "refused"
            entry.update(outcome=outcome, why=blocked)
            entry["audit_id"] = store.record_audit(
                actor=actor,
                alias=alias,
                action=AUDIT_ACTION,
                target=f"{action.type}:{action.target}",
                reason=f"{reason}; {blocked}",
                incident_id=incident_id,
                outcome=outcome,
                at=now,
                details=details,
            )
            out.append(entry)
            continue
        # intent first: an action whose reply is lost still counts against the budget and shows as pending
        entry["audit_id"] = store.record_audit(
            actor=actor,
            alias=alias,
            action=AUDIT_ACTION,
            target=f"{action.type}:{action.target}",
            reason=reason,
            incident_id=incident_id,
            outcome="pending",
            at=now,
            details=details,
        )
        try:
            entry["undo"] = _execute(
                action, org, store, actor=actor, reason=reason, incident_id=incident_id, sample=sample, now=now
            )
            entry["outcome"] = "done"
        except SfopsError as exc:
            entry.update(outcome="failed", why=exc.message)
        store.settle_audit(
            [entry["audit_id"]],
            entry["outcome"],
            {"undo": entry.get("undo"), **({"error": entry["why"]} if entry.get("why") else {})},
        )
        out.append(entry)
    return out


def undo(
    org: Any,
    store: Store,
    audit_id: int,
    *,
    alias: str,
    actor: str,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Reverse one automatic action (by its `detect.action` audit id)."""
    now = now or dt.datetime.now(dt.UTC)
    record = db.audit_record(store, audit_id)
    if record is None or record["action"] != AUDIT_ACTION or record["org"] != store.org_key(alias):
        raise UsageError(f"No automatic action {audit_id} in org {alias}.", actions=["sfops detect actions"])
    if record["outcome"] != "done":
        raise UsageError(f"Action {audit_id} was {record['outcome']}, not done: nothing to undo.")
    if _undone(store, alias, audit_id):
        raise UsageError(f"Action {audit_id} was already undone.")
    details = record["details"] or {}
    data = details.get("undo") or {}
    why = reason or f"undo automatic action {audit_id} (rule {details.get('rule')})"
    incident_id = record.get("incident_id")
    kind = details.get("action")
    if kind == "switch_off":
        from sfops.switches import flip

        if not data.get("changed"):
            result: dict[str, Any] = {"switch": data.get("switch"), "note": "the switch was already off; left as is"}
        else:
            flipped = flip(
                org,
                store,
                {data["switch"]: bool(data.get("before", True))},
                scope=data.get("scope"),
                actor=actor,
                reason=why,
                incident_id=incident_id,
                now=now,
            )
            result = {"switch": data["switch"], "value": bool(data.get("before", True)), "audit_ids": flipped.audit_ids}
    elif kind == "breaker_open":
        from sfops.breakers.service import set_breaker

        change = set_breaker(
            org, store, data["breaker"], "reset", actor=actor, reason=why, incident_id=incident_id, now=now
        )
        result = {"breaker": data["breaker"], "audit_id": change.audit_id}
    else:
        from sfops.logs.traceflags import trace_off

        removed = trace_off(org, store, data["user"], actor=actor, reason=why)
        result = {"user": data.get("username"), "deleted": [f.id for f in removed]}
    result["undo_audit_id"] = store.record_audit(
        actor=actor,
        alias=alias,
        action=UNDO_ACTION,
        target=record["target"],
        before=data,
        after=result,
        reason=why,
        incident_id=incident_id,
        at=now,
        details={"undoes": audit_id, "rule": details.get("rule")},
    )
    return {"undid": audit_id, "rule": details.get("rule"), "what": record["target"], **result}


def _undone(store: Store, alias: str, audit_id: int) -> bool:
    return any(
        (r.get("details") or {}).get("undoes") == audit_id
        for r in db.audit_events(
            store, alias, UNDO_ACTION, dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
        )
    )


def actions_log(store: Store, alias: str, since: dt.datetime) -> list[dict[str, Any]]:
    """Automatic actions (and undos) of one org since `since`, newest first."""
    rows = db.audit_events(store, alias, "detect.", since, dt.datetime(9999, 1, 1, tzinfo=dt.UTC))
    return sorted(rows, key=lambda r: r["id"], reverse=True)
