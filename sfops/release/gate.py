"""Run the release gate: every check at its configured level, overrides applied, the run recorded.

Each run is an audit record (`release.check`, target `A..B`, the SHAs, the outcome, each check's status
and reason); each override is its own audit record (`release.override`, with who and why), so the
history of what allowed a deploy lives with the rest of sfops's audit trail.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sfops.errors import SfopsError, UsageError
from sfops.release.checks import CHECK_FUNCTIONS
from sfops.release.context import GateContext
from sfops.release.model import CHECKS, CheckResult, GateReport, Status

if TYPE_CHECKING:
    from sfops.salesforce import Org
    from sfops.store import Store

RUN_ACTION = "release.check"
OVERRIDE_ACTION = "release.override"


class Counter:
    """Thread-safe count of HTTP responses an org session received."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def __call__(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.value += 1
        return response


@contextmanager
def counting(orgs: list[Org | None]) -> Iterator[Counter]:
    """Count every response the orgs' sessions receive while inside the block."""
    counter = Counter()
    sessions = [o.session for o in orgs if o is not None]
    for s in sessions:
        s.hooks["response"].append(counter)
    try:
        yield counter
    finally:
        for s in sessions:
            s.hooks["response"].remove(counter)


def validate_overrides(overrides: Mapping[str, str]) -> None:
    """Every override names a known check and carries a reason."""
    for name, reason in overrides.items():
        if name not in CHECKS:
            raise UsageError(f"--override {name}: not a check. Checks: {', '.join(CHECKS)}.")
        if not (reason or "").strip():
            raise UsageError("--override needs --reason (it is recorded in the audit trail).")


def run_gate(ctx: GateContext, *, overrides: Mapping[str, str] | None = None, record: bool = True) -> GateReport:
    """Run every check not turned off; returns the report (recorded in the store unless record=False)."""
    overrides = dict(overrides or {})
    validate_overrides(overrides)
    started = time.monotonic()
    release = ctx.release  # resolves both refs first: a bad ref is one clear error before any org call
    results: list[CheckResult] = []
    with counting([ctx.org, ctx.sandbox]) as counter:
        for name in CHECKS:
            level = ctx.config.levels.get(name, "fail")
            if level == "off":
                results.append(CheckResult(name, Status.OFF, "off in [release.checks]", level="off"))
                continue
            t0 = time.monotonic()
            try:
                result = CHECK_FUNCTIONS[name](ctx)
            except SfopsError as exc:
                result = CheckResult(name, Status.FAIL, f"The check could not run: {exc.message}")
            result.level = level
            result.override_reason = overrides.get(name)
            result.seconds = round(time.monotonic() - t0, 3)
            results.append(result)
    report = GateReport(
        org=ctx.alias,
        from_ref=ctx.from_ref,
        to_ref=ctx.to_ref,
        from_sha=release.from_sha,
        to_sha=release.to_sha,
        started_at=ctx.now,
        checks=results,
        api_calls=counter.value,
        seconds=round(time.monotonic() - started, 3),
    )
    if record:
        _record(ctx, report, overrides)
    return report


def _record(ctx: GateContext, report: GateReport, overrides: Mapping[str, str]) -> None:
    target = f"{report.from_ref}..{report.to_ref}"
    with ctx.store.begin() as conn:
        report.run_id = ctx.store.record_audit(
            actor=ctx.actor,
            alias=ctx.alias,
            action=RUN_ACTION,
            target=target,
            before={"sha": report.from_sha},
            after={"sha": report.to_sha},
            reason="; ".join(f"{k}: {v}" for k, v in overrides.items()) or None,
            outcome=report.status.value,
            details=report.summary(),
            conn=conn,
        )
        for result in report.checks:
            if result.name not in overrides:
                continue
            ctx.store.record_audit(
                actor=ctx.actor,
                alias=ctx.alias,
                action=OVERRIDE_ACTION,
                target=f"{target} {result.name}",
                before={"status": result.status.value},
                after={"status": result.effective.value},
                reason=overrides[result.name],
                outcome="applied" if result.status is Status.FAIL else "not needed",
                details={"run_id": report.run_id, "check": result.name, "check_reason": result.reason},
                conn=conn,
            )


def history(store: Store, org: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """Recorded gate runs, newest first, as table rows."""
    rows = []
    for rec in store.audit_history(alias=org, action_prefix=RUN_ACTION, limit=limit):
        details = rec.details or {}
        checks = details.get("checks") or {}
        rows.append(
            {
                "run": rec.id,
                "at": rec.at,
                "org": rec.alias,
                "release": rec.target,
                "to_sha": str((rec.after or {}).get("sha", ""))[:10],
                "status": rec.outcome,
                "by": rec.actor,
                "failed": ", ".join(k for k, v in checks.items() if v.get("status") == "fail"),
                "overridden": ", ".join(k for k, v in checks.items() if v.get("status") == "overridden"),
                "api_calls": details.get("api_calls"),
            }
        )
    return rows


def allowing_run(store: Store, org: str, sha: str) -> dict[str, Any] | None:
    """The latest gate run on `org` that let release `sha` through (pass or warn), if any."""
    for rec in store.audit_history(alias=org, action_prefix=RUN_ACTION, limit=200):
        if str((rec.after or {}).get("sha", "")) == sha and rec.outcome in (Status.PASS.value, Status.WARN.value):
            return {
                "run": rec.id,
                "at": rec.at,
                "status": rec.outcome,
                "by": rec.actor,
                "release": rec.target,
                "overrides": rec.reason,
            }
    return None
