"""Limits against the emulator over real HTTPS: snapshot, show (sf CLI shape), report, and the CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from cli_support import run_cli

from sfops.limits import limits_report, load_snapshots, take_snapshot
from sfops.salesforce import connect
from sfops.store import Store

pytestmark = pytest.mark.integration
T0 = dt.datetime(2026, 3, 10, 6, 0, tzinfo=dt.UTC)


def test_snapshot_stores_the_org_usage_and_per_app_rows(emulator: Any, emulator_org: Any, limits_store: Store) -> None:
    emulator.faults(api_usage={"used": 14000, "max": 15000})
    org = connect(emulator_org, env={})
    result = take_snapshot(org, limits_store, "emu", clock=lambda: T0)
    assert result.taken_at == T0 and result.skipped == []
    frame = load_snapshots(limits_store, "emu")
    api = frame[(frame["name"] == "DailyApiRequests") & (frame["app"] == "")].iloc[0]
    assert api["max"] == 15000
    # 14000 set by the knob, plus the counted calls of this test (the /limits GET itself at least)
    assert 990 <= api["remaining"] <= 999
    assert result.app_entries == len(frame[frame["app"] != ""]) >= 1
    assert result.limits == len(frame[frame["app"] == ""])


def test_forecast_from_two_emulator_snapshots(emulator: Any, emulator_org: Any, limits_store: Store) -> None:
    org = connect(emulator_org, env={})
    emulator.faults(api_usage={"used": 3000, "max": 15000})
    take_snapshot(org, limits_store, "emu", clock=lambda: T0)
    emulator.faults(api_usage={"used": 5000, "max": 15000})
    take_snapshot(org, limits_store, "emu", clock=lambda: T0 + dt.timedelta(hours=5))
    frame = load_snapshots(limits_store, "emu")
    api = frame[(frame["name"] == "DailyApiRequests") & (frame["app"] == "")]
    used = (api["max"] - api["remaining"]).tolist()
    report = limits_report(limits_store, "emu", clock=lambda: T0 + dt.timedelta(hours=6))
    trend = next(t for t in report.trends if t.name == "DailyApiRequests")
    rate = (used[1] - used[0]) / 5
    assert 400 <= rate < 401
    assert trend.rate_per_hour == pytest.approx(rate, abs=1e-3)
    expected = T0 + dt.timedelta(hours=5) + dt.timedelta(hours=(15000 - used[1]) / rate)
    assert trend.runs_out_at is not None
    assert abs((trend.runs_out_at - expected).total_seconds()) < 1


def test_cli_show_matches_sf_org_list_limits(emulator: Any, limits_cli_env: dict[str, str]) -> None:
    emulator.faults(api_usage={"used": 7500, "max": 15000})
    result = run_cli(["limits", "show", "--json"], limits_cli_env)
    assert result.exit_code == 0, result.stderr
    envelope = result.json
    assert envelope["status"] == 0
    data = envelope["result"]
    assert all(set(r) == {"name", "max", "remaining"} for r in data)
    names = [r["name"] for r in data]
    assert len(names) == len(set(names))  # per-app entries are not in the sf-shaped result
    api = next(r for r in data if r["name"] == "DailyApiRequests")
    assert api["max"] == 15000 and 7490 <= api["remaining"] <= 7499

    result = run_cli(["limits", "show", "--all", "--json"], limits_cli_env)
    rows = result.json["result"]
    assert {"name": "DailyApiRequests", "app": "sfops", "max": 0, "remaining": 0} in rows

    result = run_cli(["limits", "show"], limits_cli_env)
    assert result.exit_code == 0
    line = next(x for x in result.stdout.splitlines() if "DailyApiRequests" in x)
    assert "15000" in line and "50.0" in line  # used % in the human table


def test_cli_snapshot_then_report(emulator: Any, limits_cli_env: dict[str, str], tmp_path: Path) -> None:
    result = run_cli(["limits", "report"], limits_cli_env)
    assert result.exit_code == 0 and "No limit snapshots for 'emu'" in result.stdout
    for _ in range(2):
        result = run_cli(["limits", "snapshot"], limits_cli_env)
        assert result.exit_code == 0, result.stderr
        assert "Stored" in result.stdout and "per-app entries for 'emu'" in result.stdout
    result = run_cli(["limits", "report", "--json", "--since", "1h"], limits_cli_env)
    report = result.json["result"]
    assert report["org"] == "emu" and report["snapshots"] == 2
    api = next(t for t in report["trends"] if t["name"] == "DailyApiRequests")
    assert api["snapshots"] == 2 and api["change"] >= 1
    # two snapshots seconds apart: no rate yet
    assert api["forecast"].startswith("need 2+ snapshots")
    result = run_cli(["limits", "report", "--csv"], limits_cli_env)
    assert result.stdout.splitlines()[0] == "name,max,used,used %,peak %,change,snapshots,rate/h,runs out"
    assert any(x.startswith("DailyApiRequests,15000,") for x in result.stdout.splitlines())


def test_cli_report_errors_are_clear(limits_cli_env: dict[str, str], tmp_path: Path) -> None:
    result = run_cli(["limits", "report", "--since", "yesterday"], limits_cli_env)
    assert result.exit_code == 2 and "Bad --since 'yesterday'" in result.stderr
    target = tmp_path / "limits.parquet"
    result = run_cli(["limits", "report", "--parquet", str(target)], limits_cli_env)
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        assert result.exit_code == 2 and "--parquet needs pyarrow" in result.stderr and not target.exists()
    else:  # pragma: no cover - pyarrow is not a dependency
        assert result.exit_code == 0 and target.exists()
