"""`sfops breaker ...`: Circuit_Breaker__c records shared by Apex and sfops."""

from __future__ import annotations

import click

from sfops.breakers import (
    BreakerChange,
    BreakerRow,
    create_breaker,
    list_breakers,
    set_breaker,
    show_breaker,
    sync_links,
)
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
from sfops.errors import ExitCode, UsageError


@click.group("breaker")
def breaker() -> None:
    """Circuit breakers (Circuit_Breaker__c): list, show, force open/closed, reset, sync links."""


def label(field_name: str) -> str:
    """A Circuit_Breaker__c field as people read it: its label (`Failure_Count__c` -> `Failure Count`, as the
    companion metadata labels every field)."""
    return field_name.removesuffix("__c").replace("_", " ")


def _row(b: BreakerRow) -> dict[str, object]:
    return {
        "breaker": b.name,
        "state": b.state.value,
        "failures": f"{b.failure_count}/{b.max_failures or '-'}",
        "mode": b.mode,
        "cooldown": f"{b.cooldown_minutes:g} min" if b.cooldown_minutes is not None else "-",
        "opened": when_text(b.opened_at),
        "reopens": when_text(b.reopens_at),
        "last failure": when_text(b.last_failure),
        "kill switch": (b.linked_switch or "-") + (" (switched off by breaker)" if b.switch_flipped else ""),
    }


@breaker.command("list")
@target_org_option
@output_command
@pass_app
def list_cmd(app: AppContext, target_org: str | None) -> Result:
    """Every breaker: state, failures/threshold, cooldown, last failure, linked kill switch."""
    rows = list_breakers(app.org(target_org), app.store)
    return Result(data=rows, rows=[_row(b) for b in rows], title="Circuit breakers")


@breaker.command("show")
@click.argument("name")
@target_org_option
@output_command
@pass_app
def show_cmd(app: AppContext, target_org: str | None, name: str) -> Result:
    """One breaker in detail (including its last error)."""
    b = show_breaker(app.org(target_org), app.store, name)
    row = {**_row(b), "successes": f"{b.success_count}/{b.success_threshold or 1}", "last error": b.last_error or "-"}
    return Result(data=b, rows=[{"field": k, "value": v} for k, v in row.items()], title=f"Circuit breaker {b.name}")


def _change(
    app: AppContext,
    target_org: str | None,
    name: str,
    action: str,
    reason: str | None,
    incident_id: str | None,
    dry_run: bool,
    yes: bool,
) -> Result:
    config = app.org_config(target_org)
    known_incident(app, target_org, incident_id)

    def confirm(plan: BreakerChange) -> None:
        app.confirm_production(
            config, f"Force breaker {plan.breaker} {action} ({plan.before.value} -> {plan.after.value}).", yes=yes
        )

    change = set_breaker(
        app.org(target_org),
        app.store,
        name,
        action,
        actor=app.actor,
        reason=reason,
        incident_id=incident_id,
        dry_run=dry_run,
        confirm=confirm,
    )
    rows = [{"field": label(k), "value": v} for k, v in change.changed_fields.items()]
    if not change.changed_fields and change.audit_id is None and change.link is None:
        message = f"Nothing changed: breaker {change.breaker} is already {change.after.value} with nothing to clear."
    elif dry_run:
        message = f"Dry run: {change.breaker} would go {change.before.value} -> {change.after.value}; nothing written."
    else:
        message = f"Breaker {change.breaker}: {change.before.value} -> {change.after.value} (audit #{change.audit_id})."
        if change.link and change.link.action in ("switched-off", "restored", "already-off", "failed"):
            message += f" Kill switch {change.link.switch}: {change.link.action}."
    if change.link and change.link.action == "failed":
        # The breaker moved but its kill switch did not: partial success, as sf reports it (exit 68).
        wanted = "off" if action == "open" else "on"
        return Result(
            data=change,
            rows=rows,
            title=f"Breaker {action}",
            message=message,
            exit_code=ExitCode.PARTIAL,
            warnings=[
                f"Kill switch {change.link.switch} was not switched {wanted}: {change.link.detail} "
                f"Run `sfops switch {wanted} {change.link.switch}` (or this command again)."
            ],
        )
    return Result(data=change, rows=rows, title=f"Breaker {action}", message=message)


CHANGES = {
    "open": "Force a breaker open (and switch its linked kill switch off).",
    "close": "Force a breaker closed (restoring its kill switch if sfops switched it off).",
    "reset": "Close a breaker and clear its counters and failure history.",
}


def _change_command(action: str, help_text: str) -> click.Command:
    """`sfops breaker open|close|reset NAME`: the same options, one domain call each."""

    @breaker.command(action, help=help_text)
    @click.argument("name")
    @reason_option
    @incident_option
    @dry_run_option
    @yes_option
    @target_org_option
    @output_command
    @pass_app
    def command(
        app: AppContext,
        target_org: str | None,
        name: str,
        reason: str | None,
        incident_id: str | None,
        dry_run: bool,
        yes: bool,
    ) -> Result:
        return _change(app, target_org, name, action, reason, incident_id, dry_run, yes)

    return command


for _action, _help in CHANGES.items():
    _change_command(_action, _help)


@breaker.command("create")
@click.argument("name")
@click.option(
    "--max-failures", type=click.IntRange(1), default=5, show_default=True, help="Consecutive failures that open it."
)
@click.option(
    "--cooldown",
    "cooldown_minutes",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    metavar="MINUTES",
    help="How long it stays open before a half-open probe.",
)
@click.option(
    "--success-threshold",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="Successful probes that close it again.",
)
@click.option(
    "--kill-switch",
    "linked_switch",
    default=None,
    metavar="FIELD",
    help="Kill switch it turns off while open (a Kill_Switch__c field, e.g. External_Sync__c).",
)
@reason_option
@dry_run_option
@yes_option
@target_org_option
@output_command
@pass_app
def create_cmd(
    app: AppContext,
    target_org: str | None,
    name: str,
    max_failures: int,
    cooldown_minutes: float,
    success_threshold: int,
    linked_switch: str | None,
    reason: str | None,
    dry_run: bool,
    yes: bool,
) -> Result:
    """Create a closed breaker (a Circuit_Breaker__c record) with its thresholds; safe to repeat."""
    config = app.org_config(target_org)
    if linked_switch:
        from sfops.switches import list_switches

        known = [r.name for r in list_switches(app.org(target_org), app.store)]
        if linked_switch not in known:
            raise UsageError(f"--kill-switch {linked_switch}: no such kill switch. Switches: {', '.join(known)}.")
    change = create_breaker(
        app.org(target_org),
        app.store,
        name,
        actor=app.actor,
        max_failures=max_failures,
        cooldown_minutes=cooldown_minutes,
        success_threshold=success_threshold,
        linked_switch=linked_switch,
        reason=reason,
        dry_run=dry_run,
        confirm=lambda plan: app.confirm_production(config, f"Create breaker {plan.breaker}.", yes=yes),
    )
    rows = [{"field": label(k), "value": v} for k, v in change.changed_fields.items()]
    if dry_run:
        message = f"Dry run: would create breaker {change.breaker}; nothing written."
    elif change.audit_id is None:
        message = f"Breaker {change.breaker} already exists with these settings; nothing changed."
    else:
        message = f"Created breaker {change.breaker} (closed; audit #{change.audit_id})."
    return Result(data=change, rows=rows, title="Breaker create", message=message)


@breaker.command("sync")
@target_org_option
@output_command
@pass_app
def sync_cmd(app: AppContext, target_org: str | None) -> Result:
    """Apply kill-switch links for breakers Apex opened or closed (run from cron or the agent)."""
    outcomes = sync_links(app.org(target_org), app.store, actor=app.actor)
    rows = [{"breaker": o.breaker, "switch": o.switch or "-", "action": o.action, "detail": o.detail} for o in outcomes]
    return Result(
        data=outcomes, rows=rows, title="Breaker -> kill switch links", message=f"{len(outcomes)} link action(s)."
    )
