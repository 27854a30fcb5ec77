"""Timing: not inside a change freeze or a risky time (the `[rollback]` freeze/risky windows)."""

from __future__ import annotations

from sfops.release.context import GateContext
from sfops.release.model import CheckResult, Finding, Status
from sfops.rollback.guard import active_blocks

NAME = "timing"


def check(ctx: GateContext) -> CheckResult:
    """Fail inside a freeze window or a risky time; `--override timing --reason` lets a hot-fix through."""
    blocks = active_blocks(ctx.section("rollback"), ctx.now)
    if not blocks:
        return CheckResult(NAME, Status.PASS, f"No change freeze or risky time at {ctx.now:%a %Y-%m-%d %H:%M} UTC.")
    findings = [Finding(f"{b.kind}: {b.reason}" + (f" (until {b.until})" if b.until else "")) for b in blocks]
    return CheckResult(
        NAME,
        Status.FAIL,
        "Deploys are blocked now: "
        + "; ".join(f.message for f in findings)
        + ". Deploy later, or `--override timing --reason '...'` for an urgent fix.",
        findings,
    )
