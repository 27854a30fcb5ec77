"""Console page server time with a large store, and the agent's /metrics scrape.

    .venv/bin/python benchmarks/console_bench.py [--incidents 10000] [--transactions 1000000] [--runs 15]

Fills a SQLite store with `--incidents` incidents (one org, two years, with acknowledgement and
resolution times), `--transactions` Apex log transactions (5 per stored debug log, spread over 30
days, 2% of the logs failing), 30 days of limits snapshots every 15 minutes (48 limits) and agent runs,
then times each console page through the console's request handler (the server's own time: no
socket, no browser), median of `--runs`. Reference: the same pages on an empty store in the same
command (ratio = large / empty). Also times a /metrics scrape (collect + exposition) for 30 orgs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sfops.agent.metrics import AgentMetrics  # noqa: E402
from sfops.config import load_settings  # noqa: E402
from sfops.store import Store, schema  # noqa: E402
from sfops.web.console import Console, console_handler  # noqa: E402
from sfops.web.server import Request  # noqa: E402

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
SEVERITIES = ("P1", "P2", "P3", "P4")
CATEGORIES = ("Apex", "Integration", "Limits", "Data", "Deployment", "Other")
STATUSES = ("New", "Triaged", "Investigating", "Mitigated", "Resolved", "Closed")


def fill(store: Store, incidents: int, transactions: int, rng: random.Random) -> dict[str, Any]:
    rows = []
    for n in range(incidents):
        detected = NOW - dt.timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60))
        status = STATUSES[-1] if n % 50 else STATUSES[n % 4]
        ack = detected + dt.timedelta(minutes=rng.randrange(1, 120))
        fix = ack + dt.timedelta(minutes=rng.randrange(10, 2000))
        done = status in ("Resolved", "Closed")
        rows.append(
            {
                "org": "prod",
                "id": f"a03{n:012d}AAA",
                "name": f"INC-{n:05d}",
                "severity": rng.choice(SEVERITIES),
                "status": status,
                "summary": f"incident {n}",
                "category": rng.choice(CATEGORIES),
                "detected_at": detected,
                "acknowledged_at": ack,
                "resolved_at": fix if done else None,
                "occurrence_count": 1,
                "updated_at": NOW,
            }
        )
    body = zlib.compress(b"55.0 APEX_CODE,FINEST\n", 6)
    logs = []
    failing_tx = {
        "entry_point": "OrderTrigger",
        "failed": True,
        "category": "apex_exception",
        "fingerprint": "f1e2d3c4",
        "limits": {"(default)": {"SOQL queries": [12, 100]}},
    }
    ok_tx = {
        "entry_point": "AccountController.save",
        "failed": False,
        "category": "none",
        "limits": {"(default)": {"SOQL queries": [3, 100], "CPU time": [120, 10000]}},
    }
    per_log = 5
    for n in range(transactions // per_log):
        start = NOW - dt.timedelta(seconds=rng.randrange(0, 30 * 86400))
        failing = n % 50 == 0
        summary = [failing_tx if failing and i == 0 else ok_tx for i in range(per_log)]
        logs.append(
            {
                "org": "prod",
                "id": f"07L{n:015d}",
                "start_time": start,
                "operation": "/apex/x",
                "status": "System.NullPointerException" if failing else "Success",
                "duration_ms": 50,
                "log_length": 20,
                "body": body,
                "body_bytes": 22,
                "pulled_at": NOW,
                "summary": summary,
            }
        )
    snapshots = []
    for step in range(30 * 96):
        taken = NOW - dt.timedelta(minutes=15 * step)
        for i in range(48):
            snapshots.append(
                {
                    "org": "prod",
                    "taken_at": taken,
                    "name": f"Daily{i}" if i else "DailyApiRequests",
                    "app": "",
                    "max": 15000,
                    "remaining": 15000 - (step * 3 + i) % 15000,
                }
            )
    with store.begin() as conn:
        conn.execute(schema.incident.insert(), rows)
        for chunk in range(0, len(logs), 20000):
            conn.execute(schema.apex_log.insert(), logs[chunk : chunk + 20000])
        conn.execute(schema.limit_snapshot.insert(), snapshots)
        conn.execute(
            schema.agent_run.insert(),
            [
                {
                    "org": "prod",
                    "job": job,
                    "holder": "h",
                    "started_at": NOW - dt.timedelta(minutes=m),
                    "finished_at": NOW - dt.timedelta(minutes=m),
                    "outcome": "ok",
                    "summary": "ok",
                }
                for job in ("logs-pull", "limits-snapshot")
                for m in range(0, 3000, 15)
            ],
        )
    return {
        "incidents": len(rows),
        "logs": len(logs),
        "transactions": len(logs) * per_log,
        "snapshot_rows": len(snapshots),
    }


def pages(store: Store, settings: Any) -> dict[str, Any]:
    console = Console(store, settings, ("prod",), get_org=None, actor="bench", clock=lambda: NOW)
    handle = console_handler(console, environ={})
    some = "a03000000000001AAA"
    paths = {
        "orgs": "/",
        "org overview": "/org/prod",
        "incident": f"/incident/prod/{some}",
        "analytics 90d": "/analytics?org=prod&period=90d&bucket=month",
        "analytics all, weekly": "/analytics?period=all&bucket=week",
    }
    return {
        name: (lambda p=path: handle(Request("GET", p.split("?")[0], _query(p), {}))) for name, path in paths.items()
    }


def _query(path: str) -> dict[str, list[str]]:
    from urllib.parse import parse_qs

    return parse_qs(path.partition("?")[2])


def timed(fn: Any, runs: int) -> tuple[float, int]:
    status = fn().status  # warm-up (imports, caches of the database pages)
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000, status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "sfops.toml").write_text(
            '[orgs.prod]\nauth = "token"\ninstance_url = "https://p.example.invalid"\nproduction = true\n',
            encoding="utf-8",
        )
        settings = load_settings({"HOME": tmp}, base / "sfops.toml", base)
        empty = Store.open(f"sqlite:///{base / 'empty.db'}")
        store = Store.open(f"sqlite:///{base / 'big.db'}")
        t0 = time.perf_counter()
        sizes = fill(store, args.incidents, args.transactions, random.Random(7))
        fill_seconds = time.perf_counter() - t0
        reference = {name: timed(fn, args.runs)[0] for name, fn in pages(empty, settings).items()}
        results = {}
        for name, fn in pages(store, settings).items():
            ms, status = timed(fn, args.runs)
            results[name] = {
                "median_ms": round(ms, 1),
                "status": status,
                "empty_store_ms": round(reference[name], 1),
                "ratio": round(ms / reference[name], 2) if reference[name] else None,
            }
        orgs = [f"org{i:02d}" for i in range(29)] + ["prod"]
        metrics = AgentMetrics(store, orgs, leading=lambda: dict.fromkeys(orgs, True), clock=lambda: NOW)
        scrape_ms, _ = timed(lambda: type("R", (), {"status": len(metrics.exposition()[0])})(), args.runs)
    out = {
        "store": sizes,
        "fill_seconds": round(fill_seconds, 1),
        "pages": results,
        "metrics_scrape_ms_30_orgs": round(scrape_ms, 1),
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"store: {sizes} (filled in {fill_seconds:.0f} s)")
    for name, r in results.items():
        print(
            f"{name:24s} {r['median_ms']:7.1f} ms  (HTTP {r['status']}; empty store {r['empty_store_ms']} ms, "
            f"ratio {r['ratio']})"
        )
    print(f"/metrics scrape, 30 orgs (collect + exposition, no HTTP): {scrape_ms:.1f} ms")


if __name__ == "__main__":
    main()
