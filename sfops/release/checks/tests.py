"""Tests and coverage through the Tooling API: run the org's local tests (runTestsAsynchronous) or read
the latest run, then ApexTestResult failures, ApexOrgWideCoverage (75 %), every trigger covered and
the classes B changes covered (ApexCodeCoverageAggregate)."""

from __future__ import annotations

import time
from typing import Any

from sfops.errors import SalesforceError
from sfops.release.context import GateContext
from sfops.release.model import CheckResult, Finding, Status
from sfops.salesforce.soql import soql_quote

NAME = "tests"
DONE = ("Completed", "Failed", "Aborted")


def _run(ctx: GateContext) -> str:
    """Start RunLocalTests and wait for its ApexTestRunResult to finish; returns the job id."""
    job = ctx.org.tooling_request("POST", "runTestsAsynchronous", json={"testLevel": "RunLocalTests"})
    job_id = str(job).strip('"')
    deadline = time.monotonic() + ctx.config.test_wait_minutes * 60
    delay = 1.0
    while True:
        rows = ctx.org.tooling_query(
            "SELECT Id, Status FROM ApexTestRunResult WHERE AsyncApexJobId = "  # noqa: S608
            + soql_quote(job_id)
        )
        if rows and rows[0].get("Status") in DONE:
            return job_id
        if time.monotonic() >= deadline:
            raise SalesforceError(
                f"test run {job_id} still running after {ctx.config.test_wait_minutes:g} min", error_code="TIMEOUT"
            )
        ctx.sleep(delay)
        delay = min(delay * 2, 15.0)


def _latest(ctx: GateContext) -> str | None:
    rows = ctx.org.tooling_query(
        "SELECT AsyncApexJobId FROM ApexTestRunResult WHERE Status = 'Completed' ORDER BY EndTime DESC LIMIT 1"
    )
    return str(rows[0]["AsyncApexJobId"]) if rows else None


def _name(row: dict[str, Any], rel: str) -> str:
    value = row.get(rel)
    return str(value.get("Name")) if isinstance(value, dict) else "?"


def from_validation(ctx: GateContext, validation_id: str) -> CheckResult:
    """The results of B's own check-only deploy (`sf project deploy validate`): what Salesforce will demand."""
    result = ctx.org.metadata.check_deploy_status(validation_id, include_details=True)
    facts = {
        "validation_id": validation_id,
        "status": result.status,
        "tests_run": result.number_tests_completed,
        "failures": len(result.test_failures),
    }
    if not result.done:
        return CheckResult(
            NAME, Status.FAIL, f"Validation {validation_id} is still {result.status}; wait for it.", facts=facts
        )
    if not result.check_only:
        return CheckResult(
            NAME, Status.FAIL, f"{validation_id} is a deploy, not a validation (check-only).", facts=facts
        )
    findings = [
        Finding(
            f"test {t.class_name}.{t.method} failed: {t.message}",
            data={"class": t.class_name, "method": t.method, "stack": t.stack},
        )
        for t in result.test_failures
    ]
    findings += [
        Finding(f"coverage: {w.message}" + (f" ({w.name})" if w.name else "")) for w in result.code_coverage_warnings
    ]
    findings += [
        Finding(f"component {c.type} {c.full_name}: {c.problem}", file=c.file or None, line=c.line)
        for c in result.component_failures
    ]
    if findings or not result.success:
        return CheckResult(
            NAME,
            Status.FAIL,
            f"Validation {validation_id} of {ctx.to_ref}: {result.status}, "
            f"{len(result.test_failures)} test failure(s).",
            findings,
            facts=facts,
        )
    return CheckResult(
        NAME,
        Status.PASS,
        f"Validation {validation_id} of {ctx.to_ref} succeeded: "
        f"{result.number_tests_completed} test(s) passed, coverage accepted.",
        facts=facts,
    )


def check(ctx: GateContext) -> CheckResult:
    """Fail on test failures, org-wide coverage below the minimum, an uncovered trigger or changed class."""
    if ctx.validation_id:
        return from_validation(ctx, ctx.validation_id)
    cfg = ctx.config
    try:
        job_id = _run(ctx) if cfg.run_tests else _latest(ctx)
    except SalesforceError as exc:
        return CheckResult(NAME, Status.FAIL, f"Could not run the tests: {exc.message}.")
    if job_id is None:
        return CheckResult(
            NAME,
            Status.FAIL,
            "No completed test run in the org; set [release.tests] run = true "
            "or run `sf apex run test --test-level RunLocalTests`.",
        )
    findings: list[Finding] = []
    results = ctx.org.tooling_query(
        "SELECT ApexClass.Name, MethodName, Outcome, Message, StackTrace FROM "  # noqa: S608
        f"ApexTestResult WHERE AsyncApexJobId = {soql_quote(job_id)}"
    )
    failed = [r for r in results if r.get("Outcome") not in ("Pass", "Skip")]
    for r in failed:
        findings.append(
            Finding(
                f"test {_name(r, 'ApexClass')}.{r.get('MethodName')} {r.get('Outcome')}: "
                f"{r.get('Message') or ''}".rstrip(": "),
                data={"class": _name(r, "ApexClass"), "method": r.get("MethodName"), "stack": r.get("StackTrace")},
            )
        )
    org_wide = ctx.org.tooling_query("SELECT PercentCovered FROM ApexOrgWideCoverage")
    percent = float(org_wide[0].get("PercentCovered") or 0) if org_wide else 0.0
    if percent < cfg.org_wide_coverage:
        findings.append(Finding(f"org-wide coverage {percent:g} % is below {cfg.org_wide_coverage:g} %"))
    aggregates = ctx.org.tooling_query(
        "SELECT ApexClassOrTriggerId, ApexClassOrTrigger.Name, NumLinesCovered, "
        "NumLinesUncovered FROM ApexCodeCoverageAggregate"
    )
    coverage: dict[str, tuple[int, int]] = {}
    for row in aggregates:
        coverage[_name(row, "ApexClassOrTrigger").lower()] = (
            int(row.get("NumLinesCovered") or 0),
            int(row.get("NumLinesUncovered") or 0),
        )
    triggers = [str(t["Name"]) for t in ctx.org.tooling_query("SELECT Name FROM ApexTrigger")]
    for name in triggers:
        covered, _ = coverage.get(name.lower(), (0, 0))
        if covered == 0:
            findings.append(Finding(f"trigger {name} has no test coverage"))
    in_org = {t.lower() for t in triggers} | set(coverage)
    classes = ctx.org.tooling_query("SELECT Name FROM ApexClass")
    in_org |= {str(c["Name"]).lower() for c in classes}
    not_yet = []
    for change in ctx.release.changes:
        for name in change.b.type_names[:1]:
            if name.lower() not in in_org:
                not_yet.append(name)
                continue
            covered, uncovered = coverage.get(name.lower(), (0, 0))
            total = covered + uncovered
            pct = 100.0 * covered / total if total else None
            if pct is not None and pct < cfg.class_coverage:
                findings.append(
                    Finding(
                        f"{name} (changed by the release) is {pct:.0f} % covered, below {cfg.class_coverage:g} %",
                        file=change.path,
                    )
                )
    facts = {
        "job_id": job_id,
        "tests_run": len(results),
        "failures": len(failed),
        "org_wide_coverage": percent,
        "not_in_org_yet": not_yet,
    }
    if findings:
        return CheckResult(
            NAME,
            Status.FAIL,
            f"{len(failed)} test failure(s), {percent:g} % org-wide coverage (run {job_id}).",
            findings,
            facts=facts,
        )
    reason = f"{len(results)} test method(s) passed; {percent:g} % org-wide coverage (run {job_id})."
    if not_yet:
        return CheckResult(
            NAME,
            Status.WARN,
            reason + f" {len(not_yet)} class(es)/trigger(s) new in "
            f"{ctx.to_ref} are not in the org yet: their coverage is known "
            "only from the deploy's own validation.",
            facts=facts,
        )
    return CheckResult(NAME, Status.PASS, reason, facts=facts)
