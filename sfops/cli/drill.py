"""`sfops drill`: scripted rehearsals of a production failure on a sandbox or the emulator, each stage timed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from sfops.cli.common import output_command, pass_app, target_org_option
from sfops.cli.context import AppContext
from sfops.cli.output import Result
from sfops.errors import SfopsError, UsageError


@click.group("drill")
def drill() -> None:
    """Drills: rehearse a failure on a sandbox or the emulator; time detection, paging, switch, recovery."""


@drill.command("list")
@output_command
@pass_app
def list_cmd(app: AppContext) -> Result:
    """The drills that can be run, with their hypothesis and stage targets."""
    from sfops.detect.drill import DRILLS

    rows = [
        {"name": d.name, "hypothesis": d.hypothesis, "targets": ", ".join(f"{k} {v:g}s" for k, v in d.targets.items())}
        for d in DRILLS.values()
    ]
    return Result(data=list(DRILLS.values()), rows=rows, title="Drills")


@drill.command("run")
@click.argument("name")
@target_org_option
@click.option(
    "--via",
    type=click.Choice(["apex", "control"]),
    default="apex",
    show_default=True,
    help="How to inject: anonymous Apex (a sandbox) or the local emulator's control endpoint.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the Markdown and JSON report (default: $SFOPS_HOME/drills).",
)
@click.option(
    "--timeout",
    type=click.IntRange(10, 3600),
    default=120,
    show_default=True,
    help="Seconds to wait for the response stages.",
)
@output_command
@pass_app
def run_cmd(app: AppContext, name: str, target_org: str | None, via: str, out: Path | None, timeout: int) -> Result:
    """Run a drill: check the steady state, inject the failure, time each stage, restore, write the report.

    A production org is refused.
    """
    from sfops.detect import load_config
    from sfops.detect.drill import DRILLS, failure_injection, run_drill, write_report
    from sfops.incidents.wiring import build
    from sfops.logs.errors import import_error_logs, import_event_logs
    from sfops.logs.pull import pull_logs
    from sfops.logs.store import data_key

    if name not in DRILLS:
        raise UsageError(f"Unknown drill '{name}'. Drills: {', '.join(DRILLS)}.", actions=["sfops drill list"])
    org_config = app.org_config(target_org)
    alias = org_config.alias
    if org_config.production:
        raise UsageError(
            f"'{alias}' is a production org (production = true): drills run on a sandbox or the emulator only."
        )
    folder = out or app.settings.home / "drills"
    if out is None:
        folder.mkdir(parents=True, exist_ok=True)
    elif not folder.is_dir():
        raise UsageError(f"--out {folder}: no such folder.")
    org = app.org(target_org)

    def collect() -> None:
        key = data_key(org, app.store)
        pull_logs(org, app.store, key)
        for importer in (import_error_logs, import_event_logs):
            importer(org, app.store, key)

    def inject_through_the_emulator(at: dt.datetime) -> str:
        # the local org emulator's control endpoint: the CLI starts and knows the emulator; the domain does not
        url = f"{org.instance_url}/__emulator__/inject"
        response = org.session.request("POST", url, json=failure_injection(at), timeout=30)
        if not response.ok:
            raise SfopsError(
                f"The org's control endpoint refused the injection (HTTP {response.status_code}): "
                "--via control needs the local org emulator (sfops emulator start)."
            )
        return "control endpoint: 1 failing debug log and 1 ApexUnexpectedException event"

    def incidents() -> Any:
        return build(app.settings, org, app.store, alias=alias, actor=app.actor, strict=False)

    report = run_drill(
        org,
        app.store,
        load_config(app.settings.section("detect")),
        alias=alias,
        production=False,
        actor=app.actor,
        incidents=incidents,
        drill=DRILLS[name],
        via=via,
        inject_failure=inject_through_the_emulator if via == "control" else None,
        collect=collect,
        timeout=float(timeout),
    )
    md, js = write_report(report, folder)
    rows = [
        {
            "stage": s.name,
            "seconds": "-" if s.seconds is None else f"{s.seconds:.1f}",
            "target": f"{s.target:g}",
            "result": "pass" if s.passed else "FAIL",
            "detail": s.detail,
        }
        for s in report.stages
    ]
    from sfops.errors import ExitCode

    return Result(
        data={"report": report, "markdown": str(md), "json": str(js)},
        rows=rows,
        title=f"Drill {name} on '{alias}'",
        message=f"Drill {'passed' if report.passed else 'FAILED'}; report: {md} (and {js.name}).",
        exit_code=ExitCode.OK if report.passed else ExitCode.FAILED,
    )
