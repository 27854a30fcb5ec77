"""Plain data of governor limits: one row per limit (or per connected app), snapshots, forecasts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class LimitRow:
    """One entry of /limits. `app` is None for the org-wide (top-level) entry, else the connected app name."""

    name: str
    max: int
    remaining: int
    app: str | None = None

    @property
    def used(self) -> int:
        return max(0, self.max - self.remaining)

    @property
    def used_pct(self) -> float | None:
        """Used share in percent (None when the limit is 0: nothing to use)."""
        return round(100.0 * self.used / self.max, 2) if self.max > 0 else None


@dataclass(frozen=True)
class SnapshotResult:
    """What `take_snapshot` stored."""

    org: str
    taken_at: dt.datetime
    limits: int
    app_entries: int
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LimitTrend:
    """One limit over the report window, with the exhaustion forecast for daily limits."""

    name: str
    app: str | None
    max: int
    remaining: int
    used: int
    used_pct: float | None
    peak_used_pct: float | None
    change: int
    snapshots: int
    first_at: dt.datetime
    last_at: dt.datetime
    daily: bool
    rate_per_hour: float | None
    runs_out_at: dt.datetime | None
    hours_left: float | None
    forecast: str


@dataclass(frozen=True)
class LimitsReport:
    """Trends and forecasts of one org's limits from its stored snapshots."""

    org: str
    generated_at: dt.datetime
    since: dt.datetime | None
    snapshots: int
    trends: list[LimitTrend]
