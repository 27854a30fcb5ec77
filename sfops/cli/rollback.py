"""`sfops rollback`: plan a rollback from a bad release B back to a good release A (git refs)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sfops.cli.common import (
    dry_run_option,
    incident_option,
    output_command,
    output_file,
    pass_app,
    reason_option,
    target_org_option,
    writing_to,
    yes_option,
)
from sfops.cli.context import AppContext
from sfops.cli.output import Result

if TYPE_CHECKING:
    from sfops.config import OrgConfig
    from sfops.rollback.deploy import Outcome, Package, RollbackDeployer
    from sfops.salesforce.metadata import DeployResult


@click.group("rollback")
def rollback() -> None:
    """Roll metadata back from Git: plan and package, validate early, quick-deploy on incident."""


@rollback.command("plan")
@click.option(
    "--from", "from_ref", required=True, metavar="B", help="The bad release (deployed now): tag, branch or SHA."
)
@click.option("--to", "to_ref", required=True, metavar="A", help="The good release to go back to.")
@click.option(
    "--repo",
    "repo",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The SFDX project's git working tree.",
)
@click.option(
    "--output",
    "output",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Package folder (default: <repo>/metadata/rollbacks/<B>-to-<A>).",
)
@click.option(
    "--allow-forward", is_flag=True, help="Accept --from older than --to (a forward delta: deploy the newer release)."
)
@dry_run_option
@output_command
@pass_app
def plan_cmd(
    app: AppContext, from_ref: str, to_ref: str, repo: Path, output: Path | None, allow_forward: bool, dry_run: bool
) -> Result:
    """Plan the rollback B -> A: re-add, revert, pre/post deletions with reasons; write the package."""
    from sfops.rollback.package import plan_and_package

    plan = plan_and_package(repo, from_ref, to_ref, output, write=not dry_run, allow_forward=allow_forward)
    counts = {step: sum(1 for i in plan.items if i.placement == step) for step in ("deploy", "pre", "post", "skip")}
    message = (
        f"Rollback {from_ref} ({plan.from_sha[:10]}) -> {to_ref} ({plan.to_sha[:10]}): "
        f"{counts['deploy']} to deploy, {counts['pre']} pre-delete, {counts['post']} post-delete, "
        f"{counts['skip']} skipped, {plan.phases} phase(s)."
    )
    if plan.package_dir:
        message += f"\nPackage: {plan.package_dir} ({plan.file_count} files, {plan.zip_bytes:,} bytes zipped)"
    if plan.unknown:
        message += f"\nNot packaged (unknown or unsupported): {len(plan.unknown)} file(s), see plan.json 'unknown'."
    return Result(
        data=plan,
        rows=plan.rows(),
        columns=["phase", "step", "action", "type", "member", "why"],
        title="Rollback plan",
        message=message,
        warnings=list(plan.warnings),
    )


package_option = click.option(
    "--package",
    "package_dir",
    required=True,
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="The package folder `rollback plan` wrote (metadata/rollbacks/<B>-to-<A>).",
)
wait_option = click.option(
    "-w",
    "--wait",
    "wait",
    type=float,
    default=33,
    show_default=True,
    metavar="MINUTES",
    help="Minutes to wait for the result (0: return at once; exit 69 while running).",
)
level_option = click.option(
    "-l",
    "--test-level",
    "test_level",
    default=None,
    type=click.Choice(["RunSpecifiedTests", "RunLocalTests", "RunAllTestsInOrg", "NoTestRun"]),
    help="Default: RunSpecifiedTests with the tests of release A (good) covering the "
    "reverted Apex, "
    "else RunLocalTests.",
)
tests_option = click.option(
    "-t", "--tests", "tests", multiple=True, metavar="CLASS", help="Test class for RunSpecifiedTests (repeatable)."
)
ignore_warnings_option = click.option(
    "--ignore-warnings", is_flag=True, help="Deleting a component the org lacks is not an error."
)
junit_option = click.option(
    "--junit",
    "junit",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    callback=output_file,
    help="Write the test results as JUnit XML here.",
)
freeze_option = click.option(
    "--override-freeze",
    "override_freeze",
    is_flag=True,
    help="Deploy despite a change freeze or risky time (needs --reason).",
)
drift_option = click.option(
    "--skip-drift-check",
    "skip_drift",
    is_flag=True,
    help="Do not compare the org with release B (bad) before deploying.",
)


def _deploy_id(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """A deploy or validation id: 15 or 18 letters and digits starting 0Af (a usage error otherwise, exit 2)."""
    if value is not None and not re.fullmatch(r"0Af[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?", value):
        raise click.BadParameter(
            f"'{value}' is not a deploy id (0Af followed by 12 or 15 letters and digits, "
            "as `rollback validate` prints)."
        )
    return value


job_option = click.option(
    "-i",
    "--job-id",
    "job_id",
    required=True,
    metavar="ID",
    callback=_deploy_id,
    help="Deploy or validation id (0Af...).",
)


def _deployer(
    app: AppContext, target_org: str | None, incident_id: str | None = None
) -> tuple[OrgConfig, RollbackDeployer]:
    from sfops.rollback.deploy import RollbackDeployer
    from sfops.salesforce.metadata import MetadataClient

    config = app.org_config(target_org)

    def progress(result: DeployResult) -> None:  # one line per poll on stderr: stdout stays clean for --json
        app.err_console.print(
            f"{result.id} {result.status}: components {result.number_components_deployed}/"
            f"{result.number_components_total}, tests {result.number_tests_completed}/"
            f"{result.number_tests_total}",
            highlight=False,
            markup=False,
        )

    return config, RollbackDeployer(
        MetadataClient(app.org(config.alias)),
        app.store,
        config.alias,
        actor=app.actor,
        on_progress=progress,
        incident_id=incident_id,
        freeze=app.settings.section("rollback"),
        production=config.production,
    )


def _result(outcome: Outcome, title: str, junit: Path | None, extra_warnings: list[str] | None = None) -> Result:
    """The outcome as a Result: failures as rows, what sfops chose (test level, phases) as notes, drift and
    freeze overrides as warnings; a job still running says so instead of "failures: none"."""
    from sfops.rollback.deploy import is_warning, write_junit

    notes = [n for n in outcome.notes if not is_warning(n)]
    extra_warnings = [*(extra_warnings or []), *(n for n in outcome.notes if is_warning(n))]
    if junit is not None:
        with writing_to("--junit", junit):
            write_junit(outcome, junit)
        notes.append(f"JUnit results: {junit}")
    head = (
        f"{outcome.action}: {outcome.status} (id {outcome.id}); components {outcome.components_deployed}/"
        f"{outcome.components_total}, tests {outcome.tests_completed}/{outcome.tests_total}"
    )
    if outcome.test_level:
        head += f", {outcome.test_level}" + (f" {', '.join(outcome.tests)}" if outcome.tests else "")
    rows = outcome.rows()
    if not outcome.done:
        head += " (still running)"
    return Result(
        data=outcome,
        rows=rows,
        columns=["kind", "name", "problem", "where"],
        title=f"{title}: failures" if outcome.done or rows else None,
        message=head,
        notes=notes,
        warnings=list(extra_warnings or []),
        exit_code=outcome.exit_code,
    )


def _gate_note(app: AppContext, alias: str, package: Package) -> list[str]:
    """Which release gate run let B (the release being rolled back) through on this org, if any."""
    from sfops.release.gate import allowing_run

    run = allowing_run(app.store, alias, package.from_sha)
    if run is None:
        return [f"No release gate run allowed {package.from_sha[:10]} on {alias} (sfops release check)."]
    return [
        f"Release {package.from_sha[:10]} was allowed on {alias} by gate run #{run['run']} ({run['status']}, "
        f"{run['at']:%Y-%m-%d %H:%M} UTC, by {run['by']}"
        + (f"; overrides: {run['overrides']}" if run["overrides"] else "")
        + ")."
    ]


def _guard(app: AppContext, config: OrgConfig, override: bool, reason: str | None, yes: bool, action: str) -> list[str]:
    """Only the confirmation lives here; the freeze guard, drift check and audit run in sfops.rollback."""
    if override and not (reason or "").strip():
        from sfops.errors import UsageError

        raise UsageError("--override-freeze needs --reason (it is recorded with the rollback).")
    app.confirm_production(config, action, yes=yes)
    return []


overwrite_drift_option = click.option(
    "--overwrite-drift",
    "overwrite_drift",
    is_flag=True,
    help="Deploy although the org differs from release B (bad) (production blocks otherwise; needs --reason).",
)


@rollback.command("validate")
@package_option
@target_org_option
@level_option
@tests_option
@wait_option
@junit_option
@drift_option
@ignore_warnings_option
@reason_option
@incident_option
@output_command
@pass_app
def validate_cmd(
    app: AppContext,
    package_dir: Path,
    target_org: str | None,
    test_level: str | None,
    tests: tuple[str, ...],
    wait: float,
    junit: Path | None,
    skip_drift: bool,
    ignore_warnings: bool,
    reason: str | None,
    incident_id: str | None,
) -> Result:
    """Check-only deploy of the rollback with tests; keeps the id for a quick deploy on incident."""
    from sfops.rollback.deploy import load_package

    _, deployer = _deployer(app, target_org, incident_id)
    return _check_only(
        deployer,
        load_package(package_dir),
        "Rollback validation",
        test_level=test_level,
        tests=tests,
        wait=wait,
        junit=junit,
        skip_drift=skip_drift,
        ignore_warnings=ignore_warnings,
        reason=reason,
    )


def _check_only(
    deployer: RollbackDeployer,
    package: Package,
    title: str,
    *,
    test_level: str | None,
    tests: tuple[str, ...],
    wait: float,
    junit: Path | None,
    skip_drift: bool,
    ignore_warnings: bool,
    reason: str | None,
) -> Result:
    """A validation (check-only deploy with tests) after the drift check: `validate` and `deploy --dry-run`."""
    outcome = deployer.validate(
        package,
        test_level=test_level,
        tests=tests,
        wait_minutes=wait,
        ignore_warnings=ignore_warnings,
        reason=reason,
        skip_drift=skip_drift,
    )
    return _result(outcome, title, junit)


@rollback.command("deploy")
@package_option
@target_org_option
@level_option
@tests_option
@wait_option
@junit_option
@drift_option
@overwrite_drift_option
@freeze_option
@ignore_warnings_option
@click.option(
    "--dry-run",
    is_flag=True,
    help="Check-only deploy with tests (a validation, as `sf project deploy start --dry-run`); no change.",
)
@reason_option
@incident_option
@yes_option
@output_command
@pass_app
def deploy_cmd(
    app: AppContext,
    package_dir: Path,
    target_org: str | None,
    test_level: str | None,
    tests: tuple[str, ...],
    wait: float,
    junit: Path | None,
    skip_drift: bool,
    overwrite_drift: bool,
    override_freeze: bool,
    ignore_warnings: bool,
    dry_run: bool,
    reason: str | None,
    incident_id: str | None,
    yes: bool,
) -> Result:
    """Full deploy of the rollback (every phase in order), with tests."""
    from sfops.rollback.deploy import load_package

    package = load_package(package_dir)
    config, deployer = _deployer(app, target_org, incident_id)
    if dry_run:
        return _check_only(
            deployer,
            package,
            "Rollback deploy --dry-run (check-only: nothing changed)",
            test_level=test_level,
            tests=tests,
            wait=wait,
            junit=junit,
            skip_drift=skip_drift,
            ignore_warnings=ignore_warnings,
            reason=reason,
        )
    notes = _guard(app, config, override_freeze, reason, yes, f"Deploy rollback {package.label}.")
    notes += _gate_note(app, config.alias, package)
    outcome = deployer.deploy(
        package,
        test_level=test_level,
        tests=tests,
        wait_minutes=wait,
        ignore_warnings=ignore_warnings,
        reason=reason,
        override_freeze=override_freeze,
        skip_drift=skip_drift,
        overwrite_drift=overwrite_drift,
    )
    return _result(outcome, "Rollback deploy", junit, notes)


@rollback.command("quick")
@package_option
@target_org_option
@click.option(
    "-i",
    "--job-id",
    "job_id",
    default=None,
    metavar="ID",
    callback=_deploy_id,
    help="Validation id (default: the one `rollback validate` stored for this org).",
)
@click.option("--no-fallback", is_flag=True, help="Fail instead of running a full deploy when the validation is stale.")
@level_option
@tests_option
@wait_option
@junit_option
@drift_option
@overwrite_drift_option
@freeze_option
@dry_run_option
@reason_option
@incident_option
@yes_option
@output_command
@pass_app
def quick_cmd(
    app: AppContext,
    package_dir: Path,
    target_org: str | None,
    job_id: str | None,
    no_fallback: bool,
    test_level: str | None,
    tests: tuple[str, ...],
    wait: float,
    junit: Path | None,
    skip_drift: bool,
    overwrite_drift: bool,
    override_freeze: bool,
    dry_run: bool,
    reason: str | None,
    incident_id: str | None,
    yes: bool,
) -> Result:
    """Quick-deploy the validated rollback (no test run); full deploy when the validation is stale."""
    from sfops.rollback.deploy import load_package

    package = load_package(package_dir)
    config, deployer = _deployer(app, target_org, incident_id)
    if dry_run:
        plan = deployer.quick_plan(package, job_id, fallback=not no_fallback)
        detail = f"validation {plan['validation_id']}" if plan["would"] == "quick deploy" else plan["stale"]
        return Result(
            data=plan, message=f"Dry run: would {plan['would']} of {package.label} ({detail}); nothing was changed."
        )
    plan = deployer.quick_plan(package, job_id, fallback=not no_fallback)
    action = f"Quick-deploy rollback {package.label}."
    if plan["would"] == "full deploy with tests":
        action = (
            f"Quick deploy of {package.label} is NOT possible ({plan['stale']}): run a FULL deploy with tests instead?"
        )
    notes = _guard(app, config, override_freeze, reason, yes, action)
    notes += _gate_note(app, config.alias, package)
    outcome = deployer.quick(
        package,
        validation_id=job_id,
        fallback=not no_fallback,
        wait_minutes=wait,
        reason=reason,
        test_level=test_level,
        tests=tests,
        override_freeze=override_freeze,
        skip_drift=skip_drift,
        overwrite_drift=overwrite_drift,
    )
    return _result(outcome, "Rollback quick deploy", junit, notes)


@rollback.command("status")
@job_option
@target_org_option
@click.option(
    "-w",
    "--wait",
    "wait",
    type=float,
    default=0,
    show_default=True,
    metavar="MINUTES",
    help="Minutes to wait for the end (0: report the current state).",
)
@junit_option
@output_command
@pass_app
def status_cmd(app: AppContext, job_id: str, target_org: str | None, wait: float, junit: Path | None) -> Result:
    """Progress and result of a rollback deploy or validation (exit 0/1/68/69 like sf)."""
    _, deployer = _deployer(app, target_org)
    return _result(deployer.status(job_id, wait), "Rollback status", junit)


@rollback.command("cancel")
@job_option
@target_org_option
@reason_option
@output_command
@pass_app
def cancel_cmd(app: AppContext, job_id: str, target_org: str | None, reason: str | None) -> Result:
    """Cancel a queued or running rollback deploy."""
    _, deployer = _deployer(app, target_org)
    return _result(deployer.cancel(job_id, reason), "Rollback cancel", None)
