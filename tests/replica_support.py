"""N `sfops agent run` processes sharing M emulated orgs on one store: balance, takeover after kill -9,
duplicate runs. Used by tests/agent/test_agent_replicas.py and benchmarks/agent_replicas_bench.py.

All orgs are aliases of one emulator (each alias is its own org for sfops: its own lease, runs and
snapshots in the store). Every agent runs only `limits-snapshot`, on a short interval, so runs are
frequent enough for duplicates to show if the claims let any through.
"""

from __future__ import annotations

import math
import os
import queue
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from emulator_cli_support import emulator_cli_env
from sqlalchemy import func, select

from sfops.agent import lease_name
from sfops.store import Store, agent_status, schema

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Replica:
    proc: subprocess.Popen[str]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    log: list[str] = field(default_factory=list)
    port: int | None = None

    def drain(self) -> None:
        while True:
            try:
                self.log.append(self.lines.get_nowait())
            except queue.Empty:
                return

    @property
    def pid(self) -> int:
        return self.proc.pid


@dataclass
class ReplicaReport:
    agents: int
    orgs: int
    lease_seconds: int
    converge_seconds: float
    healthy_max_led: int
    healthy_min_led: int
    healthy_unled_samples: int
    healthy_samples: int
    scrape_ms_median: float
    killed_led: int
    takeover_seconds: float
    after_max_led: int
    runs: int
    duplicate_ticks: int
    snapshots: int
    snapshot_ticks_duplicated: int
    exit_codes: list[int]
    logs: dict[int, str] = field(default_factory=dict, repr=False)

    @property
    def bound_healthy(self) -> int:
        return math.ceil(self.orgs / self.agents) + 1

    @property
    def bound_after(self) -> int:
        return math.ceil(self.orgs / (self.agents - 1)) + 1


def _start(env: dict[str, str]) -> Replica:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sfops", "agent", "run", "--listen", "127.0.0.1:0", "--grace", "20"],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    replica = Replica(proc)
    threading.Thread(target=lambda: [replica.lines.put(line) for line in proc.stderr or ()], daemon=True).start()
    return replica


def _wait_port(replica: Replica, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and replica.port is None:
        try:
            line = replica.lines.get(timeout=0.5)
        except queue.Empty:
            if replica.proc.poll() is not None:
                break
            continue
        replica.log.append(line)
        found = re.search(r"console on http://127\.0\.0\.1:(\d+)/", line)
        if found:
            replica.port = int(found.group(1))
    if replica.port is None:
        raise AssertionError("agent did not start:\n" + "".join(replica.log))


def _leaders(store: Store, names: list[str]) -> dict[str, str | None]:
    """lease name -> live holder (None when free or lapsed)."""
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    rows = {r["name"]: r for r in agent_status.lease_rows(store, names)}
    return {n: (rows[n]["holder"] if n in rows and rows[n]["expires_at"] > now else None) for n in names}


def _pid(holder: str) -> int:
    return int(holder.split(":")[1])


def _counts(leaders: dict[str, str | None], pids: list[int]) -> dict[int, int]:
    counts = dict.fromkeys(pids, 0)
    for holder in leaders.values():
        if holder is not None:
            counts[_pid(holder)] = counts.get(_pid(holder), 0) + 1
    return counts


def run_replicas(
    emulator: Any,
    base: Path,
    store_url: str,
    *,
    agents: int = 3,
    orgs: int = 30,
    lease_seconds: int = 6,
    every: str = "4s",
    healthy_seconds: float = 8.0,
    after_seconds: float = 8.0,
    scrapes: int = 10,
) -> ReplicaReport:
    """Run the scenario; raises AssertionError only when the agents do not start or never converge."""
    aliases = [f"org{i:02d}" for i in range(orgs)]
    toml = (
        f"[agent]\norgs = {aliases!r}\nlease_seconds = {lease_seconds}\nworkers = 4\n"
        f'[agent.jobs]\nlimits-snapshot = "{every}"\nlogs-pull = "off"\nswitch-restore = "off"\n'
        'breaker-sync = "off"\nincident-escalate = "off"\nnotify-retry = "off"\n'
    ).replace("'", '"')
    env = emulator_cli_env(emulator, base, aliases=aliases, actor="replica", max_retries=1, extra_toml=toml)
    env["SFOPS_STORE_URL"] = store_url
    store = Store.open(store_url)
    names = [lease_name(a) for a in aliases]
    replicas = [_start(env) for _ in range(agents)]
    try:
        for r in replicas:
            _wait_port(r)
        pids = [r.pid for r in replicas]
        bound = math.ceil(orgs / agents) + 1
        started = time.monotonic()
        while True:  # converge: every org led, nobody over the bound
            counts = _counts(leaders := _leaders(store, names), pids)
            if all(leaders.values()) and max(counts.values()) <= bound:
                break
            if time.monotonic() - started > 30 * lease_seconds:
                raise AssertionError(f"no convergence: {counts}, unled {sum(1 for h in leaders.values() if not h)}")
            time.sleep(0.1)
        converge = time.monotonic() - started
        samples, max_led, min_led, unled = 0, 0, orgs, 0
        until = time.monotonic() + healthy_seconds
        while time.monotonic() < until:
            leaders = _leaders(store, names)
            counts = _counts(leaders, pids)
            samples += 1
            max_led, min_led = max(max_led, max(counts.values())), min(min_led, min(counts.values()))
            unled += 0 if all(leaders.values()) else 1
            time.sleep(0.1)
        scrape_times = []
        for _ in range(scrapes):
            for r in replicas:
                t0 = time.perf_counter()
                resp = requests.get(f"http://127.0.0.1:{r.port}/metrics", timeout=30)
                scrape_times.append(time.perf_counter() - t0)
                assert resp.status_code == 200 and "sfops_agent_leader" in resp.text
        counts = _counts(leaders := _leaders(store, names), pids)
        victim = max(replicas, key=lambda r: counts[r.pid])
        orphaned = [n for n, h in leaders.items() if h is not None and _pid(h) == victim.pid]
        victim.proc.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        victim.proc.wait(30)
        while True:
            leaders = _leaders(store, names)
            if all(leaders[n] is not None and _pid(leaders[n]) != victim.pid for n in orphaned):
                break
            if time.monotonic() - killed_at > 10 * lease_seconds:
                raise AssertionError("no takeover after kill -9")
            time.sleep(0.05)
        takeover = time.monotonic() - killed_at
        survivors = [r for r in replicas if r is not victim]
        after_max = 0
        until = time.monotonic() + after_seconds
        while time.monotonic() < until:
            after_max = max(after_max, max(_counts(_leaders(store, names), [r.pid for r in survivors]).values()))
            time.sleep(0.1)
        for r in survivors:
            r.proc.send_signal(signal.SIGTERM)
        for r in survivors:
            r.proc.wait(60)
    finally:
        for r in replicas:
            if r.proc.poll() is None:
                r.proc.kill()
                r.proc.wait(30)
            r.drain()
    runs, dup_ticks, snapshots, dup_snapshot_ticks = _duplicates(store, int(every.rstrip("s")))
    return ReplicaReport(
        agents=agents,
        orgs=orgs,
        lease_seconds=lease_seconds,
        converge_seconds=converge,
        healthy_max_led=max_led,
        healthy_min_led=min_led,
        healthy_unled_samples=unled,
        healthy_samples=samples,
        scrape_ms_median=statistics.median(scrape_times) * 1000,
        killed_led=len(orphaned),
        takeover_seconds=takeover,
        after_max_led=after_max,
        runs=runs,
        duplicate_ticks=dup_ticks,
        snapshots=snapshots,
        snapshot_ticks_duplicated=dup_snapshot_ticks,
        exit_codes=[r.proc.returncode for r in survivors],
        logs={r.pid: "".join(r.log) for r in replicas},
    )


def _duplicates(store: Store, period: int) -> tuple[int, int, int, int]:
    """(runs, ticks with more than one run, snapshots, ticks with more than one snapshot of an org).

    The second count reads the effect of the jobs (limit snapshots stored per org and tick), not only
    the run records, so it would catch a job that ran twice even if its run record were not written."""
    runs_t, snaps_t = schema.agent_run, schema.limit_snapshot
    with store.engine.connect() as conn:
        runs = conn.execute(select(func.count()).select_from(runs_t)).scalar_one()
        dup = conn.execute(
            select(func.count()).select_from(
                select(runs_t.c.org)
                .group_by(runs_t.c.org, runs_t.c.job, runs_t.c.scheduled_at)
                .having(func.count() > 1)
                .subquery()
            )
        ).scalar_one()
        # per alias: the agents run 30 aliases of one emulator org, stored under its one org id
        taken = conn.execute(select(snaps_t.c.alias, snaps_t.c.taken_at).distinct()).all()
    per_tick: dict[tuple[str, int], int] = {}
    for org, at in taken:
        key = (org, int(at.timestamp()) // period)
        per_tick[key] = per_tick.get(key, 0) + 1
    return int(runs), int(dup), len(taken), sum(1 for n in per_tick.values() if n > 1)
