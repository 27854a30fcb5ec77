"""`sfops changes`: what changed in the org recently (deployments, Setup Audit Trail, Apex, sfops's own actions)."""

from __future__ import annotations

import datetime as dt

import click

from sfops.cli.common import output_command, pass_app, target_org_option
from sfops.cli.context import AppContext
from sfops.cli.output import Result, when_text

COLUMNS = ["at", "source", "what", "who", "status", "touches"]


@click.command("changes")
@target_org_option
@click.option(
    "--since",
    default="6h",
    show_default=True,
    metavar="WHEN",
    help="A duration back from now (90m, 6h, 7d) or an ISO date/time.",
)
@click.option(
    "--stack",
    "stack",
    default=None,
    metavar="TEXT",
    help="A stack trace or entry point: changes touching its Apex rank first (and those classes' "
    "last modification is listed).",
)
@click.option("--offline", is_flag=True, help="Only what is stored; do not read new changes from the org.")
@output_command
@pass_app
def changes_cmd(app: AppContext, target_org: str | None, since: str, stack: str | None, offline: bool) -> Result:
    """What changed in the org recently: deployments, Setup Audit Trail, Apex, sfops's own actions."""
    from sfops.changes import apex_in_stack, collect_changes, list_changes, stack_apex_changes
    from sfops.cli.limits import parse_since

    alias = app.org_config(target_org).alias
    now = dt.datetime.now(dt.UTC)
    start = parse_since(since, now)
    warnings = []
    classes = apex_in_stack(stack) if stack else []
    extra = []
    if not offline:
        collected = collect_changes(app.org(target_org), app.store, alias, now=now)
        warnings += [f"Not available in this org: {u}" for u in collected.unavailable]
        extra = stack_apex_changes(app.org(target_org), classes)
    ranked = list_changes(app.store, alias, since=start, until=now, stack_classes=classes, extra=extra)
    if not classes:
        ranked.sort(key=lambda c: c.at, reverse=True)
    rows = [
        {
            "at": when_text(c.at),
            "source": c.source,
            "what": c.summary[:100],
            "who": c.who or "-",
            "status": c.status or "-",
            "touches": ", ".join(c.touches) or "-",
        }
        for c in ranked
    ]
    return Result(
        data=ranked,
        rows=rows,
        columns=COLUMNS,
        title=f"Changes in '{alias}' since {start:%Y-%m-%d %H:%M} UTC",
        message=f"{len(ranked)} change(s)" + (" (most suspect first)." if classes else " (newest first)."),
        warnings=warnings,
    )
