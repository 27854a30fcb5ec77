"""`sfops logs ...`: Apex debug logs (offline analysis works without an org)."""

from __future__ import annotations

import datetime as dt

import click

from sfops.cli.common import (
    dry_run_option,
    output_command,
    output_file,
    pass_app,
    reason_option,
    target_org_option,
    yes_option,
)
from sfops.cli.context import AppContext
from sfops.cli.output import Result, to_jsonable, when_text
from sfops.errors import ExitCode, UsageError
from sfops.logs.traceflags import DEFAULT_LEVEL, DEFAULT_MINUTES, MAX_MINUTES

TRACE_COLUMNS = ["id", "user", "level", "start", "expiration", "action"]

ANALYZE_COLUMNS = ["file", "tx", "entry_point", "duration_ms", "closest_limits", "exceptions", "category", "hint"]


@click.group("logs")
def logs() -> None:
    """Apex debug logs: parse, classify failures, governor-limit usage."""


@logs.command("analyze")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=str))
@click.option("--problems", is_flag=True, help="List parse problems (truncation, odd lines) instead.")
@output_command
def analyze_cmd(files: tuple[str, ...], problems: bool) -> Result:
    """Parse log files offline: per transaction entry point, duration, limits, exceptions, category."""
    from sfops.cli.logs_analyze import analysis_result
    from sfops.logs.analyze import analyze_files, problem_rows

    if problems:
        analysis = analyze_files(files, classify=False)
        rows = problem_rows(analysis)
        warnings = [f.error for f in analysis.unreadable if f.error]
        return Result(
            data=rows,
            rows=rows,
            columns=["file", "line", "kind", "message"],
            title="Parse problems",
            warnings=warnings,
            exit_code=ExitCode.FAILED if analysis.unreadable else ExitCode.OK,
        )
    # Output is written while the files are parsed (bounded memory whatever their size).
    return analysis_result(analyze_files(files), ANALYZE_COLUMNS)


@logs.command("pull")
@target_org_option
@click.option(
    "--concurrency",
    type=click.IntRange(1, 16),
    default=4,
    show_default=True,
    help="Bodies downloaded in parallel (each is one API request).",
)
@click.option("--delete-after-pull", is_flag=True, help="Delete each log in the org once it is stored locally.")
@click.option("--errors", is_flag=True, help="Also import new Error_Log__c records.")
@click.option(
    "--event-logs",
    is_flag=True,
    help="Also import ApexUnexpectedException events (ApexUnexpectedExcpEventLog where the org has it, "
    "and event log files) and ConcurrentLongRunningApexLimit event log files.",
)
@click.option(
    "--look-back",
    "look_back",
    default="1h",
    show_default=True,
    metavar="DURATION",
    help="Also list logs that started this long before the watermark: Salesforce writes a log when "
    "its transaction ends, so a long one shows up late (already stored ids are skipped).",
)
@yes_option
@output_command
@pass_app
def pull_cmd(
    app: AppContext,
    target_org: str | None,
    concurrency: int,
    delete_after_pull: bool,
    errors: bool,
    event_logs: bool,
    look_back: str,
    yes: bool,
) -> Result:
    """Copy new debug logs (bodies + parsed summary) from the org into the local store."""
    from rich.progress import Progress

    from sfops.switches.scope import parse_duration

    lookback = parse_duration(look_back)

    config = app.org_config(target_org)
    if delete_after_pull:  # the org's copies are gone for good: ask first on production, like other changes
        app.confirm_production(config, "Delete each debug log in the org once it is stored locally.", yes=yes)
    with Progress(console=app.err_console, transient=True, disable=not app.err_console.is_terminal) as bar:
        task = bar.add_task("Pulling logs", total=None)
        from sfops.logs.pull import pull_history  # pandas and the store load only when pulling
        from sfops.logs.store import data_key

        org = app.org(target_org)
        result = pull_history(
            org,
            app.store,
            data_key(org, app.store),
            concurrency=concurrency,
            delete_after_pull=delete_after_pull,
            errors=errors,
            event_logs=event_logs,
            lookback=lookback,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    result.org = config.alias  # stored under the org id (shared by its aliases); shown by the alias asked for
    from sfops.logs.pull import failure_groups

    groups = failure_groups(result.failures)
    rows = [{**g, "logs": g["logs"][0] + (f" (+{len(g['logs']) - 1})" if len(g["logs"]) > 1 else "")} for g in groups]
    message = (
        f"{result.pulled} new log(s) stored ({result.body_bytes:,} bytes), {result.already_stored} already "
        f"stored, {result.deleted} deleted in the org; watermark {when_text(result.watermark)}."
    )
    if result.failures:
        message += (
            f" {len(result.failures)} failed transaction(s) in {len(groups)} group(s); "
            "details: sfops logs report --failures."
        )
    for imp in result.imports:
        message += f" {imp.source}: {imp.imported} new error(s)." if imp.available else f" {imp.note}"
    if result.stopped:
        message += f" Stopped: {result.stopped}; run again later to continue."
    exit_code = ExitCode.OK if result.complete else ExitCode.PARTIAL
    return Result(
        data=result,
        rows=rows,
        columns=["count", "category", "fingerprint", "entry_point", "limit", "example", "logs"],
        title="Failures in the new logs, by fingerprint",
        message=message,
        warnings=result.errors,
        exit_code=exit_code,
        optional=["logs", "limit", "fingerprint", "entry_point"],
    )


@logs.command("report")
@target_org_option
@click.option("--failures", "show_failures", is_flag=True, help="Show failures by category and fingerprint.")
@click.option(
    "--parquet",
    "parquet_path",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    callback=output_file,
    help="Also write the table to this Parquet file (needs pyarrow).",
)
@output_command
@pass_app
def report_cmd(app: AppContext, target_org: str | None, show_failures: bool, parquet_path: str | None) -> Result:
    """Per entry point and governor limit: max and p95 of used/max, transactions over 80 %; failures."""
    alias = app.org_config(target_org).alias
    from sfops.logs.report import logs_report
    from sfops.logs.store import known_key

    report = logs_report(app.store, known_key(app.store, alias))
    frame = report.failures if show_failures else report.limits
    if parquet_path:
        try:
            frame.to_parquet(parquet_path, index=False)
        except ImportError as exc:
            raise UsageError("--parquet needs pyarrow (pip install pyarrow).") from exc
        except OSError as exc:
            raise UsageError(f"Cannot write {parquet_path}: {exc.strerror or exc}.") from None
    message = (
        f"{report.transactions} transaction(s) in {report.logs} stored log(s) of {alias}; "
        f"{int(report.failures['count'].sum()) if not report.failures.empty else 0} failure(s) in "
        f"{len(report.failures)} group(s)."
    )
    return Result(
        data={
            "limits": report.limits,
            "failures": report.failures,
            "logs": report.logs,
            "transactions": report.transactions,
        },
        rows=to_jsonable(frame),
        columns=list(frame.columns),
        title="Failures by category and fingerprint" if show_failures else "Governor limits by entry point",
        message=message,
        optional=["source", "first_seen", "entry_point", "limit"],
    )


@logs.group("trace")
def trace() -> None:
    """USER_DEBUG trace flags (a flag lasts at most 24 hours)."""


@trace.command("on")
@target_org_option
@click.option("--user", "-u", required=True, help="Username or User Id to trace.")
@click.option("--level", default=None, help=f"DebugLevel name (default {DEFAULT_LEVEL}; created if missing).")
@click.option(
    "--minutes",
    type=int,
    default=DEFAULT_MINUTES,
    show_default=True,
    help=f"How long to trace, 1 to {MAX_MINUTES} (24 h, the platform maximum).",
)
@dry_run_option
@reason_option
@yes_option
@output_command
@pass_app
def trace_on_cmd(
    app: AppContext,
    target_org: str | None,
    user: str,
    level: str | None,
    minutes: int,
    dry_run: bool,
    reason: str | None,
    yes: bool,
) -> Result:
    """Create or extend the user's USER_DEBUG trace flag."""
    from sfops.logs.traceflags import trace_on

    config = app.org_config(target_org)
    flag = trace_on(
        app.org(target_org),
        app.store,
        user,
        actor=app.actor,
        reason=reason,
        level=level,
        minutes=minutes,
        dry_run=dry_run,
        confirm=lambda what: app.confirm_production(config, what, yes=yes),
    )
    return Result(
        data=flag,
        rows=[to_jsonable(flag)],
        columns=TRACE_COLUMNS,
        title="Trace flag",
        warnings=flag.warnings,
        notes=flag.notes,
        message="Dry run: nothing was written." if dry_run else None,
    )


@trace.command("off")
@target_org_option
@click.option("--user", "-u", required=True, help="Username or User Id.")
@dry_run_option
@reason_option
@yes_option
@output_command
@pass_app
def trace_off_cmd(
    app: AppContext, target_org: str | None, user: str, dry_run: bool, reason: str | None, yes: bool
) -> Result:
    """Delete the user's USER_DEBUG trace flags."""
    from sfops.logs.traceflags import trace_off

    config = app.org_config(target_org)
    flags = trace_off(
        app.org(target_org),
        app.store,
        user,
        actor=app.actor,
        reason=reason,
        dry_run=dry_run,
        confirm=lambda what: app.confirm_production(config, what, yes=yes),
    )
    message = (
        "No USER_DEBUG trace flag for this user."
        if not flags
        else ("Dry run: nothing was deleted." if dry_run else None)
    )
    return Result(data=flags, columns=TRACE_COLUMNS, title="Trace flags", message=message)


@trace.command("list")
@target_org_option
@output_command
@pass_app
def trace_list_cmd(app: AppContext, target_org: str | None) -> Result:
    """List the org's USER_DEBUG trace flags."""
    from sfops.logs.traceflags import trace_list

    return Result(data=trace_list(app.org(target_org)), columns=TRACE_COLUMNS, title="USER_DEBUG trace flags")


@logs.command("prune")
@target_org_option
@click.option(
    "--older-than-days",
    "days",
    type=click.IntRange(min=1),
    required=True,
    help="Delete stored logs and errors older than this many days.",
)
@dry_run_option
@output_command
@pass_app
def prune_cmd(app: AppContext, target_org: str | None, days: int, dry_run: bool) -> Result:
    """Retention: delete locally stored logs and errors older than N days (the org is not touched)."""
    alias = app.org_config(target_org).alias
    before = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    from sfops.logs.store import known_key, prune

    counts = prune(app.store, known_key(app.store, alias), before, dry_run=dry_run)
    verb = "Would delete" if dry_run else "Deleted"
    return Result(
        data={"org": alias, "before": before, "dry_run": dry_run, "deleted": counts},
        message=f"{verb} {counts['apex_log']} log(s) and {counts['error_event']} error(s) of {alias} "
        f"older than {when_text(before)}.",
    )
