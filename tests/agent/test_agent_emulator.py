"""The agent against the emulator over real HTTPS: `agent run --once` runs the real domain jobs."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from cli_support import run_cli
from emulator_cli_support import emulator_cli_env
from paths import REPO
from sqlalchemy import func, select

from sfops.agent import Agent, LeaderLease, lease_name, load_agent_config
from sfops.config import load_settings
from sfops.salesforce import connect
from sfops.store import Store, schema
from sfops.switches import flip, pending_restores

pytestmark = pytest.mark.integration


def cli_env(emulator: Any, tmp_path: Path, agent_toml: str = "") -> dict[str, str]:
    return emulator_cli_env(emulator, tmp_path, actor="agent-test", max_retries=1, extra_toml=agent_toml)


def count(store_url: str, table: Any) -> int:
    with Store.open(store_url).engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_agent_run_once_runs_every_job_against_the_org(emulator: Any, tmp_path: Path) -> None:
    env = cli_env(emulator, tmp_path)
    result = run_cli(["agent", "run", "--once", "--json"], env)
    assert result.exit_code == 0, result.stderr
    attempts = {a["job"]: a for a in result.json["result"]}
    assert set(attempts) == {
        "logs-pull",
        "limits-snapshot",
        "switch-restore",
        "breaker-sync",
        "incident-escalate",
        "notify-retry",
        "errors-pull",
        "changes-pull",
        "detect",
    }
    assert {a["outcome"] for a in attempts.values()} == {"ok"}, attempts
    stored_logs = count(env["SFOPS_STORE_URL"], schema.apex_log)
    assert stored_logs >= 1
    assert attempts["logs-pull"]["summary"].startswith(f"{stored_logs} new log(s) stored")
    snapshot_rows = count(env["SFOPS_STORE_URL"], schema.limit_snapshot)
    assert snapshot_rows >= 40
    # everything ran this period: a second run (cron a minute later, or another agent) does nothing
    result = run_cli(["agent", "run", "--once", "--json"], env)
    assert result.exit_code == 0 and {a["outcome"] for a in result.json["result"]} == {"not-due"}
    assert count(env["SFOPS_STORE_URL"], schema.limit_snapshot) == snapshot_rows
    result = run_cli(["agent", "jobs", "--json"], env)
    planned = result.json["result"]
    now = dt.datetime.now(dt.UTC)
    assert all(
        not p["due"] and dt.datetime.fromisoformat(p["next_run"]) > now - dt.timedelta(seconds=1) for p in planned
    )
    assert {p["last_run"]["outcome"] for p in planned} == {"ok"}
    result = run_cli(["agent", "history"], env)
    assert result.exit_code == 0 and "limits-snapshot" in result.stdout and "stored" in result.stdout


def test_job_failures_are_recorded_and_the_exit_code_says_so(emulator: Any, tmp_path: Path) -> None:
    env = cli_env(
        emulator,
        tmp_path,
        '[agent.jobs]\nswitch-restore = "off"\nbreaker-sync = "off"\nincident-escalate = "off"\nnotify-retry = "off"\n',
    )
    emulator.faults(api_usage={"used": 15000, "max": 15000})  # the org's daily API quota is used up
    result = run_cli(["agent", "run", "--once", "--json"], env)
    attempts = {a["job"]: a for a in result.json["result"]}
    assert attempts["limits-snapshot"]["outcome"] == "failed"
    assert "TotalRequests Limit exceeded" in attempts["limits-snapshot"]["error"]
    # the pull stops cleanly on REQUEST_LIMIT_EXCEEDED (keeps what it stored): partial, not a crash
    assert attempts["logs-pull"]["outcome"] == "partial"
    assert "stopped: REQUEST_LIMIT_EXCEEDED" in attempts["logs-pull"]["summary"]
    assert result.exit_code == 68  # some work failed
    result = run_cli(["agent", "history", "--json", "--job", "limits-snapshot"], env)
    (run,) = result.json["result"]
    assert run["outcome"] == "failed" and "TotalRequests Limit exceeded" in run["error"]


def test_switch_restore_job_applies_a_due_restore(emulator: Any, emulator_org: Any, tmp_path: Path) -> None:
    env = cli_env(emulator, tmp_path)
    settings = load_settings(env)
    store = Store.open(env["SFOPS_STORE_URL"])
    org = connect(settings.org("emu"), env=env)
    t0 = dt.datetime.now(dt.UTC)
    flip(
        org,
        store,
        {"New_Pricing__c": False},
        actor="alice",
        reason="P1",
        restore_after=dt.timedelta(minutes=30),
        now=t0,
    )
    assert len(pending_restores(store, "emu")) == 1
    clock = {"now": t0 + dt.timedelta(minutes=10)}
    agent = Agent(
        load_agent_config(settings),
        store,
        settings,
        get_org=lambda alias: org,
        actor="agent",
        clock=lambda: clock["now"],
    )
    (early,) = agent.run_once(["switch-restore"])
    assert early.outcome == "ok" and early.summary == "1 not-due"
    clock["now"] = t0 + dt.timedelta(minutes=31)
    (due,) = agent.run_once(["switch-restore"])
    assert due.outcome == "ok" and due.summary == "1 restored"
    assert pending_restores(store, "emu") == []
    org_id = org.query("SELECT Id FROM Organization")[0]["Id"]
    rows = org.query(f"SELECT New_Pricing__c FROM Kill_Switch__c WHERE SetupOwnerId = '{org_id}'")  # noqa: S608
    assert rows == [] or rows[0]["New_Pricing__c"] is True
    restores = store.audit_history(alias="emu", action_prefix="switch.restore")
    assert restores and restores[0].actor == "agent"


def test_sigterm_stops_the_agent_cleanly(emulator: Any, tmp_path: Path) -> None:
    env = cli_env(
        emulator,
        tmp_path,
        '[agent]\nlease_seconds = 3\n[agent.jobs]\nlimits-snapshot = "1h"\n'
        'logs-pull = "off"\nswitch-restore = "off"\nbreaker-sync = "off"\n'
        'incident-escalate = "off"\nnotify-retry = "off"\n',
    )
    probe = LeaderLease(Store.open(env["SFOPS_STORE_URL"]), "probe", dt.timedelta(seconds=3))
    proc = subprocess.Popen(
        [sys.executable, "-m", "sfops", "agent", "run"],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        leader = None
        for _ in range(300):  # bounded wait until the agent holds the lease
            info = probe.info(lease_name("emu"))
            if info is not None and probe.is_live(info):
                leader = info.holder
                break
            if proc.poll() is not None:
                break
            threading.Event().wait(0.1)
        assert leader is not None, proc.stderr.read() if proc.poll() is not None else "no lease"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "stopped; leases released" in out
    assert "became leader for emu" in err
    assert not probe.is_live(probe.info(lease_name("emu")))


def test_cli_usage_errors(emulator: Any, tmp_path: Path) -> None:
    env = cli_env(emulator, tmp_path)
    result = run_cli(["agent", "run", "--force"], env)
    assert result.exit_code == 2 and "--force only applies with --once" in result.stderr
    result = run_cli(["agent", "run", "--once", "--jobs", "logs-pul"], env)
    assert result.exit_code == 2 and "Unknown job(s) logs-pul" in result.stderr
    result = run_cli(["agent", "jobs", "-o", "nope"], env)
    assert result.exit_code == 2 and "Unknown org alias 'nope'" in result.stderr
