"""`sfops switch ...`: read and flip Kill_Switch__c feature switches, with an audit trail."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import click

from sfops.cli.common import (
    dry_run_option,
    incident_option,
    known_incident,
    output_command,
    pass_app,
    reason_option,
    target_org_option,
    yes_option,
)
from sfops.cli.context import AppContext
from sfops.cli.output import Result, when_text
from sfops.errors import UsageError
from sfops.switches import (
    FlipResult,
    flip,
    history,
    list_switches,
    parse_assignments,
    parse_duration,
    pending_restores,
    restore_due,
    show_switches,
)
from sfops.switches.model import Override

scope_option = click.option(
    "--scope",
    "-s",
    "scope",
    default="org",
    show_default=True,
    metavar="SCOPE",
    help="Where to set it: org, profile:NAME or user:USERNAME.",
)
for_option = click.option(
    "--for",
    "restore_after",
    default=None,
    metavar="DURATION",
    help="Restore the previous value automatically after e.g. 30m, 2h, 1d (applied by `sfops switch restore-due`).",
)


@click.group("switch")
def switch() -> None:
    """Kill switches (Kill_Switch__c): list, show effective values, flip with audit, restore."""


def _onoff(value: bool | None) -> str:
    return "-" if value is None else ("on" if value else "off")


def _overrides(items: Sequence[Override], limit: int = 3) -> str:
    if not items:
        return "-"
    shown = ", ".join(f"{o.owner_name or o.owner_id}={_onoff(o.value)}" for o in items[:limit])
    return shown + (f" (+{len(items) - limit} more)" if len(items) > limit else "")


@switch.command("list")
@click.option("--refresh", is_flag=True, help="Re-read Kill_Switch__c's describe instead of the cached one.")
@target_org_option
@output_command
@pass_app
def list_cmd(app: AppContext, target_org: str | None, refresh: bool) -> Result:
    """Every switch: org default, profile and user overrides, who changed it last."""
    rows = list_switches(app.org(target_org), app.store, refresh=refresh)
    table = [
        {
            "switch": r.name,
            "label": r.label,
            "org": _onoff(r.org_value),
            "profiles": _overrides(r.profile_overrides),
            "users": _overrides(r.user_overrides),
            "changed": when_text(r.last_changed_at),
            "by": r.last_changed_by or "-",
        }
        for r in rows
    ]
    pinned = len({o.owner_id for r in rows for o in [*r.profile_overrides, *r.user_overrides]})
    warnings = (
        [
            f"{pinned} profile/user-level record(s) pin every switch for their owner: org-level flips do "
            "not reach them (see `sfops switch show FEATURE --user/--profile`)."
        ]
        if pinned
        else []
    )
    return Result(
        data=rows,
        rows=table,
        title="Kill switches",
        warnings=warnings,
        optional=["label", "by"],
        message=f"{len(rows)} switch(es). on = feature enabled; off = feature killed; changed = its last "
        "flip through sfops (- : none recorded).",
    )


@switch.command("show")
@click.argument("feature", required=False)
@click.option("--user", "-u", "user", default=None, metavar="USERNAME", help="Effective values for this user.")
@click.option("--profile", "-p", "profile", default=None, metavar="NAME", help="Effective values for this profile.")
@target_org_option
@output_command
@pass_app
def show_cmd(
    app: AppContext, target_org: str | None, feature: str | None, user: str | None, profile: str | None
) -> Result:
    """Effective value(s) for a user or profile, resolved like Apex getInstance()."""
    if user and profile:
        raise UsageError("Give --user or --profile, not both (a user's profile is looked up for you).")
    scope = f"user:{user}" if user else (f"profile:{profile}" if profile else "org")
    result = show_switches(app.org(target_org), app.store, feature, scope=scope)
    rows = [
        {
            "switch": r.switch,
            "effective": _onoff(r.value),
            "from": r.source.value if r.source else "default",
            "org": _onoff(r.org_value),
            "profile": _onoff(r.profile_value),
            "user": _onoff(r.user_value),
        }
        for r in result.resolutions
    ]
    return Result(data=result, rows=rows, title=f"Effective kill switches for {result.scope}", warnings=result.warnings)


def _flip(
    app: AppContext,
    target_org: str | None,
    values: dict[str, bool],
    scope: str,
    reason: str | None,
    incident_id: str | None,
    restore_after: str | None,
    dry_run: bool,
    yes: bool,
) -> Result:
    delay = parse_duration(restore_after) if restore_after else None
    config = app.org_config(target_org)
    known_incident(app, target_org, incident_id)

    def confirm(plan: FlipResult) -> None:
        changes = ", ".join(f"{c.switch} {_onoff(c.before)}->{_onoff(c.after)}" for c in plan.changes if c.changed)
        app.confirm_production(config, f"Flip {changes} at {plan.scope}.", yes=yes)

    result = flip(
        app.org(target_org),
        app.store,
        values,
        scope=scope,
        actor=app.actor,
        reason=reason,
        incident_id=incident_id,
        dry_run=dry_run,
        restore_after=delay,
        confirm=confirm,
    )
    return _flip_result(result)


def _flip_result(result: FlipResult) -> Result:
    rows = [
        {
            "switch": c.switch,
            "scope": result.scope,
            "before": _onoff(c.before),
            "after": _onoff(c.after),
            "changed": c.changed,
        }
        for c in result.changes
    ]
    changed = [c for c in result.changes if c.changed]
    if result.dry_run:
        message = f"Dry run: {len(changed)} change(s) planned at {result.scope}; nothing was written."
    elif not changed:
        message = "Nothing to change: every switch already has that value."
    else:
        what = ", ".join(f"{c.switch} {_onoff(c.after)}" for c in changed)
        message = f"Switched {what} at {result.scope} (audit #{', #'.join(map(str, result.audit_ids))})."
        if result.restore_at:
            message += f" Automatic restore due {when_text(result.restore_at)} (run `sfops switch restore-due`)."
    return Result(data=result, rows=rows, title="Kill switch change", message=message, warnings=result.warnings)


def _mutating(fn: Callable[..., Result]) -> Callable[..., None]:
    """The options and the output handling every flipping command shares."""
    decorators: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        scope_option,
        reason_option,
        incident_option,
        for_option,
        dry_run_option,
        yes_option,
        target_org_option,
        output_command,
        pass_app,
    ]
    wrapped: Callable[..., Any] = fn
    for decorator in reversed(decorators):
        wrapped = decorator(wrapped)
    return wrapped


@switch.command("off")
@click.argument("features", nargs=-1, required=True)
@_mutating
def off_cmd(
    app: AppContext,
    features: tuple[str, ...],
    scope: str,
    reason: str | None,
    incident_id: str | None,
    restore_after: str | None,
    dry_run: bool,
    yes: bool,
    target_org: str | None,
) -> Result:
    """Switch feature(s) off (kill them) at one scope, in one request."""
    return _flip(
        app, target_org, dict.fromkeys(features, False), scope, reason, incident_id, restore_after, dry_run, yes
    )


@switch.command("on")
@click.argument("features", nargs=-1, required=True)
@_mutating
def on_cmd(
    app: AppContext,
    features: tuple[str, ...],
    scope: str,
    reason: str | None,
    incident_id: str | None,
    restore_after: str | None,
    dry_run: bool,
    yes: bool,
    target_org: str | None,
) -> Result:
    """Switch feature(s) back on at one scope, in one request."""
    return _flip(
        app, target_org, dict.fromkeys(features, True), scope, reason, incident_id, restore_after, dry_run, yes
    )


@switch.command("set")
@click.argument("assignments", nargs=-1, required=True, metavar="NAME=on|off...")
@_mutating
def set_cmd(
    app: AppContext,
    assignments: tuple[str, ...],
    scope: str,
    reason: str | None,
    incident_id: str | None,
    restore_after: str | None,
    dry_run: bool,
    yes: bool,
    target_org: str | None,
) -> Result:
    """Set several switches at once (A=off B=on) in ONE request."""
    return _flip(
        app, target_org, parse_assignments(assignments), scope, reason, incident_id, restore_after, dry_run, yes
    )


@switch.command("restore-due")
@target_org_option
@output_command
@pass_app
def restore_due_cmd(app: AppContext, target_org: str | None) -> Result:
    """Apply scheduled restores (from --for) that are due; run it from cron or the agent."""
    outcomes = restore_due(app.org(target_org), app.store, actor=app.actor)
    rows = [
        {
            "id": o.id,
            "scope": o.scope,
            "due": when_text(o.due_at),
            "status": o.status,
            "restored": ", ".join(f"{k}={_onoff(v)}" for k, v in o.restored.items()) or "-",
            "skipped": "; ".join(f"{k}: {v}" for k, v in o.skipped.items()) or "-",
        }
        for o in outcomes
    ]
    done = sum(1 for o in outcomes if o.status != "not-due")
    return Result(
        data=outcomes,
        rows=rows,
        title="Scheduled restores",
        message=f"{done} due restore(s) handled; {len(outcomes) - done} still pending.",
    )


@switch.command("pending")
@target_org_option
@output_command
@pass_app
def pending_cmd(app: AppContext, target_org: str | None) -> Result:
    """Scheduled restores not applied yet (no API call)."""
    org = app.org_config(target_org).alias
    items = pending_restores(app.store, org)
    rows = [
        {
            "id": p.id,
            "scope": p.scope,
            "due": when_text(p.due_at),
            "by": p.actor,
            "restores": ", ".join(f"{k}={_onoff(v)}" for k, v in p.values.items()),
        }
        for p in items
    ]
    return Result(data=items, rows=rows, title="Pending restores")


@switch.command("history")
@click.argument("feature", required=False)
@incident_option
@click.option("--limit", "-n", default=50, show_default=True, type=click.IntRange(1, 10000), help="How many entries.")
@target_org_option
@output_command
@pass_app
def history_cmd(
    app: AppContext, target_org: str | None, feature: str | None, incident_id: str | None, limit: int
) -> Result:
    """Audit trail of flips and restores, newest first (from the local store; no API call)."""
    org = app.org_config(target_org).alias
    entries = history(app.store, org, feature=feature, incident_id=incident_id, limit=limit)
    rows = [
        {
            "#": e.id,
            "when": when_text(e.at),
            "who": e.actor,
            "switch": e.switch,
            "scope": e.scope or "-",
            "change": f"{_onoff(e.before)} -> {_onoff(e.after)}" if e.outcome == "done" else e.outcome,
            "reason": e.reason or "",
            "incident": e.incident_id or "",
        }
        for e in entries
    ]
    return Result(
        data=entries, rows=rows, title=f"Kill switch history ({org})", optional=["#", "incident", "who", "scope"]
    )
