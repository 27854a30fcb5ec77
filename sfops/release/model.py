"""Plain data of a release gate run: one CheckResult per check, each with findings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """Outcome of one check (or of the whole gate)."""

    PASS = "pass"  # noqa: S105 (a status, not a password)
    WARN = "warn"
    FAIL = "fail"
    OFF = "off"
    OVERRIDDEN = "overridden"


CHECKS = ("rollback", "timing", "people", "org_state", "kill_switches", "tests", "data_volumes")


@dataclass(frozen=True)
class Finding:
    """One problem (or fact) a check reports: what, and where (file and line for code)."""

    message: str
    status: Status = Status.FAIL
    file: str | None = None
    line: int | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        if not self.file:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass
class CheckResult:
    """The outcome of one check: the status it found, then the level config/overrides applied."""

    name: str
    status: Status
    reason: str
    findings: list[Finding] = field(default_factory=list)
    level: str = "fail"  # off | warn | fail (from [release.checks])
    override_reason: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def effective(self) -> Status:
        """The status after the configured level and any override."""
        if self.level == "off":
            return Status.OFF
        if self.status is Status.FAIL and self.override_reason:
            return Status.OVERRIDDEN
        if self.status is Status.FAIL and self.level == "warn":
            return Status.WARN
        return self.status


@dataclass
class GateReport:
    """A whole gate run."""

    org: str
    from_ref: str
    to_ref: str
    from_sha: str
    to_sha: str
    started_at: dt.datetime
    checks: list[CheckResult]
    api_calls: int = 0
    run_id: int | None = None
    seconds: float = 0.0

    @property
    def status(self) -> Status:
        """fail if any check fails after levels and overrides, else warn if any warns, else pass."""
        statuses = {c.effective for c in self.checks}
        if Status.FAIL in statuses:
            return Status.FAIL
        if Status.WARN in statuses or Status.OVERRIDDEN in statuses:
            return Status.WARN
        return Status.PASS

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if c.effective is Status.FAIL]

    def rows(self) -> list[dict[str, Any]]:
        """One row per check, then one per finding of a check that did not pass (for the table)."""
        rows: list[dict[str, Any]] = []
        for c in self.checks:
            rows.append({"check": c.name, "status": c.effective.value, "reason": c.reason, "where": ""})
            if c.effective in (Status.PASS, Status.OFF):
                continue
            for f in c.findings[:50]:
                rows.append({"check": "", "status": f.status.value, "reason": f.message, "where": f.where})
            if len(c.findings) > 50:
                rows.append(
                    {"check": "", "status": "", "reason": f"... {len(c.findings) - 50} more (see --json)", "where": ""}
                )
        return rows

    def summary(self) -> dict[str, Any]:
        """What the store keeps of a run (the audit record's details)."""
        return {
            "from_ref": self.from_ref,
            "to_ref": self.to_ref,
            "from_sha": self.from_sha,
            "to_sha": self.to_sha,
            "status": self.status.value,
            "api_calls": self.api_calls,
            "checks": {
                c.name: {
                    "status": c.effective.value,
                    "reason": c.reason,
                    **({"override": c.override_reason} if c.override_reason else {}),
                }
                for c in self.checks
            },
        }
