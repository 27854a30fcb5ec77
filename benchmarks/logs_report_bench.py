"""Report benchmark: `build_report` over 1,000,000 parsed transactions (synthetic summaries, in memory).

    .venv/bin/python benchmarks/logs_report_bench.py [--transactions 1000000] [--entry-points 500]

Each transaction has the summary shape `sfops logs pull` stores: the limits it used (six of the (default)
namespace; unused ones are not stored), 3 % failing with one of five fingerprints. Prints the time to produce
the per-entry-point table (and the failures table) from the summaries.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sfops.logs.report import build_report  # noqa: E402

MAXIMA = {
    "soql_queries": 100,
    "query_rows": 50000,
    "dml_statements": 150,
    "dml_rows": 10000,
    "cpu_time": 10000,
    "heap_size": 6000000,
    "callouts": 100,
    "sosl_queries": 20,
    "email_invocations": 10,
    "future_calls": 50,
    "queueable_jobs": 50,
    "mobile_push_calls": 10,
    "publish_immediate_dml": 150,
}
USED = ["soql_queries", "query_rows", "dml_statements", "dml_rows", "cpu_time", "heap_size"]


def summaries(n: int, entry_points: int, per_log: int = 10):  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    names = [f"Trigger{i} on Object{i % 40} trigger event AfterInsert" for i in range(entry_points)]
    log: list[dict] = []
    for i in range(n):
        limits = {key: [1 + int((MAXIMA[key] - 1) * rng.random() ** 3), MAXIMA[key]] for key in USED}
        failed = rng.random() < 0.03
        log.append(
            {
                "entry_point": names[i % entry_points],
                "limits": {"(default)": limits},
                "failed": failed,
                "category": "governor_limit" if failed else "none",
                "fingerprint": f"fp{i % 5}" if failed else None,
                "limit": "cpu_time" if failed else None,
                "exceptions": "",
                "hint": "",
            }
        )
        if len(log) == per_log:
            yield {"start_time": i}, log
            log = []
    if log:
        yield {"start_time": n}, log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--entry-points", type=int, default=500)
    args = parser.parse_args()
    data = list(summaries(args.transactions, args.entry_points))
    start = time.perf_counter()
    report = build_report(data)
    elapsed = time.perf_counter() - start
    print(
        f"{report.transactions:,} transactions in {report.logs:,} logs -> {len(report.limits):,} limit rows, "
        f"{len(report.failures)} failure groups in {elapsed:.2f} s "
        f"({report.transactions / elapsed / 1e6:.2f} M transactions/s)"
    )
    print(report.limits.head(5).to_string())


if __name__ == "__main__":
    main()
