"""Odd input the parser must survive (issue 15, items 19-21): numbers that are not numbers, event lines without
`(nanos)`, and SOQL/DML counts when the DB category is not logged."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from paths import APEX_LOGS

from sfops.logs import parse_bytes, parse_file
from sfops.logs.analyze import transaction_row
from sfops.logs.model import Transaction

HEADER = "64.0 APEX_CODE,FINE;APEX_PROFILING,FINE;CALLOUT,INFO;DB,INFO;SYSTEM,DEBUG"
KNOWN_KINDS = {
    "truncated-skipped",
    "truncated-max-size",
    "unexpected-end",
    "invalid-line",
    "unknown-event",
    "unmatched-exit",
    "missing-execution-started",
    "invalid-limit-line",
    "invalid-field",
    "unexpected-header",
    "line-too-long",
    "stack-too-deep",
    "exit-search-limited",
}
OLD_FORMAT = APEX_LOGS / "synthetic" / "SYNTHETIC-old-format-limits-without-nanos-v29.log"


def ev(ns: int, event: str, *fields: str) -> str:
    return "|".join([f"10:00:00.1 ({ns})", event, *fields])


def text_log(*body: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *body]) + "\n").encode()


def one(data: bytes) -> tuple[Transaction, list[tuple[str, str]]]:
    log = parse_bytes(data)
    assert len(log.transactions) == 1
    return log.transactions[0], [(p.kind, p.message) for p in log.problems]


def rows_tx(rows: str) -> bytes:
    return text_log(
        ev(1, "EXECUTION_STARTED"),
        ev(2, "CODE_UNIT_STARTED", "[EXTERNAL]", "execute_anonymous_apex"),
        ev(3, "SOQL_EXECUTE_BEGIN", "[2]", "Aggregations:0", "SELECT Id FROM Account"),
        ev(4, "SOQL_EXECUTE_END", "[2]", f"Rows:{rows}"),
        ev(5, "DML_BEGIN", "[3]", "Op:Insert", "Type:Account", f"Rows:{rows}"),
        ev(6, "DML_END", "[3]"),
        ev(7, "SOQL_EXECUTE_BEGIN", "[4]", "Aggregations:0", "SELECT Id FROM Contact"),
        ev(8, "SOQL_EXECUTE_END", "[4]", "Rows:7"),
        ev(9, "CODE_UNIT_FINISHED", "execute_anonymous_apex"),
        ev(10, "EXECUTION_FINISHED"),
    )


# ---- item 19: numbers ----------------------------------------------------------------------------------------


def test_rows_with_a_superscript_digit_is_a_problem_not_a_value_error() -> None:
    tx, problems = one(rows_tx("\u00b2"))  # '²'.isdigit() is True, int('²') raises
    assert tx.soql_count == 2 and tx.dml_count == 1
    assert tx.soql_rows == 7 and tx.dml_rows == 0  # the bad counts are 0, the good one is kept
    assert [k for k, _ in problems] == ["invalid-field", "invalid-field"]
    assert "Rows is not a count" in problems[0][1]


def test_rows_with_5000_digits_is_a_problem_not_a_value_error() -> None:
    tx, problems = one(rows_tx("9" * 5000))  # int() refuses more than 4,300 digits
    assert tx.soql_rows == 7 and tx.dml_rows == 0
    assert [k for k, _ in problems] == ["invalid-field", "invalid-field"]
    assert all(len(m) < 400 for _, m in problems)  # the 5,000 digits are not copied into the problem


def test_numbers_int_would_accept_are_refused_too() -> None:
    for text in ("\u0663", "-5", "+5", "1_000"):  # Arabic-Indic three, signs, underscores: all int()-able
        tx, problems = one(rows_tx(text))
        assert tx.dml_rows == 0 and [k for k, _ in problems] == ["invalid-field", "invalid-field"], text


NUMBER = st.one_of(
    # ASCII digits, superscripts, and decimal digits of other scripts (Arabic-Indic, NKo, Devanagari, ...)
    st.text(
        alphabet=st.sampled_from(
            list("0123456789_+- .e\u00b2\u00b3\u00b9\u0663\u06f5\u07c0\u0967\u09e6\u0a67\u0be7\u0d67\u0e51\u0661")
        ),
        max_size=12,
    ),
    st.integers(min_value=4000, max_value=6000).map(lambda n: "7" * n),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e999", "0x1f", "", " 12 "]),
)


@settings(max_examples=300, deadline=None)
@given(rows=NUMBER, heap=NUMBER, used=NUMBER, maximum=NUMBER, line=NUMBER, nanos=NUMBER, status=NUMBER, cost=NUMBER)
def test_every_number_field_is_parsed_safely(
    rows: str, heap: str, used: str, maximum: str, line: str, nanos: str, status: str, cost: str
) -> None:
    data = text_log(
        ev(1, "EXECUTION_STARTED"),
        ev(2, "CODE_UNIT_STARTED", "[EXTERNAL]", "execute_anonymous_apex"),
        f"10:00:00.1 ({nanos})|METHOD_ENTRY|[{line}]|01p000000000001|Worker.run()",
        ev(3, "SOQL_EXECUTE_BEGIN", f"[{line}]", "Aggregations:0", "SELECT Id FROM Account"),
        ev(4, "SOQL_EXECUTE_EXPLAIN", f"[{line}]", f"TableScan on Account : [], cardinality: 2, relativeCost {cost}"),
        ev(5, "SOQL_EXECUTE_END", f"[{line}]", f"Rows:{rows}"),
        ev(6, "DML_BEGIN", f"[{line}]", "Op:Insert", "Type:Account", f"Rows:{rows}"),
        ev(7, "DML_END", f"[{line}]"),
        ev(8, "HEAP_ALLOCATE", f"[{line}]", f"Bytes:{heap}"),
        ev(9, "SOSL_EXECUTE_BEGIN", f"[{line}]", "FIND 'x'"),
        ev(10, "SOSL_EXECUTE_END", f"[{line}]", f"Rows:{rows}"),
        ev(11, "CALLOUT_REQUEST", f"[{line}]", "System.HttpRequest[Endpoint=https://x.example, Method=GET]"),
        ev(12, "CALLOUT_RESPONSE", f"[{line}]", f"System.HttpResponse[Status=OK, StatusCode={status}]"),
        ev(13, "LIMIT_USAGE_FOR_NS", "(default)", ""),
        f"  Number of SOQL queries: {used} out of {maximum}",
        "",
        ev(14, "CODE_UNIT_FINISHED", "execute_anonymous_apex"),
        ev(15, "EXECUTION_FINISHED"),
    )
    log = parse_bytes(data)
    assert {p.kind for p in log.problems} <= KNOWN_KINDS
    assert len(log.transactions) == 1
    tx = log.transactions[0]
    numbers = [tx.soql_rows, tx.dml_rows, tx.sosl_rows, tx.heap_allocated]
    numbers += [u.used for ns in tx.limits.values() for u in ns.values()]
    numbers += [u.max for ns in tx.limits.values() for u in ns.values()]
    numbers += [c.status_code for c in tx.callouts if c.status_code is not None]
    assert all(isinstance(n, int) and 0 <= n < 10**18 for n in numbers)
    for stat in tx.soql:
        assert stat.relative_cost is None or stat.relative_cost == stat.relative_cost  # never NaN
    transaction_row("x.log", tx)  # the summary builds


# ---- item 20: event lines without (nanos) ---------------------------------------------------------------------


def test_old_format_limit_block_without_nanos_keeps_its_limits() -> None:
    log = parse_file(OLD_FORMAT)
    assert log.problems == [] and log.unknown_events == {}
    (tx,) = log.transactions
    default = tx.limits["(default)"]
    assert (default["soql_queries"].used, default["soql_queries"].max) == (1, 100)
    assert (default["dml_rows"].used, default["cpu_time"].used) == (3, 41)
    assert default["number_of_code_statements"].max == 200000
    assert len(default) == 15 and tx.cpu_ms == 41
    # the nanos-less block is placed after the CUMULATIVE_LIMIT_USAGE line it follows (same wall-clock ms)
    assert [s.nanos for s in tx.limit_snapshots] == [836128000]
    assert tx.duration_ns == 839020000 - 34118000


def test_a_log_without_any_nanos_is_timed_by_its_wall_clock_across_midnight() -> None:
    data = text_log(
        "23:59:59.500|EXECUTION_STARTED",
        "23:59:59.500|CODE_UNIT_STARTED|[EXTERNAL]|execute_anonymous_apex",
        "23:59:59.750|SOQL_EXECUTE_BEGIN|[1]|Aggregations:0|SELECT Id FROM Account",
        "23:59:59.900|SOQL_EXECUTE_END|[1]|Rows:2",
        "00:00:00.250|LIMIT_USAGE_FOR_NS|(default)|",
        "  Number of SOQL queries: 1 out of 100",
        "",
        "00:00:00.300|CODE_UNIT_FINISHED|execute_anonymous_apex",
        "00:00:00.500|EXECUTION_FINISHED",
        header="24.0 APEX_CODE,DEBUG;APEX_PROFILING,INFO;DB,INFO",
    )
    tx, problems = one(data)
    assert problems == []
    assert tx.entry_point == "execute_anonymous_apex" and tx.start_clock == "23:59:59.500"
    assert tx.duration_ns == 1_000_000_000  # 23:59:59.5 -> 00:00:00.5 over midnight
    assert tx.soql[0].total_ns == 150_000_000 and tx.soql[0].rows == 2
    assert tx.limit_snapshots[0].nanos == 750_000_000
    assert tx.limits["(default)"]["soql_queries"].used == 1


def test_a_wall_clock_step_back_does_not_make_time_run_backwards() -> None:
    data = text_log(
        "10:00:01.000|EXECUTION_STARTED",
        "10:00:00.900|CODE_UNIT_STARTED|[EXTERNAL]|execute_anonymous_apex",
        "10:00:01.200|CODE_UNIT_FINISHED|execute_anonymous_apex",
        "10:00:01.300|EXECUTION_FINISHED",
    )
    tx, problems = one(data)
    assert problems == [] and tx.duration_ns == 300_000_000
    assert all(m.total_ns >= 0 for m in tx.top_methods)


# ---- item 21: counts when the DB category is not logged ------------------------------------------------------


def test_counts_come_from_the_limit_block_when_db_events_are_not_logged() -> None:
    data = text_log(
        ev(1, "EXECUTION_STARTED"),
        ev(2, "CODE_UNIT_STARTED", "[EXTERNAL]", "execute_anonymous_apex"),
        ev(3, "DML_BEGIN", "[3]", "Op:Insert", "Type:Account", "Rows:1"),
        ev(4, "DML_END", "[3]"),
        ev(5, "CUMULATIVE_LIMIT_USAGE"),
        ev(5, "LIMIT_USAGE_FOR_NS", "(default)", ""),
        "  Number of SOQL queries: 2 out of 100",
        "  Number of DML statements: 1 out of 150",
        "",
        ev(5, "LIMIT_USAGE_FOR_NS", "acme", ""),
        "  Number of SOQL queries: 1 out of 100",
        "  Number of DML statements: 0 out of 150",
        "",
        ev(5, "CUMULATIVE_LIMIT_USAGE_END"),
        ev(9, "CODE_UNIT_FINISHED", "execute_anonymous_apex"),
        ev(10, "EXECUTION_FINISHED"),
        header="64.0 APEX_CODE,FINE;APEX_PROFILING,FINE;DB,NONE",
    )
    tx, _ = one(data)
    assert (tx.soql_count, tx.dml_count) == (0, 1)  # what the events show
    row = transaction_row("x.log", tx)
    assert (row["soql"], row["soql_source"]) == (3, "limits")  # summed over namespaces: 2 + 1
    assert (row["dml"], row["dml_source"]) == (1, "events")  # a tie: the events win


def test_counts_come_from_events_when_there_is_no_limit_block() -> None:
    tx, _ = one(rows_tx("1"))
    row = transaction_row("x.log", tx)
    assert (row["soql"], row["soql_source"], row["dml"], row["dml_source"]) == (2, "events", 1, "events")


# ---- the whole command on malformed input ----------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    body=st.lists(
        st.sampled_from(
            [
                ev(1, "EXECUTION_STARTED"),
                ev(2, "CODE_UNIT_STARTED", "[EXTERNAL]", "execute_anonymous_apex"),
                ev(3, "SOQL_EXECUTE_END", "[2]", "Rows:\u00b2"),
                ev(4, "DML_BEGIN", "[3]", "Op:Insert", "Rows:" + "9" * 5000),
                "16:35:35.836|LIMIT_USAGE_FOR_NS|(default)|",
                "  Number of SOQL queries: \u0663 out of 100",
                "  Number of DML statements: 2 out of 150",
                ev(5, "METHOD_EXIT", "[9]", "Nobody.x()"),
                "\x1b[31m\x00junk",
                ev(6, "FATAL_ERROR", "System.LimitException: Too many SOQL queries: 101"),
                ev(7, "EXECUTION_FINISHED"),
            ]
        ),
        max_size=30,
    ),
    encoding=st.sampled_from(["utf-8", "utf-16"]),
)
def test_analyze_json_never_fails_on_malformed_logs(body: list[str], encoding: str) -> None:
    import json
    import tempfile
    from pathlib import Path

    from sfops.cli.app import invoke

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "odd.log"
        path.write_bytes(("\n".join([HEADER, *body]) + "\n").encode(encoding))
        code, out, err = invoke(["logs", "analyze", str(path), "--json"], env={})
        assert code == 0 and "Traceback" not in out + err
        result = json.loads(out)["result"]
        assert len(result["transactions"]) == len(result["logs"][0]["log"]["transactions"])
