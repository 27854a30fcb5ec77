"""The `sfops` command: root group, lazy command groups, and `main(argv, env) -> exit code`."""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

import click

from sfops import __version__
from sfops.cli.context import AppContext
from sfops.cli.output import printable, render_error
from sfops.errors import ExitCode, SfopsError, UsageError

# group name -> ("module:attribute", one-line summary). Groups are imported only when used, and the
# summaries let `sfops --help` list them without importing any (pandas, SQLAlchemy, requests...).
# tests/cli/test_cli_startup.py checks each summary is the first line of the group's own help.
GROUPS: dict[str, tuple[str, str]] = {
    "switch": (
        "sfops.cli.switch:switch",
        "Kill switches (Kill_Switch__c): list, show effective values, flip with audit, restore.",
    ),
    "breaker": (
        "sfops.cli.breaker:breaker",
        "Circuit breakers (Circuit_Breaker__c): list, show, force open/closed, reset, sync links.",
    ),
    "rollback": (
        "sfops.cli.rollback:rollback",
        "Roll metadata back from Git: plan and package, validate early, quick-deploy on incident.",
    ),
    "logs": ("sfops.cli.logs:logs", "Apex debug logs: parse, classify failures, governor-limit usage."),
    "org": ("sfops.cli.org:org", "Org aliases: list them, check a connection, add one to sfops.toml."),
    "emulator": (
        "sfops.cli.emulator:emulator",
        "Local Salesforce-compatible org emulator (HTTPS) for demos and tests.",
    ),
    "incident": (
        "sfops.cli.incident:incident",
        "Incidents (Incident_Log__c): lifecycle P1-P4, notifications, escalation, post-mortems, metrics.",
    ),
    "oncall": (
        "sfops.cli.oncall:oncall",
        "On-call rotations from [oncall] in sfops.toml: now, schedule, overrides, iCalendar export.",
    ),
    "alerts": ("sfops.cli.alerts:alerts", "Alert recipients in the org: Apex exception email notifications."),
    "limits": (
        "sfops.cli.limits:limits",
        "Governor limits (/limits): snapshot into the local store, show, trends and exhaustion forecast.",
    ),
    "dashboard": (
        "sfops.cli.incident:dashboard_cmd",
        "Write the console's pages for an org as static HTML files (offline, no CDN).",
    ),
    "console": (
        "sfops.cli.console:console_cmd",
        "Serve the web console (orgs, incidents, analytics) until interrupted; read-only unless [console] writes.",
    ),
    "detect": (
        "sfops.cli.detect:detect",
        "Detection rules: list them, replay them over stored history, run one tick, undo automatic actions.",
    ),
    "changes": (
        "sfops.cli.changes:changes_cmd",
        "What changed in the org recently: deployments, Setup Audit Trail, Apex, sfops's own actions.",
    ),
    "drill": (
        "sfops.cli.drill:drill",
        "Drills: rehearse a failure on a sandbox or the emulator; time detection, paging, switch, recovery.",
    ),
    "release": (
        "sfops.cli.release:release",
        "Release readiness: a gate before every production deploy (rollback, timing, people, tests, data).",
    ),
    "agent": (
        "sfops.cli.agent:agent",
        "The scheduled agent: runs sfops jobs per org on schedules from [agent], one leader per store.",
    ),
}


def load_group(name: str) -> click.Command:
    """Import command group `name`."""
    module_name, attr = GROUPS[name][0].split(":")
    return getattr(importlib.import_module(module_name), attr)


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(GROUPS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in GROUPS:
            return load_group(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of `sfops --help`, from the summaries in GROUPS (no group is imported)."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names), default=0)
        rows = [(name, click.Command(name, help=GROUPS[name][1]).get_short_help_str(limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="sfops")
@click.option(
    "--config", "config_path", metavar="PATH", envvar="SFOPS_CONFIG", help="sfops.toml to use (default: ./sfops.toml)."
)
@click.option("--json", "as_json", is_flag=True, help="JSON envelope output for every command.")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, as_json: bool, debug: bool) -> None:
    """sfops: production-incident companion for Salesforce orgs.

    Kill switches, circuit breakers, debug logs and governor limits, incidents and
    rollback from Git, against real orgs or the local emulator.
    """
    app = ctx.ensure_object(AppContext)
    app.config_path = config_path or app.config_path
    ctx.meta["sfops.json"] = as_json or ctx.meta.get("sfops.json", False)
    ctx.meta["sfops.debug"] = debug or ctx.meta.get("sfops.debug", False)


def main(
    argv: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the CLI in-process and return the exit code (never raises for expected errors)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    env = dict(os.environ if env is None else env)
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    app = AppContext(env=env, stdout=stdout, stderr=stderr, stdin=stdin or sys.stdin)
    wants_json = "--json" in argv or env.get("SFOPS_CONTENT_TYPE", "").upper() == "JSON"
    debug = "--debug" in argv or env.get("SFOPS_DEBUG") == "1"
    meta: dict[str, Any] = {"sfops.json": wants_json, "sfops.debug": debug}
    try:
        # click prints --help/--version itself; send that to our stdout, not the process's.
        with contextlib.redirect_stdout(stdout), cli.make_context("sfops", argv, obj=app) as ctx:
            ctx.meta.update(meta)
            cli.invoke(ctx)
            return int(ctx.meta.get("sfops.exit_code", ExitCode.OK))
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        render_error(SfopsError("Aborted."), as_json=wants_json, console=app.err_console)
        return int(ExitCode.FAILED)
    except click.UsageError as exc:
        if wants_json:
            render_error(UsageError(exc.format_message()), as_json=True, console=app.console)
        else:
            shown = io.StringIO()
            exc.show(file=shown)  # click echoes the offending argument: no control characters through
            stderr.write(printable(shown.getvalue()))
        return int(ExitCode.USAGE)
    except click.ClickException as exc:
        render_error(
            SfopsError(exc.format_message()), as_json=wants_json, console=app.console if wants_json else app.err_console
        )
        return exc.exit_code
    except SfopsError as exc:
        if debug:
            traceback.print_exc(file=stderr)
        render_error(exc, as_json=wants_json, console=app.console if wants_json else app.err_console)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        stderr.write("Interrupted.\n")
        return 130
    except Exception as exc:  # a bug, or an answer nothing above understood: still one line (--debug: traceback)
        if debug:
            traceback.print_exc(file=stderr)
        render_error(unexpected_error(exc), as_json=wants_json, console=app.console if wants_json else app.err_console)
        return int(ExitCode.FAILED)


def unexpected_error(exc: Exception) -> SfopsError:
    """An error no sfops layer turned into a clear message, as one line with its secrets masked."""
    from sfops.salesforce import redact

    text = " ".join(str(redact(str(exc))).split())[:300] or "(no message)"
    return SfopsError(f"Unexpected {type(exc).__name__}: {text}. Run again with --debug for the traceback.")


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


def invoke(argv: Sequence[str], env: Mapping[str, str] | None = None, stdin: str = "") -> tuple[int, str, str]:
    """Run the CLI in-process capturing output: (exit code, stdout, stderr). Used by tests."""
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, env if env is not None else dict(os.environ), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()
