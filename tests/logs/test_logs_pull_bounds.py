"""`logs pull` summarizes each body as a stream (issue 11, item 5): the memory one body costs stays flat however
many transactions it holds, and the failing transactions detection reads are kept even behind a flood."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import pytest

from sfops.logs import reader
from sfops.logs.pull import MAX_SUMMARY_ROWS, summarize_body

HEADER = "64.0 APEX_CODE,FINE;APEX_PROFILING,FINE;DB,INFO"


def body(count: int, failing_every: int = 0) -> bytes:
    """`count` tiny transactions in one body; every `failing_every`-th ends in a FATAL_ERROR."""
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


def peak_of(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_small_body_keeps_every_transaction_with_its_failures() -> None:
    rows = summarize_body(body(6, failing_every=3), "07L000000000001AAA")
    assert len(rows) == 6
    assert [r["failed"] for r in rows] == [False, False, True, False, False, True]


def test_memory_stays_flat_when_a_body_holds_ever_more_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "CHUNK_CHARS", 1 << 16)  # inputs of a few hundred KiB span many chunks
    small, big = body(2 * MAX_SUMMARY_ROWS), body(8 * MAX_SUMMARY_ROWS)
    assert len(big) > 3 * len(small)
    small_peak = peak_of(lambda: summarize_body(small, "07L000000000001AAA"))
    big_peak = peak_of(lambda: summarize_body(big, "07L000000000002AAA"))
    # the rows kept are capped; what remains is the parser's constant working set
    assert big_peak < 1.3 * small_peak, (small_peak, big_peak)


def test_a_flood_of_passing_transactions_does_not_push_out_the_failing_ones() -> None:
    rows = summarize_body(body(4 * MAX_SUMMARY_ROWS, failing_every=4), "07L000000000003AAA")
    failed = [r for r in rows if r["failed"]]
    assert len(failed) == MAX_SUMMARY_ROWS  # every failing one of the 4,000 transactions
    assert len(rows) == 2 * MAX_SUMMARY_ROWS
