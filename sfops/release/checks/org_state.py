"""Org state: no open P1/P2 incident, no open circuit breaker, no governor limit above its threshold
or forecast to run out while the release goes out."""

from __future__ import annotations

import datetime as dt

from sfops.breakers.core import State
from sfops.breakers.service import list_breakers
from sfops.errors import SalesforceError
from sfops.incidents import orgio
from sfops.incidents.model import OPEN_STATUSES
from sfops.limits.flatten import flatten_limits
from sfops.limits.report import limits_report
from sfops.release.context import GateContext
from sfops.release.model import CheckResult, Finding, Status

NAME = "org_state"


def check(ctx: GateContext) -> CheckResult:
    """Fail on an open severe incident, an open breaker, or a limit at/above its threshold or forecast out."""
    findings: list[Finding] = []
    notes: list[str] = []
    cfg = ctx.config
    try:
        records = orgio.query(
            ctx.org, statuses=sorted(s.value for s in OPEN_STATUSES), severities=list(cfg.incident_severities), limit=50
        )
        for r in records:
            incident = orgio.from_record(r, ctx.alias)
            findings.append(
                Finding(
                    f"open {incident.severity} incident {incident.ref}: {incident.summary} ({incident.status.value})",
                    data={"incident": incident.ref},
                )
            )
    except SalesforceError as exc:
        notes.append(f"incidents not checked ({exc.message})")
    try:
        for b in list_breakers(ctx.org, ctx.store):
            if b.state is State.OPEN:
                findings.append(
                    Finding(
                        f"circuit breaker {b.name} is open" + (f" (last error: {b.last_error})" if b.last_error else "")
                    )
                )
    except SalesforceError as exc:
        notes.append(f"breakers not checked ({exc.message})")
    rows, _ = flatten_limits(ctx.org.limits())
    for row in rows:
        if row.app is None and row.used_pct is not None and row.used_pct >= cfg.limit_pct:
            findings.append(
                Finding(f"limit {row.name} at {row.used_pct:g} % ({row.used}/{row.max}), threshold {cfg.limit_pct:g} %")
            )
    horizon = ctx.now + dt.timedelta(hours=max(cfg.oncall_hours, 1))
    report = limits_report(ctx.store, ctx.alias, clock=lambda: ctx.now)
    for trend in report.trends:
        if trend.app is None and trend.runs_out_at is not None and trend.runs_out_at <= horizon:
            findings.append(
                Finding(
                    f"limit {trend.name} is forecast to run out at {trend.runs_out_at:%Y-%m-%d %H:%M} "
                    f"UTC (within the next {max(cfg.oncall_hours, 1):g} h)"
                )
            )
    if not report.trends:
        notes.append("no limit snapshots stored: no forecast (sfops limits snapshot, or the agent, takes them)")
    facts = {"notes": notes}
    if findings:
        return CheckResult(
            NAME, Status.FAIL, f"{ctx.alias} is not in a state to take a release.", findings, facts=facts
        )
    reason = "No open P1/P2 incident, no open breaker, limits below their thresholds."
    if notes:
        text = "; ".join(notes)
        return CheckResult(NAME, Status.WARN, f"{reason} {text[:1].upper()}{text[1:]}.", facts=facts)
    return CheckResult(NAME, Status.PASS, reason, facts=facts)
