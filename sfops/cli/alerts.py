"""`sfops alerts ...`: alert recipients managed in the org (Apex exception emails)."""

from __future__ import annotations

import click

from sfops.cli.common import dry_run_option, output_command, pass_app, reason_option, target_org_option, yes_option
from sfops.cli.context import AppContext
from sfops.cli.output import Result


@click.group("alerts")
def alerts() -> None:
    """Alert recipients in the org: Apex exception email notifications."""


@alerts.group("apex-email")
def apex_email() -> None:
    """Apex exception email recipients (ApexEmailNotification, edited one by one through the API)."""


@apex_email.command("list")
@target_org_option
@output_command
@pass_app
def list_cmd(app: AppContext, target_org: str | None) -> Result:
    """List who receives unhandled Apex exception emails."""
    from sfops.incidents import apexemail  # imports the Salesforce client: only when used

    rows = apexemail.list_recipients(app.org(target_org))
    return Result(
        data=rows,
        title="Apex exception email recipients",
        warnings=[apexemail.METADATA_WARNING],
        message=f"{len(rows)} recipient(s).",
    )


@apex_email.command("add")
@click.option("--email", default=None, help="An external email address.")
@click.option("--user", "username", default=None, help="A Salesforce username.")
@dry_run_option
@reason_option
@yes_option
@target_org_option
@output_command
@pass_app
def add_cmd(
    app: AppContext,
    target_org: str | None,
    email: str | None,
    username: str | None,
    dry_run: bool,
    reason: str | None,
    yes: bool,
) -> Result:
    """Add a recipient of Apex exception emails (not duplicated if already there)."""
    from sfops.incidents import apexemail  # imports the Salesforce client: only when used

    config = app.org_config(target_org)
    row = apexemail.add_recipient(
        app.org(target_org),
        app.store,
        actor=app.actor,
        email=email,
        username=username,
        reason=reason,
        dry_run=dry_run,
        confirm=lambda what: app.confirm_production(config, what, yes=yes),
    )
    who = row.get("user") or row.get("address")
    what = ("Would add" if dry_run else "Added") if row["created"] else "Already a recipient:"
    return Result(data=row, message=f"{what} {who}.", warnings=[apexemail.METADATA_WARNING])


@apex_email.command("remove")
@click.argument("target")
@dry_run_option
@reason_option
@yes_option
@target_org_option
@output_command
@pass_app
def remove_cmd(
    app: AppContext, target_org: str | None, target: str, dry_run: bool, reason: str | None, yes: bool
) -> Result:
    """Remove a recipient by record id, email address or username."""
    from sfops.incidents import apexemail  # imports the Salesforce client: only when used

    config = app.org_config(target_org)
    rows = apexemail.remove_recipient(
        app.org(target_org),
        app.store,
        target,
        actor=app.actor,
        reason=reason,
        dry_run=dry_run,
        confirm=lambda what: app.confirm_production(config, what, yes=yes),
    )
    verb = "Would remove" if dry_run else "Removed"
    return Result(data=rows, message=f"{verb} {len(rows)} recipient(s).", warnings=[apexemail.METADATA_WARNING])
