"""Detection benchmark: the default rule set over a store holding 1,000,000 log transactions and 100,000 exception
events (30 days of history), against a reference full scan in the same run.

    .venv/bin/python benchmarks/detect_bench.py [--transactions 1000000] [--events 100000] [--runs 5]

Builds a SQLite store in a temporary folder: 100,000 pulled logs of 10 transactions each (the summary shape
`sfops logs pull` stores; 3 % failing) spread evenly over 30 days, 100,000 ApexUnexpectedException rows and 30
days of limit snapshots. Then times, as medians of --runs:

* the first tick (learns the fingerprints of the stored history, then evaluates every default rule);
* a tick with nothing new (what the agent's `detect` job costs every minute);
* the reference: reading every stored transaction summary once (what a non-incremental evaluation needs).

Incidents go to an in-memory stand-in (no org): the benchmark measures the detector, not the API.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sfops.detect import default_rules, run_detection  # noqa: E402
from sfops.detect.model import DetectConfig  # noqa: E402
from sfops.store import Store, apex_logs, schema  # noqa: E402

NOW = dt.datetime(2026, 3, 31, 12, 0, tzinfo=dt.UTC)
DAYS = 30


class FakeService:
    """Counts raises like IncidentService would (creates once per dedup key)."""

    def __init__(self) -> None:
        self.keys: dict[str, int] = {}

    def raise_incident(self, severity: str, summary: str, **kw: Any) -> Any:
        key = kw["dedup_key"]
        created = key not in self.keys
        self.keys[key] = self.keys.get(key, 0) + 1
        incident = SimpleNamespace(id=f"a03{len(self.keys):015d}", ref=f"INC-{len(self.keys):05d}")
        return SimpleNamespace(incident=incident, created=created, recurred=False)


class FakeOrg:
    """An org with no change history (investigation reads it when an incident is raised)."""

    def query(self, soql: str) -> list[dict[str, Any]]:
        return []

    tooling_query = query


def build(store: Store, transactions: int, events: int, per_log: int = 10) -> None:
    rng = random.Random(11)
    logs = transactions // per_log
    span = dt.timedelta(days=DAYS).total_seconds()
    body = zlib.compress(b"synthetic", 6)
    rows = []
    for i in range(logs):
        start = NOW - dt.timedelta(seconds=span * (1 - i / logs))
        summary = []
        for t in range(per_log):
            failed = rng.random() < 0.03
            summary.append(
                {
                    "tx": t,
                    "entry_point": f"Trigger{i % 300} on Object{i % 40} trigger event AfterInsert",
                    "failed": failed,
                    "category": "governor_limit" if failed else "none",
                    "limit": "soql_queries" if failed else None,
                    "fingerprint": f"fp{rng.randrange(400)}" if failed else None,
                    "exceptions": "[fatal] System.LimitException: Too many SOQL queries: 101" if failed else "",
                    "limits": {
                        "(default)": {
                            "soql_queries": [rng.randrange(100), 100],
                            "cpu_time": [rng.randrange(10000), 10000],
                        }
                    },
                }
            )
        rows.append(
            {
                "org": "prod",
                "id": f"07L{i:015d}",
                "start_time": start,
                "log_user_id": "005000000000001AAA",
                "operation": "Api",
                "request": "Api",
                "application": "Unknown",
                "status": "Success",
                "duration_ms": 100,
                "log_length": 9,
                "location": "Monitoring",
                "body": body,
                "body_bytes": 9,
                "pulled_at": start,
                "summary": summary,
            }
        )
        if len(rows) == 5000:
            with store.begin() as conn:
                conn.execute(schema.apex_log.insert(), rows)
            rows = []
    if rows:
        with store.begin() as conn:
            conn.execute(schema.apex_log.insert(), rows)
    batch = []
    for i in range(events):
        at = NOW - dt.timedelta(seconds=span * (1 - i / events))
        batch.append(
            {
                "org": "prod",
                "source": "EventLogFile",
                "id": f"0AT{i // 1000:015d}:{i % 1000}",
                "occurred_at": at,
                "exception_type": "System.LimitException",
                "message": "Apex CPU time limit exceeded",
                "stack": "Class.Heavy.run: line 31, column 1",
                "category": "governor_limit",
                "fingerprint": f"ev{rng.randrange(300)}",
                "entry_point": "Class.Heavy.run",
                "user_id": "005000000000001",
                "request_id": f"4{i}",
                "details": {"exception_category": "LimitException: CpuTime"},
            }
        )
        if len(batch) == 10000:
            with store.begin() as conn:
                conn.execute(schema.error_event.insert(), batch)
            batch = []
    if batch:
        with store.begin() as conn:
            conn.execute(schema.error_event.insert(), batch)
    snaps = []
    for h in range(DAYS * 24):
        at = NOW - dt.timedelta(hours=DAYS * 24 - h)
        snaps += [
            {
                "org": "prod",
                "taken_at": at,
                "name": "DailyApiRequests",
                "app": "",
                "max": 100000,
                "remaining": 100000 - (h % 24) * 1000,
            },
            {"org": "prod", "taken_at": at, "name": "DataStorageMB", "app": "", "max": 1024, "remaining": 400},
        ]
    with store.begin() as conn:
        conn.execute(schema.limit_snapshot.insert(), snaps)


def tick(store: Store, service: FakeService, now: dt.datetime) -> Any:
    config = DetectConfig(rules=default_rules())
    return run_detection(
        store,
        config,
        alias="prod",
        now=now,
        production=True,
        actor="bench",
        incidents=lambda: SimpleNamespace(service=service),
        get_org=FakeOrg,
    )


def reference(store: Store) -> int:
    return sum(len(txs) for _meta, txs in apex_logs.iter_summaries(store, "prod"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sfops-detect-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        store = Store.open(url)
        started = time.perf_counter()
        build(store, args.transactions, args.events)
        print(
            f"store: {args.transactions:,} transactions in {args.transactions // 10:,} logs, {args.events:,} "
            f"exception events, {DAYS} days ({time.perf_counter() - started:.1f} s to build)"
        )
        import pandas  # noqa: F401 - imported once up front, as in a running agent

        firsts, idles, refs = [], [], []
        fired = 0
        for run in range(args.runs):
            with Store.open(url).engine.begin() as conn:
                for table in (schema.detect_alert, schema.detect_firing, schema.detect_fingerprint):
                    conn.execute(table.delete())
                conn.execute(schema.state.delete().where(schema.state.c.key.like("detect.%")))
            service = FakeService()
            t0 = time.perf_counter()
            result = tick(store, service, NOW)
            firsts.append(time.perf_counter() - t0)
            fired = sum(1 for t in result.transitions if t.kind == "fired")
            t0 = time.perf_counter()
            tick(store, service, NOW + dt.timedelta(minutes=1))
            idles.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            counted = reference(store)
            refs.append(time.perf_counter() - t0)
            print(
                f"run {run + 1}: first tick {firsts[-1]:.3f} s ({fired} fired, {result.learned} fingerprints "
                f"learned), idle tick {idles[-1]:.3f} s, reference full scan {refs[-1]:.3f} s ({counted:,} tx)"
            )
        first, idle, ref = (statistics.median(x) for x in (firsts, idles, refs))
        print(
            f"median: first tick {first:.3f} s, idle tick {idle:.3f} s, reference {ref:.3f} s; "
            f"first/reference {first / ref:.3f}, idle/reference {idle / ref:.4f}"
        )
        print("target: a tick over this store within 2 s:", "met" if first <= 2.0 and idle <= 2.0 else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
