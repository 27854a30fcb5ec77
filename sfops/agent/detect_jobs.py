"""The agent's detection jobs: collect the error history and the org's changes, and run the detector.

* `errors-pull`: Error_Log__c, ApexUnexpectedException event log files and failed AsyncApexJobs into the
  error history (the same imports as `sfops logs pull --errors --event-logs`, plus async jobs);
* `changes-pull`: DeployRequest and SetupAuditTrail into the store (`sfops changes`);
* `detect`: one detector tick (`sfops detect run`).

The collectors that bring failures (`logs-pull`, `errors-pull`) run a detector tick right after they stored
something new, so a failing log is paged within one pull period plus the tick, not one more `detect` period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sfops.agent.jobs import JobContext, JobResult, JobSpec
from sfops.agent.runs import OK, PARTIAL
from sfops.errors import SfopsError


def detect_tick(ctx: JobContext) -> Any:
    """One detector tick for the job's org (incidents wired from the settings, as `sfops incident` does)."""
    from sfops.detect import load_config, run_detection

    config = load_config(ctx.settings.section("detect"))
    production = bool(ctx.settings.org(ctx.alias).production)

    def incidents() -> Any:
        from sfops.incidents.wiring import build

        return build(
            ctx.settings, ctx.org(), ctx.store, alias=ctx.alias, actor=ctx.actor, clock=lambda: ctx.now, strict=False
        )

    return run_detection(
        ctx.store,
        config,
        alias=ctx.alias,
        now=ctx.now,
        production=production,
        actor=ctx.actor,
        incidents=incidents,
        get_org=ctx.org,
    )


def _describe(result: Any) -> tuple[str, dict[str, Any]]:
    counts = result.counts()
    fired = [f"{t.rule.name} -> {t.incident_ref or '-'}" for t in result.transitions if t.kind == "fired"]
    text = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "nothing fired"
    if fired:
        text += f" ({'; '.join(fired)})"
    details = {
        "rules": result.rules,
        "events": result.events,
        "counts": counts,
        "errors": result.errors[:20],
        "fired": fired,
        "actions": [a for t in result.transitions for a in t.actions],
    }
    return text, details


def _detect(ctx: JobContext) -> JobResult:
    result = detect_tick(ctx)
    text, details = _describe(result)
    if result.errors:
        text += f"; {len(result.errors)} error(s)"
    return JobResult(PARTIAL if result.errors else OK, text, details)


def then_detect(
    collector: Callable[[JobContext], JobResult], new_data: Callable[[JobResult], bool]
) -> Callable[[JobContext], JobResult]:
    """A collector job followed, when it stored something new, by a detector tick (recorded in its details)."""

    def run(ctx: JobContext) -> JobResult:
        result = collector(ctx)
        if not new_data(result) or not ctx.settings.section("detect").get("enabled", True):
            return result
        try:
            tick = detect_tick(ctx)
        except SfopsError as exc:  # what was collected stays collected; the `detect` job will try again
            return JobResult(
                PARTIAL,
                f"{result.summary}; detect failed: {exc.message}",
                {**result.details, "detect": {"error": exc.message}},
            )
        text, details = _describe(tick)
        outcome = PARTIAL if tick.errors and result.outcome == OK else result.outcome
        return JobResult(outcome, f"{result.summary}; detect: {text}", {**result.details, "detect": details})

    return run


def _errors_pull(ctx: JobContext) -> JobResult:
    from sfops.detect import collect_async_failures
    from sfops.logs.errors import (
        EVENT_OBJECT,
        import_error_logs,
        import_event_logs,
        import_exception_objects,
        import_long_running,
    )
    from sfops.logs.store import data_key

    org = ctx.org()
    key = data_key(org, ctx.store)  # stored under the org id, like `sfops logs pull --errors --event-logs`
    parts, details, new = [], {}, 0
    importers = (
        import_error_logs,
        import_event_logs,
        import_long_running,
        lambda o, s, k: import_exception_objects(o, s, k, now=ctx.now),
    )
    for importer in importers:
        imported = importer(org, ctx.store, key)
        new += imported.imported
        details[imported.source] = {
            "available": imported.available,
            "imported": imported.imported,
            "note": imported.note,
        }
        if imported.available:
            parts.append(f"{imported.source}: {imported.imported} new")
        elif imported.source != EVENT_OBJECT:  # the fallback to EventLogFile is shown once, in `detect rules`
            parts.append(f"{imported.source}: unavailable")
    jobs = collect_async_failures(org, ctx.store, key, now=ctx.now)
    new += jobs
    details["AsyncApexJob"] = {"imported": jobs}
    parts.append(f"AsyncApexJob: {jobs} failed")
    return JobResult(OK, ", ".join(parts), {**details, "new": new})


def _changes_pull(ctx: JobContext) -> JobResult:
    from sfops.changes import collect_changes, send_change_events
    from sfops.store.changes import change_rows

    result = collect_changes(ctx.org(), ctx.store, ctx.alias, now=ctx.now)
    # everything of the last day not sent yet: a detector tick may have collected a deploy first
    recent = change_rows(
        ctx.store,
        ctx.alias,
        since=ctx.now - dt.timedelta(days=1),
        until=ctx.now,
        sources=["DeployRequest", "SetupAuditTrail"],
    )
    sent = send_change_events(ctx.settings, ctx.store, ctx.alias, recent)
    text = (
        f"{result.deploys_new} new deployment(s), {result.deploys_updated} updated, "
        f"{result.audit_new} audit trail entr{'y' if result.audit_new == 1 else 'ies'}"
    )
    if sent:
        text += f"; {sent} PagerDuty change event(s)"
    if result.unavailable:
        text += f"; unavailable: {', '.join(result.unavailable)}"
    return JobResult(
        OK,
        text,
        {
            "deploys_new": result.deploys_new,
            "deploys_updated": result.deploys_updated,
            "audit_new": result.audit_new,
            "unavailable": result.unavailable,
            "change_events": sent,
        },
    )


def register(jobs: dict[str, JobSpec]) -> None:
    """Add the detection jobs, and chain a detector tick after the failure collectors."""
    pull = jobs.get("logs-pull")
    if pull is not None:
        jobs["logs-pull"] = JobSpec(
            pull.name,
            pull.help + " Then a detector tick when logs arrived.",
            then_detect(pull.run, lambda r: bool(r.details.get("pulled"))),
        )
    jobs["errors-pull"] = JobSpec(
        "errors-pull",
        "Import Error_Log__c, ApexUnexpectedException event logs and failed async Apex; then detect.",
        then_detect(_errors_pull, lambda r: bool(r.details.get("new"))),
    )
    jobs["changes-pull"] = JobSpec(
        "changes-pull",
        "Copy new DeployRequests and Setup Audit Trail entries into the store (sfops changes).",
        _changes_pull,
    )
    jobs["detect"] = JobSpec("detect", "Evaluate the detection rules: raise, update, clear incidents.", _detect)
