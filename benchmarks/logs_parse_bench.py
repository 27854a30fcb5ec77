"""Parser benchmark: sfops.logs against the reference Python floor (py_baseline.py), same process, same input.

    .venv/bin/python benchmarks/logs_parse_bench.py [BENCH.log.gz] [--runs N]

Decompresses tests/data/apex-logs/bench/bench-20mb.log.gz to a temporary file, then prints for each parser
the median MiB/s over N runs (MiB = 2^20 bytes; sfops includes reading and decoding the file, the baseline's
own figure is printed both ways) and the tracemalloc peak of one run. Peak RSS (ru_maxrss) is taken right after
the sfops runs, before the baseline loads the whole file into memory. Reference points from the notes: the
anchor parser (Certinia Apex Log Analyzer) ≈ 11 MiB/s cold, ≈ 335 MiB peak RSS on this input.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import re
import resource
import runpy
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sfops.logs import parse_file  # noqa: E402

DEFAULT_INPUT = REPO / "tests" / "data" / "apex-logs" / "bench" / "bench-20mb.log.gz"
MIB = 1 << 20


def run_sfops(path: Path) -> tuple[float, dict[str, int]]:
    start = time.perf_counter()
    log = parse_file(path)
    elapsed = time.perf_counter() - start
    facts = {
        "transactions": len(log.transactions),
        "events": log.events,
        "soql": sum(t.soql_count for t in log.transactions),
        "dml": sum(t.dml_count for t in log.transactions),
        "problems": len(log.problems),
    }
    return elapsed, facts


def run_baseline(script: Path, mode: str, path: Path) -> tuple[float, float]:
    """(parse-only MiB/s, MiB/s including read+decode) as py_baseline.py prints them."""
    out = io.StringIO()
    argv = sys.argv
    sys.argv = [str(script), mode, str(path)]
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = argv
    match = re.search(r"([\d.]+) MB/s parse-only, ([\d.]+) MB/s incl\. read", out.getvalue())
    if not match:
        raise SystemExit(f"unexpected baseline output: {out.getvalue()!r}")
    return float(match.group(1)), float(match.group(2))


def traced_peak(fn) -> int:  # type: ignore[no-untyped-def]
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", nargs="?", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    baseline = args.input.parent / "py_baseline.py"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.log"
        with gzip.open(args.input, "rb") as src, path.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        size_mib = path.stat().st_size / MIB
        print(f"input: {args.input.name} -> {size_mib:.2f} MiB, {args.runs} runs per parser")

        times = []
        facts: dict[str, int] = {}
        for _ in range(args.runs):
            elapsed, facts = run_sfops(path)
            times.append(elapsed)
        sfops_rate = size_mib / statistics.median(times)
        rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
        sfops_peak = traced_peak(lambda: parse_file(path)) / MIB
        print(
            f"sfops.logs   : median {sfops_rate:6.1f} MiB/s (read+decode+parse+classify; "
            f"best {size_mib / min(times):.1f}), tracemalloc peak {sfops_peak:.1f} MiB, "
            f"process peak RSS so far {rss_mib:.0f} MiB"
        )
        print(f"               {facts}")

        rates = [run_baseline(baseline, "tree", path) for _ in range(args.runs)]
        base_parse = statistics.median(r[0] for r in rates)
        base_total = statistics.median(r[1] for r in rates)
        base_peak = traced_peak(lambda: run_baseline(baseline, "tree", path)) / MIB
        print(
            f"py_baseline  : median {base_parse:6.1f} MiB/s parse-only, {base_total:.1f} MiB/s incl. read "
            f"(tokenize + entry/exit pairing only), tracemalloc peak {base_peak:.1f} MiB"
        )
        print(
            f"ratio        : sfops / baseline = {sfops_rate / base_total:.2f} (incl. read), "
            f"{sfops_rate / base_parse:.2f} (vs its parse-only figure); memory {sfops_peak / base_peak:.2f}x"
        )
        print(
            f"vs anchor    : {sfops_rate / 11:.1f}x the anchor's ~11 MiB/s; target >= 4x (44 MiB/s), "
            f"< 84 MiB (a quarter of ~335 MiB)"
        )


if __name__ == "__main__":
    main()
