"""The commands that write the local store, run with a PostgreSQL store (what a team shares):
every table module's SQL meets a real PostgreSQL server, not only SQLite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_support import run_cli
from emulator_cli_support import emulator_cli_env

from sfops.store import Store

pytestmark = pytest.mark.integration


def run(env: dict[str, str], *args: str) -> dict[str, Any]:
    result = run_cli([*args, "--json"], env)
    assert result.exit_code in (0, 68), f"sfops {' '.join(args)} -> {result.exit_code}: {result.stdout}{result.stderr}"
    return result.json["result"]


def test_commands_on_a_postgresql_store(emu: Any, postgres: Any, tmp_path: Path) -> None:
    url = postgres.new_database()
    env = {**emulator_cli_env(emu, tmp_path), "SFOPS_STORE_URL": url}
    pulled = run(env, "logs", "pull")
    assert pulled["pulled"] >= 4
    assert run(env, "logs", "pull")["pulled"] == 0  # the watermark and stored ids came back from PostgreSQL
    report = run(env, "logs", "report", "--failures")
    assert any(f["category"] == "governor_limit" for f in report["failures"])
    run(env, "limits", "snapshot")
    assert any(t["name"] == "DailyApiRequests" for t in run(env, "limits", "report")["trends"])
    raised = run(env, "incident", "raise", "-s", "P3", "-m", "pg check", "--dedup-key", "pg-check")
    again = run(env, "incident", "raise", "-s", "P3", "-m", "pg check", "--dedup-key", "pg-check")
    assert raised["created"] and not again["created"]
    assert again["incident"]["occurrence_count"] == 2
    run(env, "switch", "off", "External_Sync__c", "--reason", "pg", "--incident", raised["incident"]["name"])
    history = run(env, "switch", "history")
    assert history[0]["switch"] == "External_Sync__c" and history[0]["incident_id"] == raised["incident"]["name"]
    run(env, "agent", "run", "--once")
    shown = run(env, "incident", "show", raised["incident"]["name"])
    assert any(e["kind"] == "switch.off" for e in shown["timeline"])
    assert Store.open(url).engine.dialect.name == "postgresql"
