"""`sfops logs ...`: Apex debug logs (offline analysis works without an org)."""

from __future__ import annotations

import click

from sfops.cli.common import output_command
from sfops.cli.output import Result
from sfops.errors import ExitCode
from sfops.logs.analyze import analyze_files, problem_rows, transaction_rows

ANALYZE_COLUMNS = ["file", "tx", "entry_point", "duration_ms", "closest_limits", "exceptions", "category",
                   "hint"]


@click.group("logs")
def logs() -> None:
    """Apex debug logs: parse, classify failures, governor-limit usage."""


@logs.command("analyze")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=str))
@click.option("--problems", is_flag=True, help="List parse problems (truncation, odd lines) instead.")
@output_command
def analyze_cmd(files: tuple[str, ...], problems: bool) -> Result:
    """Parse log files offline: per transaction entry point, duration, limits, exceptions, category."""
    analysis = analyze_files(files)
    warnings = [f.error for f in analysis.unreadable if f.error]
    exit_code = ExitCode.FAILED if analysis.unreadable else ExitCode.OK
    if problems:
        rows = problem_rows(analysis)
        return Result(data=rows, rows=rows, columns=["file", "line", "kind", "message"],
                      title="Parse problems", warnings=warnings, exit_code=exit_code)
    rows = transaction_rows(analysis)
    failed = sum(1 for r in rows if r["failed"])
    message = f"{len(rows)} transaction(s) in {len(analysis.files) - len(analysis.unreadable)} file(s); " \
              f"{failed} failed."
    return Result(data={"transactions": rows, "logs": analysis.files}, rows=rows, columns=ANALYZE_COLUMNS,
                  title="Apex log analysis", message=message, warnings=warnings, exit_code=exit_code)
