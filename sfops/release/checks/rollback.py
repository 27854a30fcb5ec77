"""Rollback ready: a plan B -> A exists, its validation against this org succeeded, is younger than 10
days and no deploy completed since (Salesforce refuses to quick-deploy a validation once another deploy
changed the org; the org's DeployRequest list says whether one did), so `sfops rollback quick` can
quick-deploy it on incident."""

from __future__ import annotations

import datetime as dt

from sfops.errors import SalesforceError, SfopsError
from sfops.release.context import GateContext
from sfops.release.model import CheckResult, Finding, Status
from sfops.rollback.deploy import STATE_KEY, RollbackDeployer, load_package
from sfops.rollback.package import DEFAULT_ROOT, folder_name
from sfops.salesforce.soql import soql_literal
from sfops.salesforce.values import parse_datetime

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
        return CheckResult(
            NAME,
            Status.FAIL,
            f"No rollback plan {ctx.to_ref} -> {ctx.from_ref} in {folder}: run `{plan_cmd}` then `{validate_cmd}`.",
        )
    if package.from_sha != release.to_sha or package.to_sha != release.from_sha:
        return CheckResult(
            NAME,
            Status.FAIL,
            f"The rollback package in {folder} was planned for other commits "
            f"than {ctx.to_ref} -> {ctx.from_ref}: run `{plan_cmd}` again, "
            f"then `{validate_cmd}`.",
        )
    deployer = RollbackDeployer(ctx.org.metadata, ctx.store, ctx.alias, actor=ctx.actor, now=lambda: ctx.now)
    plan = deployer.quick_plan(package)
    facts = {"package": str(folder), "validation_id": plan["validation_id"], "validated_at": plan["validated_at"]}
    if plan["stale"]:
        return CheckResult(
            NAME, Status.FAIL, f"Rollback validation not usable: {plan['stale']}; run `{validate_cmd}`.", facts=facts
        )
    stored = ctx.store.get_state(STATE_KEY.format(org=ctx.alias)) or {}
    since = dt.datetime.fromisoformat(stored["at"])
    later, running, note = _deploys_since(ctx, str(plan["validation_id"]), since)
    if later:
        return CheckResult(
            NAME,
            Status.FAIL,
            f"{len(later)} deploy(s) to {ctx.alias} completed after the rollback "
            f"validation {plan['validation_id']} ({since:%Y-%m-%d %H:%M} UTC): "
            "Salesforce no longer quick-deploys it (a rollback would run a full "
            f"deploy with tests): run `{validate_cmd}`.",
            [Finding(f"deploy {d.get('Id')} completed {d.get('CompletedDate')}") for d in later],
            facts=facts,
        )
    age = ctx.now - since
    reason = (
        f"Rollback {ctx.to_ref} -> {ctx.from_ref} validated as {plan['validation_id']} "
        f"{age.days} day(s) {age.seconds // 3600} h ago; no deploy since; quick-deployable."
    )
    if running:
        return CheckResult(
            NAME,
            Status.WARN,
            reason + f" But {len(running)} deploy(s) to {ctx.alias} are running: "
            "when one completes the validation is stale.",
            [Finding(f"deploy {d.get('Id')} {d.get('Status')}") for d in running],
            facts=facts,
        )
    if note:
        return CheckResult(NAME, Status.WARN, reason.replace("; no deploy since", "") + f" {note}", facts=facts)
    return CheckResult(NAME, Status.PASS, reason, facts=facts)


def _deploys_since(
    ctx: GateContext, validation_id: str, since: dt.datetime
) -> tuple[list[dict[str, object]], list[dict[str, object]], str | None]:
    """(deploys completed after the validation, deploys running now, why it could not be checked), from the
    Tooling API's DeployRequest. "After" is measured by the org's own clock: the validation's CompletedDate
    when the org still lists it, else the time sfops stored."""
    try:
        own = ctx.org.tooling_query(
            "SELECT Id, CompletedDate FROM DeployRequest "  # noqa: S608
            f"WHERE Id = {soql_literal(validation_id)}"
        )
        completed = parse_datetime(own[0].get("CompletedDate")) if own else None
        stamp = soql_literal(completed or since)
        rows = ctx.org.tooling_query(
            "SELECT Id, Status, CompletedDate FROM DeployRequest WHERE CheckOnly = false AND "  # noqa: S608
            f"(CompletedDate > {stamp} OR Status IN ('Pending', 'InProgress')) ORDER BY CreatedDate"
        )
    except SalesforceError as exc:
        return [], [], f"(Could not check for deploys since the validation: {exc.message})"
    later = [r for r in rows if r.get("Status") in ("Succeeded", "SucceededPartial")]
    running = [r for r in rows if r.get("Status") in ("Pending", "InProgress")]
    return later, running, None
