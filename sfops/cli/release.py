"""`sfops release`: the readiness gate before a production deploy, and its history."""

from __future__ import annotations

from pathlib import Path

import click

from sfops.cli.common import output_command, pass_app, target_org_option, writing_to
from sfops.cli.context import AppContext
from sfops.cli.output import Result
from sfops.errors import ExitCode, UsageError
from sfops.release.model import CHECKS


@click.group("release")
def release() -> None:
    """Release readiness: a gate before every production deploy (rollback, timing, people, tests, data)."""


@release.command("check")
@click.option("--from", "from_ref", required=True, metavar="A", help="The release in production now (git ref).")
@click.option("--to", "to_ref", required=True, metavar="B", help="The release to deploy (git ref).")
@target_org_option
@click.option(
    "--repo",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The SFDX project's git working tree.",
)
@click.option(
    "--sandbox",
    default=None,
    metavar="ALIAS",
    help="Org the release was tested on, for record counts (default: [release] sandbox).",
)
@click.option(
    "--validation-id",
    default=None,
    metavar="ID",
    help="B's check-only deploy (0Af...): the tests check reads its results instead of running tests.",
)
@click.option("--enforce", is_flag=True, help="Exit 1 when a check fails (for CI).")
@click.option(
    "--junit", default=None, type=click.Path(dir_okay=False, path_type=Path), help="Write the result as JUnit XML here."
)
@click.option(
    "--override",
    "overrides",
    multiple=True,
    type=click.Choice(CHECKS),
    metavar="CHECK",
    help=f"Let a failing check through (repeatable; needs --reason; audited). One of: {', '.join(CHECKS)}.",
)
@click.option("--reason", "-r", default=None, help="Why the overrides are acceptable (recorded).")
@output_command
@pass_app
def check_cmd(
    app: AppContext,
    from_ref: str,
    to_ref: str,
    target_org: str | None,
    repo: Path,
    sandbox: str | None,
    validation_id: str | None,
    enforce: bool,
    junit: Path | None,
    overrides: tuple[str, ...],
    reason: str | None,
) -> Result:
    """Run every release check for deploying B over A to an org; the run is recorded in the store."""
    from sfops.release import GateContext, parse_release, run_gate
    from sfops.release.junit import write_junit

    if overrides and not (reason or "").strip():
        raise UsageError("--override needs --reason (it is recorded in the audit trail).")
    if reason and not overrides:
        raise UsageError("--reason goes with --override CHECK.")
    config = parse_release(app.settings.section("release"))
    org_config = app.org_config(target_org)
    sandbox_alias = sandbox or config.sandbox
    ctx = GateContext(
        org=app.org(org_config.alias),
        store=app.store,
        alias=org_config.alias,
        repo=str(repo),
        from_ref=from_ref,
        to_ref=to_ref,
        config=config,
        env=app.settings.env,
        actor=app.actor,
        sections={name: app.settings.section(name) for name in ("rollback", "oncall", "alerts")},
        sandbox=app.org(sandbox_alias) if sandbox_alias else None,
        validation_id=validation_id,
    )
    report = run_gate(ctx, overrides=dict.fromkeys(overrides, reason or ""))
    notes = []
    if junit is not None:
        with writing_to("--junit", junit):
            write_junit(report, junit)
        notes.append(f"JUnit results: {junit}")
    failed = [c.name for c in report.failed]
    message = (
        f"Release gate run #{report.run_id} for {from_ref} -> {to_ref} on {report.org}: "
        f"{report.status.value.upper()}"
        + (f" ({', '.join(failed)})" if failed else "")
        + f"; {report.api_calls} API calls, {report.seconds:.1f} s."
    )
    exit_code = ExitCode.FAILED if enforce and failed else ExitCode.OK
    return Result(
        data=report,
        rows=report.rows(),
        columns=["check", "status", "reason", "where"],
        title="Release readiness",
        message=message,
        warnings=notes,
        exit_code=exit_code,
    )


@release.command("history")
@target_org_option
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000), help="How many runs.")
@output_command
@pass_app
def history_cmd(app: AppContext, target_org: str | None, limit: int) -> Result:
    """Recorded gate runs, newest first: which release, outcome, failed and overridden checks."""
    from sfops.release import history

    named = target_org or app.settings.env.get("SFOPS_TARGET_ORG") or app.settings.default_org
    alias = app.org_config(named).alias if named else None
    rows = history(app.store, alias, limit)
    return Result(
        data=rows,
        rows=rows,
        title="Release gate runs",
        columns=["run", "at", "org", "release", "to_sha", "status", "failed", "overridden", "by", "api_calls"],
    )
