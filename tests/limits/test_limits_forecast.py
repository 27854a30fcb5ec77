"""Trends and the exhaustion forecast from stored snapshots, with an injected clock and hand-computed values."""

from __future__ import annotations

import datetime as dt

import pytest

from sfops.limits import LimitRow, limits_report, load_snapshots, save_snapshot
from sfops.limits.report import EXHAUSTED, NOT_AT_THIS_RATE, NOT_ENOUGH
from sfops.store import Store

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


def at(hours_before_now: float) -> dt.datetime:
    return NOW - dt.timedelta(hours=hours_before_now)


def snap(
    store: Store,
    when: dt.datetime,
    api_remaining: int,
    *,
    hourly_remaining: int = 200,
    emails_remaining: int = 390,
    alias: str = "prod",
) -> None:
    save_snapshot(
        store,
        alias,
        [
            LimitRow("DailyApiRequests", 15000, api_remaining),
            LimitRow("DailyApiRequests", 0, 0, app="sfops"),
            LimitRow("HourlyDashboardRefreshes", 200, hourly_remaining),
            LimitRow("DailyWorkflowEmails", 390, emails_remaining),
        ],
        when,
    )


@pytest.fixture
def history(limits_store: Store) -> Store:
    # yesterday 08:00 (outside the 24 h window): used 1000; then 06:00, 09:00, 11:00 today: used 3000, 4000, 5000
    snap(limits_store, at(28), 14000)
    snap(limits_store, at(6), 12000, hourly_remaining=150)
    snap(limits_store, at(3), 11000, hourly_remaining=100)
    snap(limits_store, at(1), 10000, hourly_remaining=180)
    return limits_store


def test_daily_forecast_uses_the_rate_of_the_last_24_hours(history: Store) -> None:
    report = limits_report(history, "prod", clock=lambda: NOW)
    api = next(t for t in report.trends if t.name == "DailyApiRequests")
    # window 06:00 -> 11:00: used 3000 -> 5000 in 5 h = 400/h; 10000 remaining / 400 = 25 h after 11:00
    assert api.rate_per_hour == 400.0
    assert api.hours_left == 25.0
    assert api.runs_out_at == dt.datetime(2026, 3, 11, 12, 0, tzinfo=dt.UTC)
    assert api.forecast == "2026-03-11 12:00 UTC"
    # the trend covers every snapshot: used 1000 -> 5000, peak 5000/15000
    assert (api.snapshots, api.change, api.used, api.remaining) == (4, 4000, 5000, 10000)
    assert api.peak_used_pct == 33.33
    assert api.first_at == at(28) and api.last_at == at(1)
    assert report.snapshots == 4


def test_flat_daily_limit_does_not_run_out_and_others_get_no_forecast(history: Store) -> None:
    report = limits_report(history, "prod", clock=lambda: NOW)
    emails = next(t for t in report.trends if t.name == "DailyWorkflowEmails")
    assert emails.forecast == NOT_AT_THIS_RATE and emails.runs_out_at is None and emails.rate_per_hour == 0.0
    hourly = next(t for t in report.trends if t.name == "HourlyDashboardRefreshes")
    assert not hourly.daily and hourly.forecast == "-" and hourly.rate_per_hour is None
    # peak of used % over the snapshots: 100/200 used at 03:00
    assert hourly.peak_used_pct == 50.0 and hourly.used == 20


def test_falling_usage_is_not_at_this_rate(limits_store: Store) -> None:
    snap(limits_store, at(10), 9000)
    snap(limits_store, at(2), 12000)  # the rolling window freed calls
    api = next(t for t in limits_report(limits_store, "prod", clock=lambda: NOW).trends if t.name == "DailyApiRequests")
    assert api.rate_per_hour == -375.0
    assert api.forecast == NOT_AT_THIS_RATE


def test_exhausted_and_not_enough_snapshots(limits_store: Store) -> None:
    snap(limits_store, at(30), 5000, emails_remaining=390)
    snap(limits_store, at(2), 0, emails_remaining=300)
    trends = {t.name: t for t in limits_report(limits_store, "prod", clock=lambda: NOW).trends}
    assert trends["DailyApiRequests"].forecast == EXHAUSTED
    assert trends["DailyApiRequests"].hours_left == 0.0
    # one snapshot inside the window: no rate, whatever happened the day before
    assert trends["DailyWorkflowEmails"].forecast == NOT_ENOUGH
    assert trends["DailyWorkflowEmails"].rate_per_hour is None


def test_snapshots_minutes_apart_give_no_rate(limits_store: Store) -> None:
    snap(limits_store, NOW - dt.timedelta(minutes=5), 14000)
    snap(limits_store, NOW - dt.timedelta(minutes=1), 13000)
    api = next(t for t in limits_report(limits_store, "prod", clock=lambda: NOW).trends if t.name == "DailyApiRequests")
    assert api.forecast == NOT_ENOUGH


def test_since_limits_the_trend_but_not_the_forecast_window(history: Store) -> None:
    report = limits_report(history, "prod", since=at(2), clock=lambda: NOW)
    api = next(t for t in report.trends if t.name == "DailyApiRequests")
    assert report.snapshots == 1 and api.snapshots == 1 and api.change == 0
    assert api.rate_per_hour == 400.0  # still from the whole 24 h window


def test_apps_only_with_include_apps_and_orgs_are_separate(history: Store) -> None:
    snap(history, at(1), 1, alias="other")
    plain = limits_report(history, "prod", clock=lambda: NOW)
    assert all(t.app is None for t in plain.trends)
    assert len(plain.trends) == 3
    everything = limits_report(history, "prod", include_apps=True, clock=lambda: NOW)
    app = next(t for t in everything.trends if t.app == "sfops")
    assert app.name == "DailyApiRequests" and app.forecast == "no limit (max 0)" and app.used_pct is None
    other = limits_report(history, "other", clock=lambda: NOW)
    assert other.snapshots == 1
    assert next(t for t in other.trends if t.name == "DailyApiRequests").remaining == 1


def test_empty_store_gives_an_empty_report(limits_store: Store) -> None:
    report = limits_report(limits_store, "prod", clock=lambda: NOW)
    assert report.trends == [] and report.snapshots == 0


def test_stored_rows_round_trip_in_utc(history: Store) -> None:
    frame = load_snapshots(history, "prod")
    assert len(frame) == 16
    assert frame["taken_at"].iloc[0].to_pydatetime() == at(28)
    assert set(frame["app"]) == {"", "sfops"}
