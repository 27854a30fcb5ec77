"""Release readiness: the gate a release manager or CI runs before deploying release B over A.

`run_gate(GateContext(...))` runs the checks (rollback ready, timing, people, org state, kill
switches, tests and coverage, production data volumes) and returns a `GateReport`; see docs/release.md.
"""

from sfops.release.config import ReleaseConfig, parse_release
from sfops.release.context import GateContext
from sfops.release.gate import allowing_run, history, run_gate
from sfops.release.model import CHECKS, CheckResult, Finding, GateReport, Status

__all__ = [
    "CHECKS",
    "CheckResult",
    "Finding",
    "GateContext",
    "GateReport",
    "ReleaseConfig",
    "Status",
    "allowing_run",
    "history",
    "parse_release",
    "run_gate",
]
