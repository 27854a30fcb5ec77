"""Grammar corners of the streaming parser and the classifier, on small hand-built logs."""

from __future__ import annotations

import io

import pytest
from paths import APEX_LOGS

from sfops.logs import LogParser, parse_bytes
from sfops.logs.model import Transaction

HEADER = "64.0 APEX_CODE,FINE;APEX_PROFILING,INFO;CALLOUT,INFO;DB,INFO;SYSTEM,DEBUG"


def ev(ns: int, event: str, *fields: str) -> str:
    return "|".join([f"10:00:00.1 ({ns})", event, *fields])


def block(namespace: str = "(default)", **values: tuple[int, int]) -> list[str]:
    labels = {
        "soql": "Number of SOQL queries",
        "cpu": "Maximum CPU time",
        "heap": "Maximum heap size",
        "odd": "Number of Brand New Things",
    }
    lines = [ev(900, "CUMULATIVE_LIMIT_USAGE"), ev(900, "LIMIT_USAGE_FOR_NS", namespace, "")]
    lines += [f"  {labels[k]}: {u} out of {m}" for k, (u, m) in values.items()]
    return [*lines, "", ev(900, "CUMULATIVE_LIMIT_USAGE_END"), ""]


def log_text(*body: str, header: bool = True) -> bytes:
    return ("\n".join(([HEADER] if header else []) + list(body)) + "\n").encode()


def one(data: bytes, **kw: object) -> Transaction:
    log = parse_bytes(data, **kw)  # type: ignore[arg-type]
    assert len(log.transactions) == 1
    return log.transactions[0]


def failing_tx(exception: str, *extra: str) -> bytes:
    return log_text(
        ev(1, "EXECUTION_STARTED"),
        ev(2, "CODE_UNIT_STARTED", "[EXTERNAL]", "01p000000000001", "Worker.run()"),
        *extra,
        ev(50, "EXCEPTION_THROWN", "[7]", exception),
        ev(60, "FATAL_ERROR", exception),
        "",
        "Class.Worker.run: line 7, column 1",
        ev(70, "CODE_UNIT_FINISHED", "Worker.run()"),
        ev(80, "EXECUTION_FINISHED"),
    )


def test_several_transactions_per_file_each_with_its_user() -> None:
    data = log_text(
        ev(1, "USER_INFO", "[EXTERNAL]", "005000000000001", "a@example.com", "(GMT+00:00) GMT", "GMT+00:00"),
        ev(2, "EXECUTION_STARTED"),
        ev(3, "CODE_UNIT_STARTED", "[EXTERNAL]", "execute_anonymous_apex"),
        ev(4, "CODE_UNIT_FINISHED", "execute_anonymous_apex"),
        ev(10, "EXECUTION_FINISHED"),
        ev(11, "USER_INFO", "[EXTERNAL]", "005000000000002", "b@example.com", "(GMT+00:00) GMT", "GMT+00:00"),
        ev(20, "EXECUTION_STARTED"),
        ev(
            21,
            "CODE_UNIT_STARTED",
            "[EXTERNAL]",
            "01q000000000001",
            "T on Account trigger event BeforeInsert",
            "__sfdc_trigger/T",
        ),
        ev(22, "CODE_UNIT_FINISHED", "T on Account trigger event BeforeInsert", "__sfdc_trigger/T"),
        ev(50, "EXECUTION_FINISHED"),
    )
    log = parse_bytes(data)
    assert [(t.entry_point, t.username, t.duration_ns) for t in log.transactions] == [
        ("execute_anonymous_apex", "a@example.com", 8),
        ("T on Account trigger event BeforeInsert", "b@example.com", 30),
    ]
    assert log.problems == []


def test_multiline_soql_rows_time_and_explain() -> None:
    data = log_text(
        ev(1, "EXECUTION_STARTED"),
        ev(100, "SOQL_EXECUTE_BEGIN", "[5]", "Aggregations:0", "SELECT Id"),
        "\tFROM Account",
        "\tWHERE Name = 'x|y'",
        ev(150, "SOQL_EXECUTE_EXPLAIN", "[5]", "TableScan on Account : [], cardinality: 9, relativeCost 2.5"),
        ev(400, "SOQL_EXECUTE_END", "[5]", "Rows:42"),
        ev(500, "EXECUTION_FINISHED"),
    )
    tx = one(data)
    assert tx.soql_count == 1 and tx.soql_rows == 42
    stat = tx.soql[0]
    assert stat.query == "SELECT Id\n\tFROM Account\n\tWHERE Name = 'x|y'"
    assert (stat.line, stat.rows, stat.total_ns, stat.relative_cost) == (5, 42, 300, 2.5)


def test_self_time_and_unwinding_after_an_exception() -> None:
    data = log_text(
        ev(1, "EXECUTION_STARTED"),
        ev(100, "METHOD_ENTRY", "[1]", "01p", "Outer.run()"),
        ev(200, "METHOD_ENTRY", "[2]", "01p", "Inner.work()"),
        ev(250, "METHOD_ENTRY", "[3]", "01p", "Inner.deeper()"),
        ev(300, "EXCEPTION_THROWN", "[3]", "System.NullPointerException: Attempt to de-reference a null object"),
        # deeper() and work() never log their exits: the exception unwinds them
        ev(1000, "METHOD_EXIT", "[1]", "01p", "Outer.run()"),
        ev(1100, "EXECUTION_FINISHED"),
    )
    tx = one(data)
    methods = {m.name: (m.calls, m.self_ns, m.total_ns) for m in tx.top_methods}
    assert methods["Inner.deeper()"] == (1, 750, 750)
    assert methods["Inner.work()"] == (1, 50, 800)
    assert methods["Outer.run()"] == (1, 100, 900)
    assert tx.exceptions[0].stack == ["Inner.deeper()", "Inner.work()", "Outer.run()"]
    assert tx.exceptions[0].handled  # no FATAL_ERROR followed


def test_unknown_event_types_are_tolerated_and_reported_once() -> None:
    data = log_text(
        ev(1, "EXECUTION_STARTED"),
        ev(2, "BRAND_NEW_EVENT", "[1]", "x"),
        "continuation of the new event",
        ev(3, "BRAND_NEW_EVENT", "[2]", "y"),
        ev(4, "EXECUTION_FINISHED"),
    )
    log = parse_bytes(data)
    assert log.unknown_events == {"BRAND_NEW_EVENT": 2}
    assert [(p.kind, p.line) for p in log.problems] == [("unknown-event", 3)]
    assert len(log.transactions) == 1 and not log.transactions[0].truncated


def test_limit_maxima_come_from_the_log_and_unknown_labels_get_a_key() -> None:
    tx = one(
        log_text(ev(1, "EXECUTION_STARTED"), *block(cpu=(20000, 25000), odd=(3, 7)), ev(990, "EXECUTION_FINISHED"))
    )
    usage = tx.limits["(default)"]
    assert (usage["cpu_time"].peak, usage["cpu_time"].max) == (20000, 25000)
    assert (usage["number_of_brand_new_things"].used, usage["number_of_brand_new_things"].max) == (3, 7)
    assert tx.classification.category == "none" and "cpu_time 20000 of 25000 (80%)" in tx.classification.evidence[0]


def test_heap_peak_is_the_highest_snapshot_not_the_last() -> None:
    tx = one(
        log_text(
            ev(1, "EXECUTION_STARTED"),
            *block(heap=(5000, 6000000)),
            *block(heap=(900, 6000000)),
            ev(990, "EXECUTION_FINISHED"),
        )
    )
    heap = tx.limits["(default)"]["heap_size"]
    assert (heap.used, heap.peak, tx.heap_peak) == (900, 5000, 5000)
    assert len(tx.limit_snapshots) == 2


def test_missing_execution_started_opens_an_implicit_transaction() -> None:
    data = log_text(ev(5, "METHOD_ENTRY", "[1]", "01p", "A.b()"), ev(9, "METHOD_EXIT", "[1]", "01p", "A.b()"))
    log = parse_bytes(data)
    assert [p.kind for p in log.problems] == ["missing-execution-started", "unexpected-end"]
    assert log.transactions[0].truncated and log.transactions[0].duration_ns == 4


def test_last_line_without_newline_and_crlf() -> None:
    data = log_text(ev(1, "EXECUTION_STARTED"), ev(7, "EXECUTION_FINISHED")).rstrip(b"\n").replace(b"\n", b"\r\n")
    log = parse_bytes(data)
    assert log.lines == 3 and log.problems == []
    assert log.transactions[0].duration_ns == 6 and not log.transactions[0].truncated


def test_malformed_timestamp_is_an_invalid_line_problem() -> None:
    data = log_text(ev(1, "EXECUTION_STARTED"), "10:00:00.1 (12x)|METHOD_ENTRY|[1]|x", ev(3, "EXECUTION_FINISHED"))
    log = parse_bytes(data)
    assert [p.kind for p in log.problems] == ["invalid-line"]
    assert len(log.transactions) == 1


@pytest.mark.parametrize(
    "exception,extra,category",
    [
        (
            "System.CalloutException: You have uncommitted work pending. Please commit or rollback before calling out",
            (),
            "callout",
        ),
        (
            "System.QueryException: Record Currently Unavailable: The record you are attempting to edit, or one of its "
            "related records, is currently being modified by another user. Please try again.",
            (),
            "row_lock",
        ),
        (
            "System.DmlException: Insert failed. First exception on row 0; first error: "
            "FIELD_CUSTOM_VALIDATION_EXCEPTION, Amount is required: [Amount]",
            (),
            "validation_flow",
        ),
        ("System.LimitException: Too many DML rows: 10001", (), "governor_limit"),
        ("System.TypeException: Invalid conversion from runtime type String to Integer", (), "other"),
    ],
)
def test_failure_categories(exception: str, extra: tuple[str, ...], category: str) -> None:
    c = one(failing_tx(exception, *extra)).classification
    assert c.category == category and c.failed and c.hint
    assert exception.split(": ", 1)[1][:40] in c.evidence[0]
    if category == "governor_limit":
        assert c.limit == "dml_rows" and c.hint.startswith("dml_rows exceeded")


def test_non_2xx_callout_response_is_a_callout_failure() -> None:
    data = log_text(
        ev(1, "EXECUTION_STARTED"),
        ev(10, "CALLOUT_REQUEST", "[4]", "System.HttpRequest[Endpoint=https://api.example.com/x, Method=GET]"),
        ev(90, "CALLOUT_RESPONSE", "[4]", "System.HttpResponse[Status=Internal Server Error, StatusCode=500]"),
        ev(99, "EXECUTION_FINISHED"),
    )
    tx = one(data)
    callout = tx.callouts[0]
    assert (callout.endpoint, callout.method, callout.status_code, callout.duration_ns) == (
        "https://api.example.com/x",
        "GET",
        500,
        80,
    )
    assert tx.classification.category == "callout"
    assert tx.classification.evidence == ["callout GET https://api.example.com/x: HTTP 500 Internal Server Error"]


def test_sharing_recalculation_comes_from_the_apexlog_operation() -> None:
    data = failing_tx(
        "System.DmlException: Update failed. first error: UNABLE_TO_LOCK_ROW, unable to obtain "
        "exclusive access to this record: []"
    )
    c = one(data, metadata={"operation": "Apex Sharing Recalculation"}).classification
    assert c.categories == ["row_lock", "sharing_recalc"]
    assert "operation: Apex Sharing Recalculation Worker.run()" in c.evidence


def test_flow_validation_error_without_exception() -> None:
    data = log_text(
        ev(1, "EXECUTION_STARTED"),
        ev(
            5,
            "FLOW_ELEMENT_ERROR",
            "This error occurred: FIELD_CUSTOM_VALIDATION_EXCEPTION: Stage is required.",
            "FlowRecordUpdate",
            "Update_Opportunity",
        ),
        ev(9, "EXECUTION_FINISHED"),
    )
    c = one(data).classification
    assert c.category == "validation_flow" and c.failed and c.fingerprint
    assert c.evidence[0].startswith("FLOW_ELEMENT_ERROR: This error occurred: FIELD_CUSTOM_VALIDATION_EXCEPTION")


def test_fingerprint_groups_repeats_and_separates_entry_points() -> None:
    a = one(failing_tx("System.LimitException: Too many SOQL queries: 101")).classification
    b = one(failing_tx("System.LimitException: Too many SOQL queries: 201")).classification
    other_entry = failing_tx("System.LimitException: Too many SOQL queries: 101").replace(
        b"Worker.run()", b"Other.run()"
    )
    c = one(other_entry).classification
    assert a.fingerprint == b.fingerprint
    assert a.fingerprint != c.fingerprint


def test_unreadable_bytes_are_replaced_not_fatal() -> None:
    data = log_text(
        ev(1, "EXECUTION_STARTED"), ev(2, "USER_DEBUG", "[1]", "DEBUG", "bad \xff byte"), ev(3, "EXECUTION_FINISHED")
    ).replace("\xff".encode(), b"\xff\xfe\xfa")
    log = parse_bytes(data)
    assert len(log.transactions) == 1 and log.problems == []


@pytest.mark.parametrize(
    "name",
    ["certinia-mcp-governor-heavy-cpu-limit-multi-ns-v64.log", "synthetic/SYNTHETIC-soql-101-trigger-loop-v64.log"],
)
def test_tiny_chunks_give_the_same_result(name: str) -> None:
    data = (APEX_LOGS / name).read_bytes()
    whole = parse_bytes(data)
    parser = LogParser(io.BytesIO(data), chunk_chars=7)
    tiny = list(parser.transactions())
    assert parser.log.lines == whole.lines and parser.log.events == whole.events
    assert parser.log.problems == whole.problems
    assert tiny == whole.transactions


def test_endless_continuation_text_is_capped() -> None:
    from sfops.logs.parser import MAX_TEXT_CHARS, MAX_TEXT_LINES

    data = log_text(
        ev(1, "EXECUTION_STARTED"),
        ev(2, "EXCEPTION_THROWN", "[1]", "System.X: start"),
        *(["x" * 100] * 1000),
        ev(3, "SOQL_EXECUTE_BEGIN", "[2]", "Aggregations:0", "SELECT Id"),
        *(["FROM Account"] * (MAX_TEXT_LINES + 100)),
        ev(4, "SOQL_EXECUTE_END", "[2]", "Rows:0"),
        ev(5, "EXECUTION_FINISHED"),
    )
    tx = one(data)
    assert MAX_TEXT_CHARS <= len(tx.exceptions[0].message) < MAX_TEXT_CHARS + 200
    assert tx.soql[0].query.count("FROM Account") == MAX_TEXT_LINES - 1


@pytest.mark.parametrize("chunk_chars", range(1, 13))
def test_every_chunk_boundary_gives_the_same_lines(chunk_chars: int) -> None:
    data = log_text(
        ev(1, "EXECUTION_STARTED"), ev(2, "USER_DEBUG", "[1]", "DEBUG", "a"), "b", "", ev(3, "EXECUTION_FINISHED")
    )
    whole = parse_bytes(data)
    parser = LogParser(io.BytesIO(data), chunk_chars=chunk_chars)
    txs = list(parser.transactions())
    assert (
        (parser.log.lines, parser.log.events, parser.log.continuation_lines)
        == (whole.lines, whole.events, whole.continuation_lines)
        == (6, 3, 3)
    )
    assert txs == whole.transactions
