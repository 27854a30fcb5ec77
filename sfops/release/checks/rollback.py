"""Rollback ready: a plan B -> A exists, its validation against this org succeeded, is younger than 10
days and no deploy happened since, so `sfops rollback quick` can quick-deploy it on incident."""

from __future__ import annotations

import datetime as dt

from sfops.errors import SalesforceError, SfopsError
from sfops.release.context import GateContext
from sfops.release.model import CheckResult, Finding, Status
from sfops.rollback.deploy import STATE_KEY, RollbackDeployer, load_package
from sfops.rollback.package import DEFAULT_ROOT, folder_name

NAME = "rollback"


def check(ctx: GateContext) -> CheckResult:
    """Pass when the way back from B to A is planned, validated on this org and still quick-deployable."""
    release = ctx.release
    folder = ctx.repo_path / DEFAULT_ROOT / folder_name(ctx.to_ref, ctx.from_ref)
    plan_cmd = f"sfops rollback plan --from {ctx.to_ref} --to {ctx.from_ref} --repo {ctx.repo}"
    validate_cmd = f"sfops rollback validate --package {folder} -o {ctx.alias}"
    try:
        package = load_package(folder)
    except SfopsError:
        return CheckResult(NAME, Status.FAIL, f"No rollback plan {ctx.to_ref} -> {ctx.from_ref} in {folder}: "
                                              f"run `{plan_cmd}` then `{validate_cmd}`.")
    if package.from_sha != release.to_sha or package.to_sha != release.from_sha:
        return CheckResult(NAME, Status.FAIL, f"The rollback package in {folder} was planned for other commits "
                                              f"than {ctx.to_ref} -> {ctx.from_ref}: run `{plan_cmd}` again, "
                                              f"then `{validate_cmd}`.")
    deployer = RollbackDeployer(ctx.org.metadata, ctx.store, ctx.alias, actor=ctx.actor, now=lambda: ctx.now)
    plan = deployer.quick_plan(package)
    facts = {"package": str(folder), "validation_id": plan["validation_id"], "validated_at": plan["validated_at"]}
    if plan["stale"]:
        return CheckResult(NAME, Status.FAIL, f"Rollback validation not usable: {plan['stale']}; run "
                                              f"`{validate_cmd}`.", facts=facts)
    stored = ctx.store.get_state(STATE_KEY.format(org=ctx.alias)) or {}
    since = dt.datetime.fromisoformat(stored["at"])
    later, note = _deploys_since(ctx, since)
    if later:
        return CheckResult(NAME, Status.FAIL, f"{len(later)} deploy(s) to {ctx.alias} since the rollback validation "
                                              f"{plan['validation_id']} ({since:%Y-%m-%d %H:%M} UTC), which "
                                              f"makes it unusable for a quick deploy: run `{validate_cmd}`.",
                           [Finding(f"deploy {d.get('Id')} completed {d.get('CompletedDate')}") for d in later],
                           facts=facts)
    age = ctx.now - since
    reason = (f"Rollback {ctx.to_ref} -> {ctx.from_ref} validated as {plan['validation_id']} "
              f"{age.days} day(s) {age.seconds // 3600} h ago; quick-deployable.")
    if note:
        return CheckResult(NAME, Status.WARN, reason + f" {note}", facts=facts)
    return CheckResult(NAME, Status.PASS, reason, facts=facts)


def _deploys_since(ctx: GateContext, since: dt.datetime) -> tuple[list[dict[str, object]], str | None]:
    """Deploys (not validations) completed after `since`, from the Tooling API's DeployRequest."""
    stamp = since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    soql = ("SELECT Id, CompletedDate, Status FROM DeployRequest WHERE CheckOnly = false AND "  # noqa: S608
            f"Status IN ('Succeeded', 'SucceededPartial') AND CompletedDate > {stamp} ORDER BY CompletedDate")
    try:
        return ctx.org.tooling_query(soql), None
    except SalesforceError as exc:
        return [], f"(Could not check for deploys since the validation: {exc.message})"
