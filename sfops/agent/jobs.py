"""The agent's jobs: each one calls an existing domain function for one org and summarises the result.

Nothing is implemented here twice: `logs-pull` is `sfops logs pull`, `limits-snapshot` is
`sfops limits snapshot`, `switch-restore` is `sfops switch restore-due`, `breaker-sync` is
`sfops breaker sync`, `incident-escalate` is the incidents escalation (`escalate_due`) and
`notify-retry` re-sends the incident notification outbox. Each job imports its domain function
when it runs (pandas and the Salesforce client stay out of `sfops agent --help`); those are plain
imports, so a type checker follows them and a module that fails to import fails the test suite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sfops.agent.runs import FAILED, OK, PARTIAL
from sfops.config import Settings
from sfops.store import Store

if TYPE_CHECKING:
    from sfops.incidents.wiring import Incidents
    from sfops.salesforce import Org


@dataclass
class JobContext:
    """What a job gets: the org alias, a connected org (made on first use), store, settings, actor, now."""

    alias: str
    get_org: Callable[[str], Org]
    store: Store
    settings: Settings
    actor: str
    now: dt.datetime

    def org(self) -> Org:
        """The connected org of this job (connected on first use)."""
        return self.get_org(self.alias)


@dataclass(frozen=True)
class JobResult:
    """How a run went: ok | partial | failed, a one-line summary and JSON-able details."""

    outcome: str
    summary: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobSpec:
    """A named job: what it does and the function to run."""

    name: str
    help: str
    run: Callable[[JobContext], JobResult]


def _logs_pull(ctx: JobContext) -> JobResult:
    from sfops.logs.pull import pull_logs
    from sfops.logs.store import data_key

    org = ctx.org()
    result = pull_logs(org, ctx.store, data_key(org, ctx.store))  # keyed by org id: aliases share the logs
    summary = f"{result.pulled} new log(s) stored, {result.already_stored} already stored"
    if result.stopped:
        summary += f"; stopped: {result.stopped}"
    if result.errors:
        summary += f"; {len(result.errors)} error(s)"
    details = {
        "listed": result.listed,
        "pulled": result.pulled,
        "already_stored": result.already_stored,
        "body_bytes": result.body_bytes,
        "failed_transactions": len(result.failures),
        "stopped": result.stopped,
        "errors": list(result.errors)[:20],
        "watermark": None if result.watermark is None else str(result.watermark),
    }
    return JobResult(OK if result.complete else PARTIAL, summary, details)


def _limits_snapshot(ctx: JobContext) -> JobResult:
    from sfops.limits import take_snapshot

    result = take_snapshot(ctx.org(), ctx.store, ctx.alias, clock=lambda: ctx.now)
    summary = f"{result.limits} limits and {result.app_entries} per-app entries stored"
    details = {"limits": result.limits, "app_entries": result.app_entries, "skipped": list(result.skipped)}
    return JobResult(OK, summary, details)


def _switch_restore(ctx: JobContext) -> JobResult:
    from sfops.switches import restore_due

    outcomes = restore_due(ctx.org(), ctx.store, actor=ctx.actor, now=ctx.now)
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no scheduled restores"
    details = {
        "counts": counts,
        "restores": [
            {"id": o.id, "status": o.status, "restored": dict(o.restored), "skipped": dict(o.skipped)}
            for o in outcomes
            if o.status != "not-due"
        ],
    }
    return JobResult(OK, summary, details)


def _breaker_sync(ctx: JobContext) -> JobResult:
    from sfops.breakers import sync_links
    from sfops.breakers.service import breaker_snapshots
    from sfops.detect.integrations import record_samples

    outcomes = sync_links(ctx.org(), ctx.store, actor=ctx.actor)
    failed = [o for o in outcomes if o.action == "failed"]
    summary = ", ".join(f"{o.breaker}: {o.action}" for o in outcomes) or "no breaker needed its linked switch"
    # Every breaker's state after the sync: the agent's /metrics (sfops_breaker_open) and console read it here.
    snapshots = breaker_snapshots(ctx.org(), ctx.store)
    states = {name: str(snap.state.value) for name, snap in snapshots}
    record_samples(ctx.store, ctx.alias, snapshots, ctx.now)  # the detector's `integrations` signal
    details = {
        "outcomes": [
            {"breaker": o.breaker, "switch": o.switch, "action": o.action, "detail": o.detail} for o in outcomes
        ],
        "states": states,
    }
    return JobResult(PARTIAL if failed else OK, summary, details)


def _incidents(ctx: JobContext) -> Incidents:
    from sfops.incidents.wiring import build

    return build(ctx.settings, ctx.org(), ctx.store, alias=ctx.alias, actor=ctx.actor, clock=lambda: ctx.now)


def _incident_escalate(ctx: JobContext) -> JobResult:
    from sfops.incidents.escalation import escalate_due

    incidents = _incidents(ctx)
    fired = escalate_due(incidents.service, incidents.notifier, incidents.alerts, now=ctx.now)
    summary = (
        (f"{len(fired)} escalation level(s) fired: " + ", ".join(f"{f['incident']} level {f['level']}" for f in fired))
        if fired
        else "nothing to escalate"
    )
    return JobResult(
        OK, summary, {"fired": [{k: f[k] for k in ("incident", "id", "level", "channels")} for f in fired]}
    )


def _notify_retry(ctx: JobContext) -> JobResult:
    sent = _incidents(ctx).notifier.retry_due()
    statuses: dict[str, int] = {}
    for row in sent:
        statuses[str(row.get("status"))] = statuses.get(str(row.get("status")), 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) or "outbox empty"
    return JobResult(OK, summary, {"statuses": statuses})


JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec("logs-pull", "Pull new Apex debug logs into the store (sfops logs pull).", _logs_pull),
        JobSpec("limits-snapshot", "Snapshot the org's /limits (sfops limits snapshot).", _limits_snapshot),
        JobSpec(
            "switch-restore", "Apply due scheduled kill-switch restores (sfops switch restore-due).", _switch_restore
        ),
        JobSpec(
            "breaker-sync",
            "Apply breaker -> kill switch links for breakers Apex opened/closed (sfops breaker sync).",
            _breaker_sync,
        ),
        JobSpec("incident-escalate", "Escalate unacknowledged incidents per [alerts.escalation].", _incident_escalate),
        JobSpec("notify-retry", "Re-send incident notifications due for retry (the outbox).", _notify_retry),
    )
}


def _register_detection() -> None:
    from sfops.agent.detect_jobs import register

    register(JOBS)


_register_detection()

__all__ = ["FAILED", "JOBS", "JobContext", "JobResult", "JobSpec"]
