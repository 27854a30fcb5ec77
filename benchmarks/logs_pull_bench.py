"""Pull benchmark: N logs from the local emulator with injected latency; wall time and API calls vs N+1.

    .venv/bin/python benchmarks/logs_pull_bench.py [--logs 500] [--latency-ms 100] [--concurrency 1 4 8]

Every request (query page and body) waits `latency-ms` in the emulator, like a distant org. The floor is one
query page per 2,000 logs plus one body request per log; an empty pull afterwards must cost exactly one request.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sfops.emulator.testing import running_emulator  # noqa: E402
from sfops.logs.pull import pull_logs  # noqa: E402
from sfops.salesforce import connect  # noqa: E402
from sfops.store import Store  # noqa: E402

LOGS = REPO / "tests" / "data" / "apex-logs"
BODIES = [
    LOGS / name
    for name in (
        "certinia-mcp-minimal-v64.log",
        "synthetic/SYNTHETIC-soql-101-trigger-loop-v64.log",
        "synthetic/SYNTHETIC-unable-to-lock-row-queueable-v64.log",
        "SYNTHETIC-certinia-mcp-exceptions-callout-timeout-v64.log",
    )
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=500)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    args = parser.parse_args()
    bodies = [p.read_text(encoding="utf-8") for p in BODIES]
    with tempfile.TemporaryDirectory() as tmp, running_emulator(Path(tmp) / "emu") as emu:
        for concurrency in args.concurrency:
            emu.reset()
            existing = len(emu.emulator.store.rows("ApexLog"))
            base = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
            for i in range(args.logs):
                start = (base + dt.timedelta(seconds=i // 3)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
                emu.emulator.add_apexlog(bodies[i % len(bodies)], {"StartTime": start})
            total = existing + args.logs
            org = connect(emu.org_config(alias="bench"), env={})
            org.query("SELECT Id FROM Organization")  # authenticate outside the measurement
            store = Store.open(f"sqlite:///{tmp}/pull-{concurrency}.db")
            emu.faults(latency={"fixed_ms": args.latency_ms, "jitter_ms": 0})
            mark = len(emu.requests_journal())
            start_t = time.perf_counter()
            result = pull_logs(org, store, "bench", concurrency=concurrency)
            elapsed = time.perf_counter() - start_t
            calls = [e for e in emu.requests_journal()[mark:] if e["counted"]]
            mark = len(emu.requests_journal())
            empty_t = time.perf_counter()
            pull_logs(org, store, "bench", concurrency=concurrency)
            empty_elapsed = time.perf_counter() - empty_t
            empty_calls = [e for e in emu.requests_journal()[mark:] if e["counted"]]
            emu.control("DELETE", "faults")
            floor = -(-total // 2000) + total
            print(
                f"concurrency {concurrency:2d}: {result.pulled} logs ({result.body_bytes / 1e6:.1f} MB) in "
                f"{elapsed:6.2f} s = {result.pulled / elapsed:6.1f} logs/s; API calls {len(calls)} "
                f"(N+1 floor {floor}); empty pull {len(empty_calls)} call(s) in {empty_elapsed * 1000:.0f} ms; "
                f"serial floor at {args.latency_ms:.0f} ms/request ≈ {floor * args.latency_ms / 1000:.1f} s"
            )


if __name__ == "__main__":
    main()
