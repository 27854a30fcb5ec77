"""CLI start-up benchmark: wall time of `sfops [GROUP] --help` in a fresh interpreter, median of N runs.

    .venv/bin/python benchmarks/cli_startup_bench.py [--runs 7] [--json] [GROUP ...]

`--help` of a group must not import what only its commands need (pandas, SQLAlchemy, requests,
simple-salesforce, zeep, APScheduler): a typo or a `--help` should answer at once. The root
`sfops --help` lists every group's one-line help and therefore imports every group module.
To see what a group imports: `python -X importtime -m sfops GROUP --help`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

GROUPS = ["", "switch", "breaker", "limits", "agent", "org", "emulator", "logs", "rollback", "incident"]


def measure(group: str, runs: int) -> list[float]:
    """Wall times in ms of `python -m sfops GROUP --help`."""
    argv = [sys.executable, "-m", "sfops", *([group] if group else []), "--help"]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("groups", nargs="*", default=GROUPS)
    args = parser.parse_args()
    results = {g or "(root)": round(statistics.median(measure(g, args.runs)), 1) for g in args.groups}
    if args.json:
        print(json.dumps({"median_ms": results, "runs": args.runs}))
    else:
        for name, ms in results.items():
            print(f"sfops {name} --help: median {ms:.0f} ms")


if __name__ == "__main__":
    main()
