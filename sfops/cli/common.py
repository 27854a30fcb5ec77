"""Options and decorators shared by every command, defined once."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from sfops.cli.context import AppContext
from sfops.cli.output import Result, render
from sfops.errors import UsageError

pass_app = click.make_pass_decorator(AppContext)

target_org_option = click.option(
    "-o",
    "--target-org",
    "target_org",
    metavar="ALIAS",
    default=None,
    help="Org alias from sfops.toml (default: SFOPS_TARGET_ORG, then default_org).",
)
yes_option = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation on production orgs.")
dry_run_option = click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
reason_option = click.option("--reason", "-r", default=None, help="Why: recorded in the audit trail.")
# long form only: `-i` is the job id in rollback commands, as in `sf project deploy quick -i`
incident_option = click.option(
    "--incident",
    "incident_id",
    default=None,
    metavar="ID",
    help="Incident this change belongs to (recorded in the audit trail).",
)


def known_incident(app: AppContext, target_org: str | None, ref: str | None) -> str | None:
    """`--incident REF` checked against the org before anything changes: a typo must not file an audit
    record under an incident that does not exist (one UsageError line naming `sfops incident list`)."""
    if ref is None:
        return None
    from sfops.incidents.service import IncidentService

    alias = app.org_config(target_org).alias
    IncidentService(app.org(target_org), app.store, alias=alias, actor=app.actor).get(ref)
    return ref


def output_command(fn: Callable[..., Result]) -> Callable[..., None]:
    """Give a command --json/--csv/--debug and render the `Result` it returns."""

    @click.option("--json", "as_json", is_flag=True, help="Print the result as a JSON envelope.")
    @click.option("--csv", "as_csv", is_flag=True, help="Print tabular results as CSV.")
    @click.option("--debug", is_flag=True, hidden=True, help="Show tracebacks for errors.")
    @click.pass_context
    @functools.wraps(fn)
    def wrapper(click_ctx: click.Context, *args: Any, as_json: bool, as_csv: bool, debug: bool, **kwargs: Any) -> None:
        app: AppContext = click_ctx.ensure_object(AppContext)
        root = click_ctx.find_root()
        root.meta["sfops.json"] = as_json or root.meta.get("sfops.json", False)
        root.meta["sfops.debug"] = debug or root.meta.get("sfops.debug", False)
        result = click_ctx.invoke(fn, *args, **kwargs)
        render(result, as_json=root.meta["sfops.json"], console=app.console, fmt="csv" if as_csv else "table")
        root.meta["sfops.exit_code"] = int(result.exit_code)

    return wrapper


@contextlib.contextmanager
def writing_to(option: str, path: object) -> Iterator[None]:
    """Writing a file the user named: a missing folder, a folder in the way or no permission is one
    UsageError line naming the option, not an OSError traceback."""
    try:
        yield
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot write there ({exc.strerror or exc}).") from None


def check_output_file(option: str, path: Path, *, overwrite: bool = True) -> Path:
    """A file the user named for output, checked before any work: its folder must exist (never created
    silently), it must not be a folder, and with `overwrite=False` (a draft people edit) it must not exist."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise UsageError(f"{option} {path}: is a folder; name a file.")
    if not target.parent.is_dir():
        raise UsageError(f"{option} {path}: folder {target.parent} does not exist (sfops does not create it).")
    if not overwrite and target.exists():
        raise UsageError(f"{option} {path}: the file exists; pass --force to overwrite it.")
    return target


def output_file(_ctx: click.Context, param: click.Parameter, value: Path | str | None) -> Path | str | None:
    """click callback for an output-file option: `check_output_file` at parse time ("-" = stdout passes)."""
    if value is None or str(value) == "-":
        return value
    check_output_file(param.opts[-1] if param.opts else str(param.name), Path(value))
    return value


def parse_moment(value: str, option: str, zone: dt.tzinfo = dt.UTC) -> dt.datetime:
    """An option's ISO date or date-time (in `zone`, UTC by default, unless it carries an offset); a bad one is
    one UsageError line."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{option} '{value}' is not an ISO date or date-time (e.g. 2026-11-01 or 2026-11-01T09:00+01:00)."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)
