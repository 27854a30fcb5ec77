"""Big hostile inputs for `sfops logs analyze`: time and peak RSS of the whole command (issue 15, item 22).

    .venv/bin/python benchmarks/logs_odd_input_bench.py [--mib 200] [--tiny-mib 20] [--cases a,b,...]

Generates each input in a temporary folder (one at a time, deleted after), runs `sfops logs analyze FILE`
(table) and `... --json` with output to /dev/null, and prints wall seconds and peak RSS (wait4) per run:

* `method-entry`: one transaction of METHOD_ENTRY lines that never return (--mib);
* `exec-started`: nothing but EXECUTION_STARTED lines, one unfinished transaction each (--mib);
* `tiny-tx`: many tiny complete transactions, one in seven failing (--tiny-mib);
* `no-newline`: one line without a newline (--mib);
* `orphan-exits`: 4,000 open frames then METHOD_EXIT lines that match none of them (--mib).

The tests check the same bounds with tracemalloc on inputs of a few MiB (tests/logs/test_logs_bounds.py).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

HEADER = "64.0 APEX_CODE,FINE;APEX_PROFILING,FINE;DB,INFO\n"
BLOCK = 1 << 20


def method_entry(size: int) -> Iterator[str]:
    yield HEADER + "10:00:00.1 (1)|EXECUTION_STARTED\n"
    n = total = 0
    while total < size:
        lines = "".join(
            f"10:00:00.1 ({n + i + 2})|METHOD_ENTRY|[{i % 90 + 1}]|01p000000000001|Deep.level{n + i}()\n"
            for i in range(10000)
        )
        n += 10000
        total += len(lines)
        yield lines


def exec_started(size: int) -> Iterator[str]:
    yield HEADER
    block = "10:00:00.1 (1)|EXECUTION_STARTED\n" * (BLOCK // 33)
    for _ in range(max(1, size // len(block))):
        yield block


def tiny_tx(size: int) -> Iterator[str]:
    yield HEADER
    n = total = 0
    while total < size:
        parts = []
        for i in range(n, n + 1000):
            ns = i * 10
            parts.append(
                f"10:00:00.1 ({ns + 1})|EXECUTION_STARTED\n"
                f"10:00:00.1 ({ns + 2})|CODE_UNIT_STARTED|[EXTERNAL]|execute_anonymous_apex\n"
            )
            if i % 7 == 6:
                parts.append(f"10:00:00.1 ({ns + 3})|FATAL_ERROR|System.NullPointerException: boom {i}\n")
            parts.append(
                f"10:00:00.1 ({ns + 4})|CODE_UNIT_FINISHED|execute_anonymous_apex\n"
                f"10:00:00.1 ({ns + 5})|EXECUTION_FINISHED\n"
            )
        n += 1000
        block = "".join(parts)
        total += len(block)
        yield block


def no_newline(size: int) -> Iterator[str]:
    yield HEADER
    block = "A" * BLOCK
    for _ in range(max(1, size // BLOCK)):
        yield block


def orphan_exits(size: int) -> Iterator[str]:
    yield HEADER + "10:00:00.1 (1)|EXECUTION_STARTED\n"
    yield "".join(f"10:00:00.1 ({i + 2})|METHOD_ENTRY|[2]|01p000000000001|Inner.step{i}()\n" for i in range(4000))
    block = "".join(
        f"10:00:00.1 ({5000 + i})|METHOD_EXIT|[77]|01p000000000001|Nobody.called()\n" for i in range(BLOCK // 60)
    )
    for _ in range(max(1, size // len(block))):
        yield block


CASES: dict[str, tuple[Callable[[int], Iterator[str]], str]] = {
    "method-entry": (method_entry, "mib"),
    "exec-started": (exec_started, "mib"),
    "tiny-tx": (tiny_tx, "tiny"),
    "no-newline": (no_newline, "mib"),
    "orphan-exits": (orphan_exits, "mib"),
}


def run(argv: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB, exit code) of one process, stdout to /dev/null."""
    with open(os.devnull, "wb") as sink, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=sink, stderr=err, env={**os.environ, "COLUMNS": "200"})
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            err.seek(0)
            print(f"  {argv[-1]} exited {code}: {err.read().decode()[-300:]}")
    return elapsed, usage.ru_maxrss / 1024, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=200)
    parser.add_argument("--tiny-mib", type=int, default=20)
    parser.add_argument("--cases", default=",".join(CASES))
    args = parser.parse_args()
    sfops = str(Path(sys.executable).parent / "sfops")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.cases.split(","):
            make, scale = CASES[name]
            path = Path(tmp) / f"{name}.log"
            with path.open("w", encoding="utf-8") as fh:
                for block in make((args.mib if scale == "mib" else args.tiny_mib) << 20):
                    fh.write(block)
            size = path.stat().st_size / (1 << 20)
            for label, extra in (("table", []), ("--json", ["--json"])):
                elapsed, rss, code = run([sfops, "logs", "analyze", str(path), *extra])
                print(
                    f"{name:13s} {size:7.1f} MiB {label:7s}: {elapsed:7.1f} s, peak RSS {rss:6.0f} MiB, exit {code}",
                    flush=True,
                )
            path.unlink()


if __name__ == "__main__":
    main()
