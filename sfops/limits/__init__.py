"""Governor limits: snapshots of the org's /limits in the local store, trends and exhaustion forecasts.

Public API: `current_limits(org)`, `take_snapshot(org, store, alias)`, `load_snapshots(store, alias)`,
`limits_report(store, alias)`, `flatten_limits(body)`, `sf_cli_rows(rows)`.
"""

from sfops.limits.flatten import flatten_limits, sf_cli_rows
from sfops.limits.model import LimitRow, LimitsReport, LimitTrend, SnapshotResult
from sfops.limits.report import NOT_AT_THIS_RATE, forecast, is_daily, limits_report, report_frame
from sfops.limits.snapshots import current_limits, load_snapshots, save_snapshot, take_snapshot

__all__ = [
    "NOT_AT_THIS_RATE",
    "LimitRow",
    "LimitTrend",
    "LimitsReport",
    "SnapshotResult",
    "current_limits",
    "flatten_limits",
    "forecast",
    "is_daily",
    "limits_report",
    "load_snapshots",
    "report_frame",
    "save_snapshot",
    "sf_cli_rows",
    "take_snapshot",
]
