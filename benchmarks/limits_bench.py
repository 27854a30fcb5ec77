"""Limits and agent benchmark: store cost of snapshots, `limits report` time, and the agent's lease/run overhead.

    .venv/bin/python benchmarks/limits_bench.py [--days 30] [--every 15] [--json]

Fills a SQLite store with one snapshot every `--every` minutes for `--days` days, shaped like the
real recorded /limits body (48 limits + 40 per-app rows, as in tests/data/wire/limits.json; a
synthetic body of the same shape is used when that file is absent), with DailyApiRequests growing,
then measures:

  snapshot/save      storing one snapshot (one transaction)
  report             `limits report` over every stored snapshot (pandas)
  report/24h         `limits report --since 24h`
  agent/lease        one lease take-or-renew (the leader check before each job)
  agent/run-once     `agent run --once` of one no-op job: lease + due check + run record (no API call)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sfops.agent import Agent, AgentConfig, JobResult, JobSpec, LeaderLease  # noqa: E402
from sfops.agent.config import parse_schedule  # noqa: E402
from sfops.config import load_settings  # noqa: E402
from sfops.limits import LimitRow, flatten_limits, limits_report, save_snapshot  # noqa: E402
from sfops.store import Store  # noqa: E402

WIRE = REPO / "tests" / "data" / "wire" / "limits.json"


def body_rows() -> list[LimitRow]:
    if WIRE.is_file():
        return flatten_limits(json.loads(WIRE.read_text(encoding="utf-8")))[0]
    rows = [LimitRow(f"DailyLimit{i}", 10000, 10000) for i in range(47)] + [LimitRow("DailyApiRequests", 15000, 15000)]
    return rows + [LimitRow("DailyApiRequests", 0, 0, app=f"App{i}") for i in range(40)]


def timed(fn: Any, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--every", type=int, default=15, help="minutes between snapshots")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    template = body_rows()
    now = dt.datetime(2026, 3, 31, tzinfo=dt.UTC)
    count = args.days * 24 * 60 // args.every
    results: dict[str, Any] = {"snapshots": count, "rows_per_snapshot": len(template)}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'bench.db'}")
        saves = []
        for i in range(count):
            taken = now - dt.timedelta(minutes=args.every * (count - i))
            used = (i * 7) % 15000
            rows = [
                LimitRow(
                    r.name, r.max, r.max - used if (r.name, r.app) == ("DailyApiRequests", None) else r.remaining, r.app
                )
                for r in template
            ]
            start = time.perf_counter()
            save_snapshot(store, "prod", rows, taken)
            saves.append(time.perf_counter() - start)
        results["rows"] = count * len(template)
        results["snapshot/save_ms_median"] = round(statistics.median(saves) * 1000, 2)
        report = timed(lambda: limits_report(store, "prod", clock=lambda: now), args.runs)
        results["report_s_median"] = round(statistics.median(report), 3)
        day = timed(
            lambda: limits_report(store, "prod", since=now - dt.timedelta(hours=24), clock=lambda: now), args.runs
        )
        results["report_24h_s_median"] = round(statistics.median(day), 3)
        lease = LeaderLease(store, "bench", dt.timedelta(seconds=60))
        results["agent/lease_ms_median"] = round(
            statistics.median(timed(lambda: lease.hold("agent:prod"), 200)) * 1000, 3
        )
        settings = load_settings({"HOME": tmp}, Path(tmp) / "none.toml", Path(tmp))
        config = AgentConfig(orgs=("prod",), schedules={("prod", "noop"): parse_schedule("1s", "bench")})
        agent = Agent(
            config,
            store,
            settings,
            get_org=lambda alias: None,
            actor="bench",
            jobs={"noop": JobSpec("noop", "no-op", lambda ctx: JobResult("ok", "nothing"))},
        )
        results["agent/run-once_ms_median"] = round(
            statistics.median(timed(lambda: agent.run_once(force=True), 100)) * 1000, 3
        )
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for key, value in results.items():
            print(f"{key:28} {value}")


if __name__ == "__main__":
    main()
