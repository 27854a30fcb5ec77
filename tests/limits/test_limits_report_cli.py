"""`sfops limits report` for people: most used first, 0 % hidden unless --all, the forecast's precondition said
once, and an empty --since window named as such."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from cli_support import run_cli

from sfops.limits import take_snapshot
from sfops.salesforce import connect
from sfops.store import Store

pytestmark = pytest.mark.integration


def _rows(stdout: str) -> list[list[str]]:
    return [
        [c.strip() for c in line.strip("│").split("│")]
        for line in stdout.splitlines()
        if line.startswith("│") and re.match(r"│ \S", line)
    ]


@pytest.mark.parametrize("width", ["80", "120"])
def test_report_sorts_by_use_hides_zero_and_explains_the_forecast_once(
    emulator: Any, limits_cli_env: dict[str, str], width: str
) -> None:
    emulator.faults(api_usage={"used": 9000, "max": 15000})
    for _ in range(2):
        assert run_cli(["limits", "snapshot"], limits_cli_env).exit_code == 0
    env = {**limits_cli_env, "COLUMNS": width}
    result = run_cli(["limits", "report"], env)
    assert result.exit_code == 0, result.stderr
    assert max(map(len, result.stdout.splitlines())) <= int(width)
    rows = _rows(result.stdout)
    used = [float(r[3]) for r in rows]  # name, max, used, used %, ...
    assert rows[0][0] == "DailyApiRequests" and used == sorted(used, reverse=True)
    assert all(u > 0 for u in used)
    text = " ".join(result.stdout.split())
    assert "limit(s) at 0 % not shown (--all shows them)" in text
    assert text.count("2+ snapshots 10+ min apart") == 1 and "No forecast yet for daily limits" in text
    assert "Warning" not in text
    every = _rows(run_cli(["limits", "report", "--all"], env).stdout)
    assert len(every) > len(rows) and any(len(r) > 3 and r[3] == "0.0" for r in every)


def test_an_empty_since_window_is_not_no_snapshots_yet(
    emulator: Any, emulator_org: Any, limits_cli_env: dict[str, str]
) -> None:
    store = Store.open(limits_cli_env["SFOPS_STORE_URL"])
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    take_snapshot(connect(emulator_org, env={}), store, "emu", clock=lambda: long_ago)
    result = run_cli(["limits", "report", "--since", "1h"], limits_cli_env)
    text = " ".join(result.stdout.split())
    assert result.exit_code == 0 and "No limit snapshots for 'emu' since" in text and "older ones exist" in text
    assert "yet" not in text
    assert "DailyApiRequests" in run_cli(["limits", "report", "--since", "7d"], limits_cli_env).stdout
