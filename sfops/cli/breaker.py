"""`sfops breaker ...`: Circuit_Breaker__c records shared by Apex and sfops."""

from __future__ import annotations

import click

from sfops.breakers import BreakerChange, BreakerRow, list_breakers, set_breaker, show_breaker, sync_links
from sfops.cli.common import (
    dry_run_option,
    incident_option,
    output_command,
    pass_app,
    reason_option,
    target_org_option,
    yes_option,
)
from sfops.cli.context import AppContext
from sfops.cli.output import Result, when_text
from sfops.errors import ExitCode


@click.group("breaker")
def breaker() -> None:
    """Circuit breakers (Circuit_Breaker__c): list, show, force open/closed, reset, sync links."""


def _row(b: BreakerRow) -> dict[str, object]:
    return {"breaker": b.name, "state": b.state.value, "failures": f"{b.failure_count}/{b.max_failures or '-'}",
            "mode": b.mode, "cooldown": f"{b.cooldown_minutes:g} min" if b.cooldown_minutes is not None else "-",
            "opened": when_text(b.opened_at), "reopens": when_text(b.reopens_at),
            "last failure": when_text(b.last_failure),
            "kill switch": (b.linked_switch or "-") + (" (switched off by breaker)" if b.switch_flipped else "")}


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


def _change(app: AppContext, target_org: str | None, name: str, action: str, reason: str | None,
            incident_id: str | None, dry_run: bool, yes: bool) -> Result:
    config = app.org_config(target_org)

    def confirm(plan: BreakerChange) -> None:
        app.confirm_production(config, f"Force breaker {plan.breaker} {action} "
                                       f"({plan.before.value} -> {plan.after.value}).", yes=yes)

    change = set_breaker(app.org(target_org), app.store, name, action, actor=app.actor, reason=reason,
                         incident_id=incident_id, dry_run=dry_run, confirm=confirm)
    rows = [{"field": k, "value": v} for k, v in change.changed_fields.items()]
    if dry_run:
        message = f"Dry run: {change.breaker} would go {change.before.value} -> {change.after.value}; nothing written."
    else:
        message = f"Breaker {change.breaker}: {change.before.value} -> {change.after.value} (audit #{change.audit_id})."
        if change.link and change.link.action in ("switched-off", "restored", "already-off", "failed"):
            message += f" Kill switch {change.link.switch}: {change.link.action}."
    if change.link and change.link.action == "failed":
        # The breaker moved but its kill switch did not: partial success, as sf reports it (exit 68).
        wanted = "off" if action == "open" else "on"
        return Result(data=change, rows=rows, title=f"Breaker {action}", message=message,
                      exit_code=ExitCode.PARTIAL,
                      warnings=[f"Kill switch {change.link.switch} was not switched {wanted}: {change.link.detail} "
                                f"Run `sfops switch {wanted} {change.link.switch}` (or this command again)."])
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
    def command(app: AppContext, target_org: str | None, name: str, reason: str | None, incident_id: str | None,
                dry_run: bool, yes: bool) -> Result:
        return _change(app, target_org, name, action, reason, incident_id, dry_run, yes)

    return command


for _action, _help in CHANGES.items():
    _change_command(_action, _help)


@breaker.command("sync")
@target_org_option
@output_command
@pass_app
def sync_cmd(app: AppContext, target_org: str | None) -> Result:
    """Apply kill-switch links for breakers Apex opened or closed (run from cron or the agent)."""
    outcomes = sync_links(app.org(target_org), app.store, actor=app.actor)
    rows = [{"breaker": o.breaker, "switch": o.switch or "-", "action": o.action, "detail": o.detail}
            for o in outcomes]
    return Result(data=outcomes, rows=rows, title="Breaker -> kill switch links",
                  message=f"{len(outcomes)} link action(s).")
