"""`sfops breaker ...`: list, show, force open/close, reset and sync Circuit_Breaker__c records."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sfops.breakers.core import Snapshot, State
from sfops.breakers.linking import LinkOutcome, flipped_by_sfops, on_breaker_close, on_breaker_open
from sfops.breakers.records import (
    BREAKER_OBJECT,
    FIELDS,
    BreakerRow,
    available_fields,
    changed_fields,
    fetch_rows,
    row_view,
    snapshot_from_row,
    write,
)
from sfops.errors import SfopsError, UsageError
from sfops.salesforce import LockRetry
from sfops.store import org_keys

if TYPE_CHECKING:
    from sfops.salesforce import Org
    from sfops.store import Store

ACTIONS = ("open", "close", "reset")


@dataclass(frozen=True)
class BreakerChange:
    """What `breaker open|close|reset` did (or would do with dry_run)."""

    breaker: str
    action: str
    before: State
    after: State
    changed_fields: dict[str, Any]
    link: LinkOutcome | None
    dry_run: bool
    audit_id: int | None = None


def _all(org: Org, store: Store) -> list[tuple[dict[str, Any], Snapshot]]:
    fields = available_fields(org, store)
    return [(row, snapshot_from_row(row)) for row in fetch_rows(org, fields)]


def list_breakers(org: Org, store: Store) -> list[BreakerRow]:
    """Every Circuit_Breaker__c record: state, counters, thresholds, cooldown, last failure."""
    return [row_view(str(r["Id"]), str(r["Name"]), s) for r, s in _all(org, store)]


def breaker_snapshots(org: Org, store: Store) -> list[tuple[str, Snapshot]]:
    """Every Circuit_Breaker__c record as (name, snapshot): the counters a failure-rate signal samples."""
    return [(str(r["Name"]), s) for r, s in _all(org, store)]


def _find(org: Org, store: Store, name: str) -> tuple[dict[str, Any], Snapshot]:
    rows = _all(org, store)
    for row, snap in rows:
        if str(row["Name"]).lower() == name.strip().lower():
            return row, snap
    valid = ", ".join(str(r["Name"]) for r, _ in rows) or "(none)"
    raise UsageError(f"Unknown circuit breaker '{name}'. Breakers in this org: {valid}.")


def show_breaker(org: Org, store: Store, name: str) -> BreakerRow:
    """One breaker by name (case-insensitive); unknown names list the valid ones."""
    row, snap = _find(org, store, name)
    return row_view(str(row["Id"]), str(row["Name"]), snap)


def set_breaker(
    org: Org,
    store: Store,
    name: str,
    action: str,
    *,
    actor: str,
    reason: str | None = None,
    incident_id: str | None = None,
    dry_run: bool = False,
    confirm: Callable[[BreakerChange], None] | None = None,
    retry: LockRetry | None = None,
    now: dt.datetime | None = None,
) -> BreakerChange:
    """Force a breaker open or closed, or reset it; applies the kill-switch linkage and audits."""
    if action not in ACTIONS:
        raise UsageError(f"Unknown breaker action '{action}': use one of {', '.join(ACTIONS)}.")
    now = now or dt.datetime.now(dt.UTC)
    row, snap = _find(org, store, name)
    name = str(row["Name"])
    if action == "open":
        new = dataclasses.replace(snap, state=State.OPEN, opened_at=now, success_count=0)
    else:
        new = Snapshot(state=State.CLOSED, **snap.thresholds())
        if action == "close":
            new = dataclasses.replace(
                new,
                opened_at=snap.opened_at,
                last_failure=snap.last_failure,
                last_error=snap.last_error,
                last_success=snap.last_success,
            )
    fields = available_fields(org, store)
    plan = BreakerChange(
        breaker=name,
        action=action,
        before=snap.state,
        after=new.state,
        changed_fields=changed_fields(new, snap, fields),
        link=None,
        dry_run=True,
    )
    if (
        not plan.changed_fields
        and action != "open"
        and not snap.switch_flipped
        and not flipped_by_sfops(org, store, name)
    ):
        return dataclasses.replace(plan, dry_run=dry_run)  # already closed and clear: nothing to write or audit
    if dry_run:
        return plan
    if confirm is not None:
        confirm(plan)
    why = reason or f"forced {action} by {actor}"
    if action == "open":
        link = on_breaker_open(org, store, name, snap.linked_switch, actor=actor, why=why, incident_id=incident_id)
        if link.action == "switched-off":
            new = dataclasses.replace(new, switch_flipped=True)
    else:
        link = on_breaker_close(
            org,
            store,
            name,
            actor=actor,
            why=why,
            incident_id=incident_id,
            apex_flipped=snap.linked_switch if snap.switch_flipped else None,
        )
        if link.action == "restored":
            new = dataclasses.replace(new, switch_flipped=False)
    values = changed_fields(new, snap, fields)
    org_keys.key_for(store, org)  # audited under the org id: every alias of the org sees it
    # Intent first, settled after: a reply lost after the org applied the PATCH still leaves an audit.
    audit_id = store.record_audit(
        actor=actor,
        alias=org.alias,
        action=f"breaker.{action}",
        target=f"{BREAKER_OBJECT}.{name}",
        before={"state": snap.state.value, "failure_count": snap.failure_count},
        after={"state": new.state.value, "failure_count": new.failure_count},
        reason=reason,
        incident_id=incident_id,
        outcome="pending",
        details={"fields": values, "link": dataclasses.asdict(link)},
    )
    try:
        write(org, str(row["Id"]), name, values, retry)
    except SfopsError as exc:
        if not _holds(org, store, name, values):
            store.settle_audit([audit_id], "failed", {"error": exc.message})
            raise
        store.settle_audit([audit_id], "done", {"confirmed_by_read_back": exc.message})
    else:
        store.settle_audit([audit_id], "done")
    return dataclasses.replace(plan, changed_fields=values, link=link, dry_run=False, audit_id=audit_id)


def create_breaker(
    org: Org,
    store: Store,
    name: str,
    *,
    actor: str,
    max_failures: int = 5,
    cooldown_minutes: float = 1.0,
    success_threshold: int = 1,
    linked_switch: str | None = None,
    reason: str | None = None,
    dry_run: bool = False,
    confirm: Callable[[BreakerChange], None] | None = None,
    retry: LockRetry | None = None,
) -> BreakerChange:
    """Create a closed Circuit_Breaker__c record (a list custom setting row named `name`) with its thresholds.

    Safe to repeat after a lost reply: a breaker of that name with the same thresholds is left alone
    (nothing written, no audit); one with other thresholds is a UsageError, never overwritten."""
    name = name.strip()
    if not name or len(name) > 38:  # a custom setting's Name: 1 to 38 characters
        raise UsageError(f"Breaker name '{name}' must be 1 to 38 characters.")
    if max_failures < 1 or success_threshold < 1 or cooldown_minutes <= 0:
        raise UsageError("--max-failures and --success-threshold must be at least 1, --cooldown above 0.")
    new = Snapshot(
        state=State.CLOSED,
        max_failures=max_failures,
        cooldown=dt.timedelta(minutes=cooldown_minutes),
        success_threshold=success_threshold,
        linked_switch=linked_switch or None,
    )
    fields = available_fields(org, store)
    values = changed_fields(new, None, fields)
    for row, snap in _all(org, store):
        if str(row["Name"]).lower() == name.lower():
            wanted = ("max_failures", "cooldown", "success_threshold", "linked_switch")
            if any(getattr(new, a) != getattr(snap, a) for a in wanted if FIELDS[a][0] in fields):
                raise UsageError(
                    f"Circuit breaker '{row['Name']}' already exists with other settings; nothing was changed.",
                    actions=[f"sfops breaker show {row['Name']}"],
                )
            return BreakerChange(
                breaker=str(row["Name"]),
                action="create",
                before=snap.state,
                after=snap.state,
                changed_fields={},
                link=None,
                dry_run=dry_run,
            )
    plan = BreakerChange(
        breaker=name,
        action="create",
        before=State.CLOSED,
        after=State.CLOSED,
        changed_fields=values,
        link=None,
        dry_run=True,
    )
    if dry_run:
        return plan
    if confirm is not None:
        confirm(plan)
    # Intent first, settled after: a reply lost after the org created the record still leaves an audit.
    audit_id = store.record_audit(
        actor=actor,
        alias=org.alias,
        action="breaker.create",
        target=f"{BREAKER_OBJECT}.{name}",
        before=None,
        after={"state": State.CLOSED.value, **values},
        reason=reason,
        outcome="pending",
        details={"fields": values},
    )
    try:
        write(org, None, name, values, retry)
    except SfopsError as exc:
        if not _holds(org, store, name, values):
            store.settle_audit([audit_id], "failed", {"error": exc.message})
            raise
        store.settle_audit([audit_id], "done", {"confirmed_by_read_back": exc.message})
    else:
        store.settle_audit([audit_id], "done")
    return dataclasses.replace(plan, dry_run=False, audit_id=audit_id)


def _holds(org: Org, store: Store, name: str, values: dict[str, Any]) -> bool:
    """After a failed write: does the breaker's record hold every value we wrote (reply lost)?"""
    try:
        row, _ = _find(org, store, name)
    except SfopsError:
        return False
    current = {k: row.get(k) for k in values}
    return all(_same(current[k], v) for k, v in values.items())


def _same(org_value: Any, written: Any) -> bool:
    if isinstance(written, str) and isinstance(org_value, str) and written[:19] == org_value[:19]:
        return True  # datetimes come back in Salesforce's format, to the second or millisecond
    return bool(org_value == written)


def sync_links(org: Org, store: Store, *, actor: str) -> list[LinkOutcome]:
    """Apply the linkage to breakers Apex opened or closed: open ones switch their linked switch
    off, closed ones get back what sfops switched off. Meant for the agent / cron."""
    outcomes = []
    fields = available_fields(org, store)
    for row, snap in _all(org, store):
        name = str(row["Name"])
        marker = flipped_by_sfops(org, store, name)
        if snap.state is State.OPEN and snap.linked_switch and not marker and not snap.switch_flipped:
            outcome = on_breaker_open(
                org, store, name, snap.linked_switch, actor=actor, why=snap.last_error or "found open by sync"
            )
            flag = True if outcome.action == "switched-off" else None
        elif snap.state is State.CLOSED and marker:
            # Apex closing a breaker restores its own flips; only sfops's are left to do here.
            outcome = on_breaker_close(org, store, name, actor=actor, why="found closed by sync")
            flag = False if outcome.action == "restored" else None
        else:
            continue
        if flag is not None and "Kill_Switch_Flipped__c" in fields and snap.switch_flipped is not flag:
            write(org, str(row["Id"]), name, {"Kill_Switch_Flipped__c": flag})
        outcomes.append(outcome)
    return outcomes
