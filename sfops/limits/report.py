"""`sfops limits report`: trends of every limit from stored snapshots, and when each daily limit runs out.

Forecast: the rate is the change in `used` (max - remaining) between the first and the last snapshot of
the current 24 h window (now - 24 h .. now), per hour; the two must be at least MIN_SPAN apart.
At that rate the remaining quota lasts remaining / rate hours after the last snapshot; a rate of
zero or less does "not run out at this rate".
Salesforce's daily limits are rolling 24 h windows: calls older than 24 h free capacity again, which
this straight-line forecast ignores, so it errs on the early (safe) side.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sfops.clock import Clock, utcnow
from sfops.limits.model import LimitsReport, LimitTrend
from sfops.limits.snapshots import load_snapshots
from sfops.store import Store

if TYPE_CHECKING:  # pandas is imported where a report is built: `limits show/snapshot` do not need it
    import pandas as pd

WINDOW = dt.timedelta(hours=24)
# Two snapshots seconds apart say nothing about a daily rate; below this span there is no forecast.
MIN_SPAN = dt.timedelta(minutes=10)
NOT_AT_THIS_RATE = "not at this rate"
NOT_ENOUGH = "need 2+ snapshots 10+ min apart in the last 24 h"
EXHAUSTED = "exhausted"
NO_LIMIT = "no limit (max 0)"


def is_daily(name: str) -> bool:
    """Daily limits are the ones Salesforce names Daily* (rolling 24 h windows)."""
    return name.startswith("Daily")


def forecast(window: pd.DataFrame) -> tuple[float | None, dt.datetime | None, float | None, str]:
    """(rate per hour, runs-out time, hours left, text) from one limit's snapshots inside the 24 h window.

    `window` has columns taken_at (UTC), max, remaining and is sorted by taken_at.
    """
    if window.empty:
        return None, None, None, NOT_ENOUGH
    last = window.iloc[-1]
    if int(last["max"]) <= 0:
        return None, None, None, NO_LIMIT
    if int(last["remaining"]) <= 0:
        return None, last["taken_at"].to_pydatetime(), 0.0, EXHAUSTED
    first = window.iloc[0]
    span = (last["taken_at"] - first["taken_at"]).to_pytimedelta()
    if len(window) < 2 or span < MIN_SPAN:
        return None, None, None, NOT_ENOUGH
    used_first = int(first["max"]) - int(first["remaining"])
    used_last = int(last["max"]) - int(last["remaining"])
    rate = (used_last - used_first) / (span.total_seconds() / 3600.0)
    if rate <= 0:
        return rate, None, None, NOT_AT_THIS_RATE
    hours_left = int(last["remaining"]) / rate
    runs_out = last["taken_at"].to_pydatetime() + dt.timedelta(hours=hours_left)
    return rate, runs_out, hours_left, runs_out.strftime("%Y-%m-%d %H:%M UTC")


def limits_report(
    store: Store, alias: str, *, since: dt.datetime | None = None, include_apps: bool = False, clock: Clock = utcnow
) -> LimitsReport:
    """Per limit over the snapshots since `since` (default: all): latest use, peak use %, change;
    for daily limits the rate over the current 24 h window and the forecast of exhaustion."""
    import pandas as pd

    now = clock()
    window_start = now - WINDOW
    load_from = None if since is None else min(since, window_start)
    frame = load_snapshots(store, alias, load_from, include_apps=include_apps)
    shown = frame if since is None else frame[frame["taken_at"] >= pd.Timestamp(since)]
    recent = frame[(frame["taken_at"] >= pd.Timestamp(window_start)) & (frame["taken_at"] <= pd.Timestamp(now))]
    windows = {key: group for key, group in recent.groupby(["name", "app"], sort=False)}
    trends: list[LimitTrend] = []
    for (name, app), group in shown.groupby(["name", "app"], sort=True):
        used = group["max"] - group["remaining"]
        pct = (100.0 * used / group["max"].where(group["max"] > 0)).round(2)
        first, last = group.iloc[0], group.iloc[-1]
        daily = is_daily(str(name))
        rate = runs_out = hours_left = None
        text = "-"
        if daily:
            rate, runs_out, hours_left, text = forecast(windows.get((name, app), recent.iloc[0:0]))
        last_pct = pct.iloc[-1]
        peak = pct.max()
        trends.append(
            LimitTrend(
                name=str(name),
                app=str(app) or None,
                max=int(last["max"]),
                remaining=int(last["remaining"]),
                used=int(used.iloc[-1]),
                used_pct=None if pd.isna(last_pct) else float(last_pct),
                peak_used_pct=None if pd.isna(peak) else float(peak),
                change=int(used.iloc[-1] - used.iloc[0]),
                snapshots=len(group),
                first_at=first["taken_at"].to_pydatetime(),
                last_at=last["taken_at"].to_pydatetime(),
                daily=daily,
                rate_per_hour=None if rate is None else round(rate, 3),
                runs_out_at=runs_out,
                hours_left=None if hours_left is None else round(hours_left, 2),
                forecast=text,
            )
        )
    return LimitsReport(
        org=alias, generated_at=now, since=since, snapshots=int(shown["taken_at"].nunique()), trends=trends
    )


def report_frame(report: LimitsReport) -> pd.DataFrame:
    """The report as a DataFrame (for CSV/Parquet)."""
    import pandas as pd

    return pd.DataFrame([t.__dict__ for t in report.trends])
