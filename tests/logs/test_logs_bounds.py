"""Bounded memory on hostile or huge input (issue 15, item 22), measured with tracemalloc on generated inputs of
modest size: the peak must not grow with the input. The 200 MB cases are in benchmarks/logs_odd_input_bench.py."""

from __future__ import annotations

import io
import json
import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from paths import APEX_LOGS

from sfops.cli.app import invoke
from sfops.logs import LogFile, LogParser, parse_file
from sfops.logs.analyze import analyze_files
from sfops.logs.parser import MAX_DEEP_MISSES, MAX_LINE_CHARS, MAX_STACK_DEPTH
from sfops.serialize import to_jsonable

HEADER = "64.0 APEX_CODE,FINE;APEX_PROFILING,FINE;DB,INFO"
MIB = 1 << 20
START_LINE = "10:00:00.1 (1)|EXECUTION_STARTED\n"


def peak_of(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def method_flood(size: int) -> bytes:
    """One transaction whose methods never return: the stack would grow with the file."""
    lines = [HEADER, "10:00:00.1 (1)|EXECUTION_STARTED"]
    n = 0
    total = 0
    while total < size:
        line = f"10:00:00.1 ({n + 2})|METHOD_ENTRY|[{n % 90 + 1}]|01p000000000001|Deep.level{n}(Integer)"
        lines.append(line)
        total += len(line) + 1
        n += 1
    return ("\n".join(lines) + "\n").encode()


def start_flood(size: int) -> bytes:
    """Nothing but EXECUTION_STARTED lines: one unfinished transaction per line."""
    return (HEADER + "\n" + START_LINE * (size // len(START_LINE))).encode()


def tiny_transactions(count: int, failing_every: int = 0) -> bytes:
    parts = [HEADER]
    for i in range(count):
        ns = i * 10
        parts += [
            f"10:00:00.1 ({ns + 1})|EXECUTION_STARTED",
            f"10:00:00.1 ({ns + 2})|CODE_UNIT_STARTED|[EXTERNAL]|execute_anonymous_apex",
        ]
        if failing_every and i % failing_every == failing_every - 1:
            parts.append(f"10:00:00.1 ({ns + 3})|FATAL_ERROR|System.NullPointerException: boom {i}")
        parts += [
            f"10:00:00.1 ({ns + 4})|CODE_UNIT_FINISHED|execute_anonymous_apex",
            f"10:00:00.1 ({ns + 5})|EXECUTION_FINISHED",
        ]
    return ("\n".join(parts) + "\n").encode()


def drain(data: bytes) -> Callable[[], LogParser]:
    """Parse and drop every transaction; 64 KiB chunks so that inputs of a few hundred KiB span many chunks."""

    def run() -> LogParser:
        parser = LogParser(io.BytesIO(data), chunk_chars=1 << 16)
        for _ in parser.transactions():
            pass
        return parser

    return run


def test_a_flood_of_method_entries_is_capped_at_the_stack_depth_and_memory_stays_flat() -> None:
    small, big = method_flood(MIB // 2), method_flood(2 * MIB)
    parser = drain(big)()
    kinds = [p.kind for p in parser.log.problems]
    assert kinds.count("stack-too-deep") == 1 and "unexpected-end" in kinds
    assert MIB // 2 // 80 > MAX_STACK_DEPTH  # the small input already overflows the cap
    peak_small, peak_big = peak_of(drain(small)), peak_of(drain(big))
    assert peak_big < peak_small * 1.5 + MIB, (peak_small, peak_big)


def test_a_flood_of_execution_started_streams_out_transactions_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "starts.log"
    path.write_bytes(start_flood(MIB))
    source = LogFile(path)
    count = sum(1 for _ in source)  # LogFile yields one at a time (parse_file would keep them all)
    assert count == MIB // len(START_LINE) and len(source.log.problems) == 1000 and source.log.problems_dropped > 0
    peak_small, peak_big = peak_of(drain(start_flood(MIB // 4))), peak_of(drain(start_flood(MIB)))
    assert peak_big < peak_small * 1.5 + MIB, (peak_small, peak_big)


def test_a_line_without_newline_is_cut_once_not_copied_per_chunk() -> None:
    tail = tiny_transactions(1).split(b"\n", 1)[1]  # one well-formed transaction after the long line
    for size in (2 * MIB, 8 * MIB):
        data = HEADER.encode() + b"\n" + b"A" * size + b"\n" + tail
        parser = LogParser(io.BytesIO(data), chunk_chars=1 << 16)
        txs = list(parser.transactions())
        assert len(txs) == 1 and txs[0].entry_point == "execute_anonymous_apex"  # parsing went on after it
        # the cut line is still read as a line (an event with a huge message keeps its event): here it is junk
        assert [(p.line, p.kind) for p in parser.log.problems] == [(2, "line-too-long"), (2, "invalid-line")]
        assert len(parser.log.problems[1].message) < 400
    flat = b"B" * (8 * MIB)
    peak = peak_of(lambda: list(LogParser(io.BytesIO(flat), chunk_chars=1 << 16).transactions()))
    assert peak < 3 * MAX_LINE_CHARS + 2 * MIB, peak  # at most the capped line, one chunk and their join


@pytest.mark.parametrize("orphans", [50, 200])
def test_orphan_exits_are_problems_and_deep_searches_are_bounded(orphans: int) -> None:
    lines = [
        HEADER,
        "10:00:00.1 (1)|EXECUTION_STARTED",
        "10:00:00.1 (2)|CODE_UNIT_STARTED|[EXTERNAL]|execute_anonymous_apex",
        "10:00:00.1 (3)|METHOD_ENTRY|[1]|01p000000000001|Outer.run()",
    ]
    lines += [f"10:00:00.1 ({4 + i})|METHOD_ENTRY|[2]|01p000000000001|Inner.step{i}()" for i in range(300)]
    lines += [f"10:00:00.1 ({400 + i})|METHOD_EXIT|[77]|01p000000000001|Nobody.called{i}()" for i in range(orphans)]
    lines += [
        "10:00:00.1 (700)|METHOD_EXIT|[1]|01p000000000001|Outer.run()",  # 300 inner frames above it
        "10:00:00.1 (800)|CODE_UNIT_FINISHED|execute_anonymous_apex",
        "10:00:00.1 (900)|EXECUTION_FINISHED",
    ]
    log = parse_file_bytes(("\n".join(lines) + "\n").encode())
    (tx,) = log.transactions
    kinds = [p.kind for p in log.problems]
    assert not tx.truncated and tx.duration_ns == 899
    if orphans < MAX_DEEP_MISSES:
        assert kinds == ["unmatched-exit"] * orphans
        # Outer.run() was found 300 frames down: the inner frames above it closed at its exit (ns 700)
        assert {m.name: m.total_ns for m in tx.top_methods}["Inner.step299()"] == 700 - 303
    else:
        # Past MAX_DEEP_MISSES failed deep searches an exit looks at the top SHALLOW_SCAN frames only (said once);
        # the frames it can no longer reach are closed at EXECUTION_FINISHED.
        assert kinds.count("exit-search-limited") == 1 and kinds.count("unmatched-exit") == orphans + 2
        assert {m.name: m.total_ns for m in tx.top_methods}["Inner.step299()"] == 900 - 303


def parse_file_bytes(data: bytes):  # type: ignore[no-untyped-def]
    from sfops.logs import parse_bytes

    return parse_bytes(data)


def test_special_files_are_refused_with_one_clear_error(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.log"
    os.mkfifo(fifo)
    good = str(APEX_LOGS / "certinia-mcp-minimal-v64.log")
    code, out, err = invoke(["logs", "analyze", "/dev/zero", str(fifo), good, "--json"], env={})
    assert code == 1 and "Traceback" not in out + err
    body = json.loads(out)
    assert body["status"] == 1 and len(body["result"]["transactions"]) == 1
    assert body["warnings"] == ["not a regular file (a device): /dev/zero", f"not a regular file (a FIFO): {fifo}"]
    code, out, err = invoke(["logs", "analyze", "/dev/zero"], env={"COLUMNS": "200"})
    assert code == 1 and "not a regular file (a device): /dev/zero" in out and "Traceback" not in out + err
    with pytest.raises(OSError, match="not a regular file"):
        parse_file("/dev/zero")


def test_analyze_json_streams_the_same_detail_as_the_model(tmp_path: Path) -> None:
    path = APEX_LOGS / "synthetic" / "SYNTHETIC-soql-101-trigger-loop-v64.log"
    code, out, _ = invoke(["logs", "analyze", str(path), "--json"], env={})
    assert code == 0
    body = json.loads(out)
    log = parse_file(path)
    streamed = body["result"]["logs"][0]
    assert streamed["path"] == str(path) and streamed["error"] is None
    expected = to_jsonable(log)
    assert streamed["log"] == expected  # every field, transactions included, as to_jsonable gives them
    assert body["result"]["transactions"][0]["soql"] == 101


def test_analyze_json_and_table_memory_do_not_grow_with_the_number_of_transactions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sfops.cli.jsonstream as jsonstream
    import sfops.cli.logs_analyze as logs_analyze
    import sfops.logs.reader as reader

    monkeypatch.setattr(jsonstream, "SPOOL_BYTES", 256 * 1024)  # rows beyond this go to a temporary file
    monkeypatch.setattr(reader, "CHUNK_CHARS", 1 << 16)  # so that both inputs span many chunks
    monkeypatch.setattr(logs_analyze, "TABLE_ROWS", 50)
    small, big = tmp_path / "small.log", tmp_path / "big.log"
    small.write_bytes(tiny_transactions(1500, failing_every=7))
    big.write_bytes(tiny_transactions(6000, failing_every=7))

    def render(path: Path, mode: str) -> Callable[[], object]:
        def run() -> object:
            result = logs_analyze.analysis_result(analyze_files([path]), ["file", "tx", "category"])
            with open(os.devnull, "w") as sink:
                assert result.stream is not None
                result.stream(mode, sink)
            return result

        return run

    for mode in ("json", "table"):
        peak_small, peak_big = peak_of(render(small, mode)), peak_of(render(big, mode))
        assert peak_big < peak_small * 1.5 + MIB, (mode, peak_small, peak_big)
    result = render(big, "table")()
    assert len(result.rows) == 50  # type: ignore[attr-defined]
    assert all(r["failed"] for r in result.rows)  # type: ignore[attr-defined]  # failed ones first
    assert result.message == "6000 transaction(s) in 1 file(s); 857 failed."  # type: ignore[attr-defined]
    assert "The table shows 50 of 6000 transactions" in result.notes[0]  # type: ignore[attr-defined]


def test_the_table_keeps_file_order_and_says_what_it_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sfops.cli.logs_analyze as logs_analyze

    monkeypatch.setattr(logs_analyze, "TABLE_ROWS", 5)
    path = tmp_path / "many.log"
    path.write_bytes(tiny_transactions(12, failing_every=6))  # transactions 5 and 11 fail
    code, out, _ = invoke(["logs", "analyze", str(path), "--csv"], env={})
    assert code == 0 and out.count("\n") == 13  # CSV: header + every row
    code, out, _ = invoke(["logs", "analyze", str(path)], env={"COLUMNS": "250"})
    assert code == 0
    assert "The table shows 5 of 12 transactions (failed ones first)" in out
    assert "12 transaction(s) in 1 file(s); 2 failed." in out
    shown = [line.split("│")[2].strip() for line in out.splitlines() if line.startswith("│ many.log")]
    assert shown == ["0", "1", "2", "5", "11"]
