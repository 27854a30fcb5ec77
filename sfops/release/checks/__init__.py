"""The gate's checks, one module each; `CHECKS` maps a check name to its function, in report order."""

from __future__ import annotations

from collections.abc import Callable

from sfops.release.checks import kill_switches, org_state, people, rollback, tests, timing, volumes
from sfops.release.context import GateContext
from sfops.release.model import CheckResult

CHECK_FUNCTIONS: dict[str, Callable[[GateContext], CheckResult]] = {
    rollback.NAME: rollback.check,
    timing.NAME: timing.check,
    people.NAME: people.check,
    org_state.NAME: org_state.check,
    kill_switches.NAME: kill_switches.check,
    tests.NAME: tests.check,
    volumes.NAME: volumes.check,
}
