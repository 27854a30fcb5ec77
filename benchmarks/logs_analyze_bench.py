"""Whole-process benchmark of `sfops logs analyze --json` against the bare tokenizer, side by side.

    .venv/bin/python benchmarks/logs_analyze_bench.py [BENCH.log.gz] [--runs N]

Decompresses tests/data/apex-logs/bench/bench-20mb.log.gz to a temporary file, then runs, interleaved, N times
each (separate processes, output to /dev/null, wall time including interpreter start-up):

* `tokenizer`: py_baseline.py tree (read + tokenize + entry/exit pairing only: the floor);
* `parse`: `parse_file()` alone in a python process;
* `analyze --json`: the whole command as a user runs it (streamed orjson output);
* `legacy --json`: what the command did before: parse everything, then `to_jsonable` + `json.dumps(indent=2)`
  of the whole result at once (kept here as the reference the change is measured against).

Prints the median seconds, peak RSS (from wait4) and each median's ratio to the tokenizer's.
Target (issue 15, item 23): analyze --json within 2x the tokenizer.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_INPUT = REPO / "tests" / "data" / "apex-logs" / "bench" / "bench-20mb.log.gz"
BASELINE = REPO / "tests" / "data" / "apex-logs" / "bench" / "py_baseline.py"

PARSE = "import sys; from sfops.logs import parse_file; parse_file(sys.argv[1])"
LEGACY = """
import json, sys
from sfops.logs.analyze import FileAnalysis, transaction_row
from sfops.logs.parser import parse_file
from sfops.serialize import to_jsonable
log = parse_file(sys.argv[1])
rows = [transaction_row(sys.argv[1], tx) for tx in log.transactions]
data = {"transactions": rows, "logs": [FileAnalysis(sys.argv[1], log)]}
envelope = {"status": 0, "result": to_jsonable(data), "warnings": []}
sys.stdout.write(json.dumps(envelope, indent=2, default=str) + "\\n")
"""


def run(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one process, stdout to /dev/null."""
    with open(os.devnull, "wb") as sink, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=sink, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{argv[:4]} exited {proc.returncode}: {err.read().decode()[-500:]}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", nargs="?", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    python = sys.executable
    sfops = str(Path(python).parent / "sfops")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.log"
        with gzip.open(args.input, "rb") as src, path.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        commands = {
            "tokenizer": [python, str(BASELINE), "tree", str(path)],
            "parse": [python, "-c", PARSE, str(path)],
            "analyze --json": [sfops, "logs", "analyze", str(path), "--json"],
            "legacy --json": [python, "-c", LEGACY, str(path)],
        }
        print(
            f"input: {args.input.name} -> {path.stat().st_size / (1 << 20):.2f} MiB, {args.runs} runs each, interleaved"
        )
        times: dict[str, list[float]] = {name: [] for name in commands}
        rss: dict[str, float] = dict.fromkeys(commands, 0.0)
        for _ in range(args.runs):
            for name, argv in commands.items():
                elapsed, peak = run(argv)
                times[name].append(elapsed)
                rss[name] = max(rss[name], peak)
        floor = statistics.median(times["tokenizer"])
        for name in commands:
            median = statistics.median(times[name])
            print(
                f"{name:15s}: median {median:6.3f} s (min {min(times[name]):.3f}), peak RSS {rss[name]:5.0f} MiB, "
                f"ratio to tokenizer {median / floor:.2f}"
            )
        ratio = statistics.median(times["analyze --json"]) / floor
        print(f"analyze --json / tokenizer = {ratio:.2f} (target <= 2.00): {'met' if ratio <= 2 else 'NOT met'}")


if __name__ == "__main__":
    main()
