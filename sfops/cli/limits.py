"""`sfops limits`: snapshot the org's governor limits, show them like `sf org list limits`, report trends."""

from __future__ import annotations

import datetime as dt
import re

import click

from sfops.cli.common import output_command, output_file, pass_app, target_org_option
from sfops.cli.context import AppContext
from sfops.cli.output import Result, when_text
from sfops.errors import UsageError

# sfops.limits (pandas, SQLAlchemy) is imported inside the commands: `sfops limits --help` stays fast.

REPORT_COLUMNS = ["name", "max", "used", "used %", "peak %", "change", "snapshots", "rate/h", "runs out"]
_SINCE = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


@click.group("limits")
def limits() -> None:
    """Governor limits (/limits): snapshot into the local store, show, trends and exhaustion forecast."""


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def parse_since(text: str, now: dt.datetime) -> dt.datetime:
    """`--since`: a duration back from now (90m, 24h, 7d) or an ISO date/time (UTC unless it says)."""
    match = _SINCE.match(text.strip())
    if match:
        return now - dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise UsageError(f"Bad --since '{text}': use a duration (90m, 24h, 7d) or an ISO date/time.") from exc
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@limits.command("snapshot")
@target_org_option
@output_command
@pass_app
def snapshot_cmd(app: AppContext, target_org: str | None) -> Result:
    """Store the org's /limits now (one API call); nested per-app entries become rows with an app."""
    from sfops.limits import take_snapshot

    alias = app.org_config(target_org).alias
    result = take_snapshot(app.org(target_org), app.store, alias)
    warnings = [f"Entries without Max/Remaining were not stored: {', '.join(result.skipped)}"] if result.skipped else []
    return Result(
        data=result,
        message=f"Stored {result.limits} limits and {result.app_entries} per-app entries "
        f"for '{alias}' at {when_text(result.taken_at)}.",
        warnings=warnings,
    )


@limits.command("show")
@target_org_option
@click.option("--all", "include_apps", is_flag=True, help="Include the nested per-app entries (with an app column).")
@output_command
@pass_app
def show_cmd(app: AppContext, target_org: str | None, include_apps: bool) -> Result:
    """The org's limits now, named like `sf org list limits --json` (name, max, remaining), with used %."""
    from sfops.limits import current_limits, sf_cli_rows

    rows, skipped = current_limits(app.org(target_org))
    if include_apps:
        data = [{"name": r.name, "app": r.app, "max": r.max, "remaining": r.remaining} for r in rows]
    else:
        rows = [r for r in rows if r.app is None]
        data = sf_cli_rows(rows)
    table = [
        {
            "name": r.name,
            **({"app": r.app or ""} if include_apps else {}),
            "max": r.max,
            "remaining": r.remaining,
            "used": r.used,
            "used %": _pct(r.used_pct),
        }
        for r in rows
    ]
    warnings = [f"Entries without Max/Remaining left out: {', '.join(skipped)}"] if skipped else []
    return Result(data=data, rows=table, title="Org limits", warnings=warnings)


@limits.command("report")
@target_org_option
@click.option(
    "--since",
    default=None,
    metavar="WHEN",
    help="Only snapshots since: a duration back from now (90m, 24h, 7d) or an ISO date/time.",
)
@click.option("--all", "include_apps", is_flag=True, help="Also show limits at 0 % and the nested per-app entries.")
@click.option(
    "--parquet",
    "parquet_path",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    callback=output_file,
    help="Also write the report to this Parquet file (needs pyarrow, not installed by default).",
)
@output_command
@pass_app
def report_cmd(
    app: AppContext, target_org: str | None, since: str | None, include_apps: bool, parquet_path: str | None
) -> Result:
    """Trends from stored snapshots and when each daily limit runs out at the current (24 h) rate."""
    from sfops.limits import limits_report, report_frame
    from sfops.limits.report import NOT_ENOUGH

    alias = app.org_config(target_org).alias
    now = dt.datetime.now(dt.UTC)
    report = limits_report(
        app.store, alias, since=parse_since(since, now) if since else None, include_apps=include_apps, clock=lambda: now
    )
    if parquet_path:
        try:
            report_frame(report).to_parquet(parquet_path, index=False)
        except ImportError as exc:
            raise UsageError("--parquet needs pyarrow (pip install pyarrow).") from exc
    # most used first; limits nobody touched (0 % now and at the peak) only with --all
    trends = sorted(report.trends, key=lambda t: (-(t.used_pct or 0.0), -(t.peak_used_pct or 0.0), t.name))
    shown = [t for t in trends if include_apps or t.used or (t.peak_used_pct or 0.0) > 0]
    waiting = any(t.forecast == NOT_ENOUGH for t in shown)
    rows = [
        {
            "name": t.name + (f" [{t.app}]" if t.app else ""),
            "max": t.max,
            "used": t.used,
            "used %": _pct(t.used_pct),
            "peak %": _pct(t.peak_used_pct),
            "change": t.change,
            "snapshots": t.snapshots,
            "rate/h": "-" if t.rate_per_hour is None else f"{t.rate_per_hour:g}",
            "runs out": "-" if t.forecast == NOT_ENOUGH else t.forecast,
        }
        for t in shown
    ]
    if not report.trends:
        message = _no_snapshots(app, alias, since, parse_since(since, now) if since else None)
    else:
        ending = sorted((t for t in report.trends if t.hours_left is not None), key=lambda t: t.hours_left or 0.0)
        message = f"{report.snapshots} snapshot(s)."
        if len(shown) < len(trends):
            message += f" {len(trends) - len(shown)} limit(s) at 0 % not shown (--all shows them)."
        if ending:
            message += f" First to run out: {ending[0].name} ({ending[0].forecast})."
    notes = [f"No forecast yet for daily limits: it needs {NOT_ENOUGH.removeprefix('need ')}."] if waiting else []
    return Result(
        data=report,
        rows=rows,
        columns=REPORT_COLUMNS,
        title=f"Limits of '{alias}'",
        message=message,
        notes=notes,
        optional=["change", "snapshots", "rate/h", "max"],
    )


def _no_snapshots(app: AppContext, alias: str, since: str | None, start: dt.datetime | None) -> str:
    """Why the report is empty: no snapshot at all, or none inside the --since window."""
    from sfops.limits import limits_report

    if start is not None and limits_report(app.store, alias).trends:
        return (
            f"No limit snapshots for '{alias}' since {when_text(start)} (--since {since}); older ones exist: "
            "widen --since, or take one with `sfops limits snapshot`."
        )
    return f"No limit snapshots for '{alias}' yet: run `sfops limits snapshot -o {alias}` (or the agent)."
