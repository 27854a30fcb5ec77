"""The `sfops` command: root group, lazy command groups, and `main(argv, env) -> exit code`."""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import io
import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import click

from sfops import __version__
from sfops.cli.context import AppContext
from sfops.cli.output import render_error
from sfops.errors import ExitCode, SfopsError, UsageError

# group name -> "module:attribute". Groups load only when used, so `sfops --help` stays fast.
GROUPS: dict[str, str] = {
    "switch": "sfops.cli.switch:switch",
    "breaker": "sfops.cli.breaker:breaker",
    "rollback": "sfops.cli.rollback:rollback",
    "logs": "sfops.cli.logs:logs",
    "org": "sfops.cli.org:org",
    "emulator": "sfops.cli.emulator:emulator",
    "incident": "sfops.cli.incident:incident",
    "oncall": "sfops.cli.oncall:oncall",
    "alerts": "sfops.cli.alerts:alerts",
    "limits": "sfops.cli.limits:limits",
    "agent": "sfops.cli.agent:agent",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(GROUPS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in GROUPS:
            module_name, attr = GROUPS[cmd_name].split(":")
            return getattr(importlib.import_module(module_name), attr)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of `sfops --help`, with each group's one-line help read from its source:
        importing every group (pandas, SQLAlchemy, requests ...) made `sfops --help` take a second."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names), default=0)
        rows = []
        for name in names:
            doc = group_docstring(name) if name in GROUPS else None
            if doc is not None:
                rows.append((name, click.Command(name, help=doc).get_short_help_str(limit)))
                continue
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def group_docstring(name: str) -> str | None:
    """The docstring of command group `name` parsed from its module's source (None if not found there)."""
    module_name, attr = GROUPS[name].split(":")
    spec = importlib.util.find_spec(module_name)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    try:
        tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == attr:
            doc = ast.get_docstring(node)
            return doc.split("\f", 1)[0] if doc else None
    return None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="sfops")
@click.option("--config", "config_path", metavar="PATH", envvar="SFOPS_CONFIG",
              help="sfops.toml to use (default: ./sfops.toml).")
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


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None, *,
         stdin: TextIO | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
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
            exc.show(file=stderr)
        return int(ExitCode.USAGE)
    except click.ClickException as exc:
        render_error(SfopsError(exc.format_message()), as_json=wants_json,
                     console=app.console if wants_json else app.err_console)
        return exc.exit_code
    except SfopsError as exc:
        if debug:
            traceback.print_exc(file=stderr)
        render_error(exc, as_json=wants_json, console=app.console if wants_json else app.err_console)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        stderr.write("Interrupted.\n")
        return 130


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


def invoke(argv: Sequence[str], env: Mapping[str, str] | None = None, stdin: str = "") -> tuple[int, str, str]:
    """Run the CLI in-process capturing output: (exit code, stdout, stderr). Used by tests."""
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, env if env is not None else dict(os.environ), stdin=io.StringIO(stdin),
                stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()
