"""Kill-switch operations: list, show, flip (with audit and scheduled restore), restore-due, history.

Every function takes an `Org` and a `Store` and returns dataclasses; nothing prints.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from sfops.errors import SalesforceError, SfopsError, UsageError
from sfops.salesforce import LockRetry, with_lock_retry
from sfops.store import locks, org_keys
from sfops.switches.catalog import SwitchContext, load_context
from sfops.switches.hierarchy import resolve, same_id
from sfops.switches.model import (
    SETTING_OBJECT,
    Change,
    FlipResult,
    HistoryEntry,
    Level,
    Override,
    PendingRestore,
    RestoreOutcome,
    Scope,
    SettingRecord,
    ShowResult,
    Switch,
    SwitchRow,
)
from sfops.switches.records import fetch_records, owner_names
from sfops.switches.scope import parse_scope

if TYPE_CHECKING:
    from sfops.salesforce import Org
    from sfops.store import Store

AUDIT_PREFIX = "switch."
STALE_PENDING = dt.timedelta(minutes=2)  # a "pending" flip audit older than this belongs to a process that died
Confirm = Callable[[FlipResult], None]


# --- list / show ---------------------------------------------------------------------------
def list_switches(org: Org, store: Store, *, refresh: bool = False) -> list[SwitchRow]:
    """Every switch with its org default, its profile/user overrides and its last change."""
    # the org id rides along in the same request when the describe is fetched, so flips stay cheap
    switches = load_context(org, store, refresh=refresh, need_org_id=True).switches
    records = fetch_records(org, switches)
    users = [r.owner_id for r in records if r.level is Level.USER]
    names = owner_names(org, users, [r.owner_id for r in records if r.level is Level.PROFILE])
    org_record = next((r for r in records if r.level is Level.ORG), None)
    last_flips = _last_flips(store, org.alias)
    rows = []
    for s in switches:
        overrides = {Level.PROFILE: [], Level.USER: []}  # type: dict[Level, list[Override]]
        for r in records:
            if r.level is not Level.ORG and s.name in r.values:
                overrides[r.level].append(Override(r.level, r.owner_id, names.get(r.owner_id), r.values[s.name]))
        # each switch's own last change: the audit trail's last flip of it. The org record's LastModified is
        # shared by every switch (one record holds them all; custom settings keep no field history), so it
        # is no switch's change and is left out.
        flip = last_flips.get(s.name)
        changed_at = flip.at if flip else None
        changed_by = flip.actor if flip else None
        rows.append(
            SwitchRow(
                name=s.name,
                label=s.label,
                help=s.help,
                org_value=org_record.values[s.name] if org_record and s.name in org_record.values else unset_value(s),
                profile_overrides=sorted(overrides[Level.PROFILE], key=lambda o: o.owner_name or o.owner_id),
                user_overrides=sorted(overrides[Level.USER], key=lambda o: o.owner_name or o.owner_id),
                last_changed_at=changed_at,
                last_changed_by=changed_by,
                last_reason=flip.reason if flip else None,
            )
        )
    return rows


def show_switches(org: Org, store: Store, feature: str | None = None, *, scope: str | None = None) -> ShowResult:
    """Effective values (like Apex getInstance()) for a user, a profile or the org default."""
    ctx = load_context(org, store, scope=parse_scope(scope), names=[feature] if feature else [], need_org_id=True)
    switches, target, org_id = ctx.switches, ctx.scope, str(ctx.org_id)
    names = ctx.names if feature else [s.name for s in switches]
    assert target is not None
    owners = [org_id, target.profile_id or "", target.owner_id or ""]
    records = fetch_records(org, switches, owners)
    user_id = target.owner_id if target.level is Level.USER else None
    by_name = {s.name: s for s in switches}
    resolutions = []
    for n in names:
        r = resolve(n, records, profile_id=target.profile_id, user_id=user_id)
        resolutions.append(r if r.value is not None else _replace_res(r, value=unset_value(by_name[n])))
    warnings = []
    pinning = [
        rec
        for rec in records
        if rec.level is not Level.ORG and (same_id(rec.owner_id, target.profile_id) or same_id(rec.owner_id, user_id))
    ]
    for rec in pinning:
        who = target.label if same_id(rec.owner_id, target.owner_id) else f"profile of {target.label}"
        warnings.append(
            f"A {rec.level.value}-level Kill_Switch__c record exists for {who}: it pins all "
            f"{len(switches)} switches there; org-level flips do not reach it."
        )
    return ShowResult(scope=target.label, resolutions=resolutions, records=records, warnings=warnings)


# --- flip ------------------------------------------------------------------------------------
def flip(
    org: Org,
    store: Store,
    values: Mapping[str, bool],
    *,
    scope: str | None = None,
    actor: str,
    reason: str | None = None,
    incident_id: str | None = None,
    dry_run: bool = False,
    restore_after: dt.timedelta | None = None,
    confirm: Confirm | None = None,
    retry: LockRetry | None = None,
    now: dt.datetime | None = None,
    action: str | None = None,
) -> FlipResult:
    """Set one or more switches at one scope in ONE write; audit each change.

    Only changed fields are sent (concurrent flips of other switches survive); a row lock is
    retried with bounded backoff. A flip needs a `reason` (it goes into the audit trail); a dry run
    does not. Creating a profile/user record pins every other switch to
    its currently inherited value: the result lists them and carries a warning. `confirm`
    (if given) sees the planned result before anything is written and may raise to abort.
    """
    if not values:
        raise UsageError("Nothing to set: name at least one switch.")
    if not dry_run and not (reason and reason.strip()):
        raise UsageError("Say why with --reason TEXT: it goes into the audit trail.")
    retry = retry or LockRetry()
    ctx = load_context(org, store, scope=parse_scope(scope), names=list(values), need_org_id=True)
    assert ctx.scope is not None
    if dry_run:
        return _flip(
            org,
            store,
            ctx,
            values,
            actor=actor,
            reason=reason,
            incident_id=incident_id,
            dry_run=True,
            restore_after=restore_after,
            confirm=confirm,
            retry=retry,
            now=now,
            action=action,
        )
    # One flip at a time per switch and scope across every process sharing this store: two identical
    # flips racing would otherwise both read "on", both write "off" and both audit it. The second one
    # waits, reads "off" and has nothing to change. (Locks in name order: no deadlock.)
    try:
        with contextlib.ExitStack() as stack:
            for name in sorted(set(ctx.names)):
                stack.enter_context(locks.held(store, f"switches.flip.{org.alias}.{ctx.scope.owner_id}.{name}"))
            return _flip(
                org,
                store,
                ctx,
                values,
                actor=actor,
                reason=reason,
                incident_id=incident_id,
                dry_run=False,
                restore_after=restore_after,
                confirm=confirm,
                retry=retry,
                now=now,
                action=action,
            )
    except locks.LockBusy:
        raise SfopsError(
            f"Another sfops process is flipping switches at {ctx.scope.label} for more than 30 s; try again."
        ) from None


def _flip(
    org: Org,
    store: Store,
    ctx: SwitchContext,
    values: Mapping[str, bool],
    *,
    actor: str,
    reason: str | None,
    incident_id: str | None,
    dry_run: bool,
    restore_after: dt.timedelta | None,
    confirm: Confirm | None,
    retry: LockRetry,
    now: dt.datetime | None,
    action: str | None,
) -> FlipResult:
    switches, target, org_id = ctx.switches, ctx.scope, str(ctx.org_id)
    assert target is not None
    wanted = {canonical: bool(values[typed]) for canonical, typed in zip(ctx.names, values, strict=True)}
    records = fetch_records(org, switches, [org_id, target.profile_id or "", target.owner_id or ""])
    org_keys.learn(store, org, org_id)  # audit records under the org id: every alias of it sees them
    if not dry_run:
        settle_stale_audits(org, store, records, older_than=STALE_PENDING, now=now or dt.datetime.now(dt.UTC))
    own = _own_record(records, target)
    inherited = _inherited(records, switches, target, org_id)
    current = own.values if own else inherited
    changes = [Change(n, current.get(n), v) for n, v in wanted.items()]
    pinned = (
        {}
        if own or target.level is Level.ORG
        else {s.name: inherited.get(s.name, False) for s in switches if s.name not in wanted}
    )
    effective = [c for c in changes if c.changed]
    warnings = []
    if pinned and effective:  # only a flip that really creates the record pins anything
        warnings.append(
            f"This creates a {target.level.value}-level Kill_Switch__c record for {target.label}: "
            f"it pins the other {len(pinned)} switches to their current values "
            f"({_fmt_values(pinned)}); later org-level flips will not reach {target.label}."
        )
    now = now or dt.datetime.now(dt.UTC)
    key = org.alias
    restore_at = now + restore_after if restore_after and effective else None
    plan = FlipResult(
        org=key,
        scope=target.label,
        owner_id=target.owner_id or "",
        record_id=own.id if own else None,
        changes=changes,
        dry_run=True,
        created_record=own is None and bool(effective),
        pinned=pinned if effective else {},
        restore_at=restore_at,
        warnings=warnings,
    )
    if dry_run or not effective:
        return _replace(plan, dry_run=dry_run)
    if confirm is not None:
        confirm(plan)
    changed = {c.switch: c.after for c in effective}
    batch = uuid.uuid4().hex[:12]
    # Intent first: a reply lost after the org applied the write must not leave the flip unaudited.
    with store.begin() as conn:
        audit_ids = [
            store.record_audit(
                actor=actor,
                alias=key,
                action=action or f"{AUDIT_PREFIX}{'on' if c.after else 'off'}",
                target=f"{SETTING_OBJECT}.{c.switch}",
                before=c.before,
                after=c.after,
                reason=reason,
                incident_id=incident_id,
                outcome="pending",
                conn=conn,
                at=now,
                details={
                    "scope": target.label,
                    "owner_id": target.owner_id,
                    "batch": batch,
                    "restore_at": restore_at.isoformat() if restore_at else None,
                },
            )
            for c in effective
        ]
    try:
        record_id, created, attempts = _write(org, switches, target, own, changed, pinned, retry)
        read_back = None
    except SfopsError as exc:
        try:
            confirmed = _read_back(org, switches, target, changed)
        except SfopsError:
            raise exc from None  # the outcome is unknown: the audit stays "pending" until a later read settles it
        if confirmed is None:
            store.settle_audit(audit_ids, "failed", {"error": exc.message})
            raise
        record_id, created, attempts, read_back = confirmed.id, own is None, retry.attempts, exc.message
    with store.begin() as conn:
        store.settle_audit(
            audit_ids,
            "done",
            {
                "record_id": record_id,
                "created_record": created,
                "pinned": pinned if created else {},
                "attempts": attempts,
                **({"confirmed_by_read_back": read_back} if read_back else {}),
            },
            conn=conn,
        )
        if restore_at:
            _add_pending(
                store,
                conn,
                PendingRestore(
                    id=batch,
                    org=key,
                    scope=target.label,
                    owner_id=target.owner_id or "",
                    values={c.switch: bool(c.before) for c in effective},
                    set_values=changed,
                    due_at=restore_at,
                    actor=actor,
                    reason=reason,
                    incident_id=incident_id,
                    last_audit_id=max(audit_ids),
                    created_values={**pinned, **changed} if created else None,
                ),
            )
    return _replace(
        plan,
        dry_run=False,
        record_id=record_id,
        created_record=created,
        audit_ids=audit_ids,
        attempts=attempts,
        pinned=pinned if created else {},
    )


def _read_back(org: Org, switches: list[Switch], target: Scope, changed: dict[str, bool]) -> SettingRecord | None:
    """After a failed write: the target's record if it holds every value we wrote (the org applied the
    write and the reply was lost), else None. A read that fails raises (the outcome is unknown)."""
    fresh = _own_record(fetch_records(org, switches, [target.owner_id or ""]), target)
    if fresh is None or any(fresh.values.get(n) is not v for n, v in changed.items()):
        return None
    return fresh


def settle_stale_audits(
    org: Org, store: Store, records: list[SettingRecord], *, older_than: dt.timedelta, now: dt.datetime
) -> int:
    """Settle "pending" flip audits left by a process that died between intent and outcome, by what the
    org holds now: "done" when the record has the value the flip set, else "not-applied". Returns how many."""
    settled = 0
    for audit in store.pending_audits(alias=org.alias, action_prefix=AUDIT_PREFIX):
        details = audit.details or {}
        if audit.at > now - older_than:
            continue  # a flip in progress elsewhere
        row = next((r for r in records if same_id(r.owner_id, details.get("owner_id"))), None)
        if row is None:
            continue  # not read by this command: settled by one that reads that scope
        name = audit.target.removeprefix(f"{SETTING_OBJECT}.")
        applied = row.values.get(name) is audit.after
        settled += store.settle_audit(
            [audit.id],
            "done" if applied else "not-applied",
            {"settled_by_read_back": now.isoformat(), "record_id": row.id},
        )
    return settled


def _write(
    org: Org,
    switches: list[Switch],
    target: Scope,
    own: SettingRecord | None,
    changed: dict[str, bool],
    pinned: dict[str, bool],
    retry: LockRetry,
) -> tuple[str, bool, int]:
    """PATCH the changed fields, or create the record; (record id, created?, attempts)."""
    if own is not None:
        _, attempts = with_lock_retry(lambda: org.update(SETTING_OBJECT, own.id, dict(changed), retry_safe=True), retry)
        return own.id, False, attempts
    body: dict[str, Any] = {"SetupOwnerId": target.owner_id, **pinned, **changed}
    try:
        result, attempts = with_lock_retry(lambda: org.create(SETTING_OBJECT, body, retry_safe=True), retry)
        return result, True, attempts
    except SalesforceError as exc:
        if exc.error_code not in ("DUPLICATE_VALUE", "DUPLICATE_SETUP_OWNER"):  # created meanwhile
            raise
    # Someone created the row between our read and our write: update only our fields.
    fresh = _own_record(fetch_records(org, switches, [target.owner_id or ""]), target)
    if fresh is None:
        raise SalesforceError(f"Kill_Switch__c for {target.label} was reported duplicate but cannot be read.")
    _, attempts = with_lock_retry(lambda: org.update(SETTING_OBJECT, fresh.id, dict(changed), retry_safe=True), retry)
    return fresh.id, False, attempts + 1


def _own_record(records: list[SettingRecord], target: Scope) -> SettingRecord | None:
    return next((r for r in records if r.level is target.level and same_id(r.owner_id, target.owner_id)), None)


def _inherited(records: list[SettingRecord], switches: list[Switch], target: Scope, org_id: str) -> dict[str, bool]:
    """The values the target sees from the levels above it (defaults when nothing is set)."""
    out = {}
    for s in switches:
        if target.level is Level.ORG:
            org_rec = next((r for r in records if r.level is Level.ORG), None)
            value = org_rec.values.get(s.name) if org_rec else None
        else:
            profile_id = target.profile_id if target.level is Level.USER else None
            value = resolve(s.name, records, profile_id=profile_id).value
        out[s.name] = value if value is not None else unset_value(s)
    return out


def unset_value(switch: Switch) -> bool:
    """The value of a switch no record defines: its field default, else enabled (as FeatureKillSwitch does)."""
    return switch.default if switch.default is not None else True


def _replace_res(resolution: Any, **changes: Any) -> Any:
    from dataclasses import replace

    return replace(resolution, **changes)


def _replace(result: FlipResult, **changes: Any) -> FlipResult:
    from dataclasses import replace

    return replace(result, **changes)


def _fmt_values(values: Mapping[str, bool]) -> str:
    return ", ".join(f"{k}={'on' if v else 'off'}" for k, v in values.items())


# --- scheduled restores ------------------------------------------------------------------
# One state row per pending restore (key prefix + batch id): a flip adds its own row and a restore
# deletes only its own, so a `--for` flip made while `restore-due` runs is never overwritten.
def _pending_prefix(org: str) -> str:
    return f"switches.pending_restore.{org}."


def _legacy_pending_key(org: str) -> str:
    return f"switches.pending_restores.{org}"  # before: one list for the whole org, rewritten by every run


def _add_pending(store: Any, conn: Any, pending: PendingRestore) -> None:
    value = {**pending.__dict__, "due_at": pending.due_at.isoformat()}
    store.set_state(_pending_prefix(pending.org) + pending.id, value, conn=conn)


def _split_legacy(store: Any, org: str) -> None:
    items = store.get_state(_legacy_pending_key(org))
    if not items:
        return
    with store.begin() as conn:
        for item in items:
            store.set_state(_pending_prefix(org) + str(item["id"]), item, conn=conn)
        store.delete_state(_legacy_pending_key(org), conn=conn)


def pending_restores(store: Any, org: str) -> list[PendingRestore]:
    """Scheduled restores not yet applied for an org (by alias), by due time."""
    _split_legacy(store, org)
    items = [
        PendingRestore(**{**i, "due_at": dt.datetime.fromisoformat(i["due_at"])})
        for k, i in store.state_items(_pending_prefix(org))
        if isinstance(i, dict) and "." not in k[len(_pending_prefix(org)) :]
    ]  # not alias "org.x"'s
    return sorted(items, key=lambda p: (p.due_at, p.id))


def restore_due(
    org: Org, store: Store, *, actor: str, now: dt.datetime | None = None, retry: LockRetry | None = None
) -> list[RestoreOutcome]:
    """Apply every scheduled restore that is due; a switch changed since sfops set it is left alone."""
    now = now or dt.datetime.now(dt.UTC)
    key = org.alias
    outcomes = []
    pendings = pending_restores(store, key)
    if not pendings:
        return []
    switches = load_context(org, store).switches
    for p in pendings:
        if p.due_at > now:
            outcomes.append(RestoreOutcome(p.id, p.scope, p.due_at, {}, {}, "not-due"))
            continue
        records = fetch_records(org, switches, [p.owner_id])
        row = next((r for r in records if same_id(r.owner_id, p.owner_id)), None)
        restore, skipped = {}, {}
        later = _later_flips(store, key, p)
        for name, value in p.values.items():
            current = row.values.get(name) if row else None
            if row is None:
                skipped[name] = "the record no longer exists"
            elif name in later:
                skipped[name] = f"changed since by {later[name].actor} ({later[name].reason or 'no reason'})"
            elif current is not p.set_values.get(name):
                skipped[name] = f"changed since (now {'on' if current else 'off'})"
            elif current is not value:
                restore[name] = value
        # A record sfops created for this flip and nobody touched since is deleted rather than
        # patched back: that also un-pins the other switches for its owner.
        delete = bool(row is not None and p.created_values and not skipped and row.values == p.created_values)
        if delete and row is not None:
            with_lock_retry(partial(org.delete, SETTING_OBJECT, row.id), retry or LockRetry())
        elif restore and row is not None:
            with_lock_retry(
                partial(org.update, SETTING_OBJECT, row.id, dict(restore), retry_safe=True), retry or LockRetry()
            )
        with store.begin() as conn:
            if not store.delete_state(_pending_prefix(key) + p.id, conn=conn):
                continue  # another restore-due applied it meanwhile (the write is the same): audit once
            for name, value in restore.items():
                store.record_audit(
                    actor=actor,
                    alias=key,
                    action=f"{AUDIT_PREFIX}restore",
                    target=f"{SETTING_OBJECT}.{name}",
                    before=not value,
                    after=value,
                    reason=f"scheduled restore of {p.id}" + (f" ({p.reason})" if p.reason else ""),
                    incident_id=p.incident_id,
                    conn=conn,
                    details={
                        "scope": p.scope,
                        "owner_id": p.owner_id,
                        "scheduled_by": p.actor,
                        "due_at": p.due_at.isoformat(),
                        "batch": p.id,
                        "deleted_record": delete,
                    },
                )
            for name, why in skipped.items():
                store.record_audit(
                    actor=actor,
                    alias=key,
                    action=f"{AUDIT_PREFIX}restore",
                    target=f"{SETTING_OBJECT}.{name}",
                    reason=f"restore skipped: {why}",
                    incident_id=p.incident_id,
                    outcome="skipped",
                    conn=conn,
                    details={"scope": p.scope, "owner_id": p.owner_id, "batch": p.id},
                )
        outcomes.append(
            RestoreOutcome(
                p.id, p.scope, p.due_at, restore, skipped, "restored" if restore else "skipped", deleted_record=delete
            )
        )
    return outcomes


# --- history ---------------------------------------------------------------------------------
def history(
    store: Store,
    alias: str | None = None,
    *,
    feature: str | None = None,
    incident_id: str | None = None,
    limit: int = 50,
) -> list[HistoryEntry]:
    """Audited flips and restores, newest first (from the local store; no API call)."""
    target = f"{SETTING_OBJECT}.{feature}" if feature else None
    records = store.audit_history(
        alias=alias, action_prefix=AUDIT_PREFIX, target=target, incident_id=incident_id, limit=limit
    )
    out = []
    for r in records:
        details = r.details if isinstance(r.details, Mapping) else {}
        out.append(
            HistoryEntry(
                id=r.id,
                at=r.at,
                actor=r.actor,
                org=r.alias,
                action=r.action,
                switch=r.target.split(".", 1)[-1],
                scope=str(details.get("scope", "")),
                before=r.before,
                after=r.after,
                reason=r.reason,
                incident_id=r.incident_id,
                outcome=r.outcome,
            )
        )
    return out


def _later_flips(store: Store, alias: str, pending: PendingRestore) -> dict[str, HistoryEntry]:
    """Audited flips of the pending restore's switches, at its scope, made after it was scheduled."""
    out: dict[str, HistoryEntry] = {}
    for name in pending.values:
        for entry in history(store, alias, feature=name, limit=200):
            if (
                entry.id > pending.last_audit_id
                and entry.scope == pending.scope
                and entry.outcome == "done"
                and entry.action != f"{AUDIT_PREFIX}restore"
            ):
                out.setdefault(name, entry)
    return out


def _last_flips(store: Store, alias: str) -> dict[str, HistoryEntry]:
    """The most recent org-scope audit entry per switch."""
    out: dict[str, HistoryEntry] = {}
    for entry in history(store, alias, limit=500):
        if entry.scope == "org" and entry.outcome == "done":
            out.setdefault(entry.switch, entry)
    return out
