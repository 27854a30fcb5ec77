"""`sfops agent run --listen` as a process against the emulator: probes, a scrape, and SIGTERM while a job
runs (the job finishes within the grace, the agent exits 0 and gives its lease up)."""

from __future__ import annotations

import datetime as dt
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from emulator_cli_support import emulator_cli_env
from paths import REPO

from sfops.agent import LeaderLease, lease_name, run_history
from sfops.store import Store

pytestmark = pytest.mark.integration

ONLY_LIMITS = (
    '[agent]\nlease_seconds = 4\n[agent.jobs]\nlimits-snapshot = "1h"\nlogs-pull = "off"\n'
    'switch-restore = "off"\nbreaker-sync = "off"\nincident-escalate = "off"\nnotify-retry = "off"\n'
)


def _lines(stream: Any) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
    return lines


def _port(lines: queue.Queue[str], seen: list[str]) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        seen.append(line)
        found = re.search(r"console on http://127\.0\.0\.1:(\d+)/", line)
        if found:
            return int(found.group(1))
    raise AssertionError("the agent did not say where it listens:\n" + "".join(seen))


def test_listen_probes_scrape_and_sigterm_under_a_running_job(emulator: Any, tmp_path: Path) -> None:
    env = emulator_cli_env(emulator, tmp_path, actor="agent-test", max_retries=1, extra_toml=ONLY_LIMITS)
    store = Store.open(env["SFOPS_STORE_URL"])
    emulator.faults(latency={"fixed_ms": 1500, "jitter_ms": 0})  # the limits snapshot takes a while
    proc = subprocess.Popen(
        [sys.executable, "-m", "sfops", "agent", "run", "--listen", "127.0.0.1:0", "--grace", "30"],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[str] = []
    try:
        lines = _lines(proc.stderr)
        base = f"http://127.0.0.1:{_port(lines, seen)}"
        assert requests.get(f"{base}/livez", timeout=10).status_code == 200
        for _ in range(200):  # ready once the first lease round ran
            if requests.get(f"{base}/readyz", timeout=10).status_code == 200:
                break
            time.sleep(0.05)
        assert requests.get(f"{base}/readyz", timeout=10).status_code == 200
        for _ in range(300):  # the due snapshot is running (slowed down by the emulator's latency)
            runs = run_history(store, job="limits-snapshot")
            if runs and runs[0].outcome == "running":
                break
            time.sleep(0.05)
        assert runs and runs[0].outcome == "running"
        scrape = requests.get(f"{base}/metrics", timeout=10).text
        assert 'sfops_agent_leader{org="emu"} 1.0' in scrape
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        stopping = requests.get(f"{base}/readyz", timeout=10)  # still serving while the job finishes
        assert stopping.status_code == 503 and "running: stopping" in stopping.text
        out, _ = proc.communicate(timeout=60)
    finally:
        emulator.control("DELETE", "faults")
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, "".join(seen)
    assert "stopped; leases released" in out
    [run] = run_history(store, job="limits-snapshot")
    assert run.outcome == "ok" and run.finished_at is not None
    probe = LeaderLease(store, "probe", dt.timedelta(seconds=3))
    assert not probe.is_live(probe.info(lease_name("emu")))
