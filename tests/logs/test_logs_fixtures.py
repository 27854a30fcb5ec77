"""Every log in tests/data/apex-logs parses, with concrete values checked against the files themselves and
the figures in the project reference notes on Apex debug logs (apex-logs/PROVENANCE.md names the files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from paths import APEX_LOGS

from sfops.logs import ParsedLog, Transaction, parse_file

ALL_LOGS = sorted(p for p in APEX_LOGS.rglob("*.log"))
SYNC = {"soql_queries": 100, "cpu_time": 10000, "heap_size": 6000000, "queueable_jobs": 50}
ASYNC = {"soql_queries": 200, "cpu_time": 60000, "heap_size": 12000000, "queueable_jobs": 1}


def _parse(name: str) -> ParsedLog:
    return parse_file(APEX_LOGS / name)


def _only(log: ParsedLog) -> Transaction:
    assert len(log.transactions) == 1
    return log.transactions[0]


def _maxima(tx: Transaction, namespace: str = "(default)") -> dict[str, int]:
    return {k: u.max for k, u in tx.limits[namespace].items() if k in SYNC}


def _used(tx: Transaction, namespace: str = "(default)") -> dict[str, int]:
    return {k: u.peak for k, u in tx.limits[namespace].items()}


def check_minimal(log: ParsedLog) -> None:
    tx = _only(log)
    assert log.api_version == "64.0" and log.log_levels["APEX_PROFILING"] == "NONE"
    assert tx.entry_point == "execute_anonymous_apex"
    assert tx.username == "first-last@example.com" and tx.user_id == "005Ea00000R6orz"
    assert tx.duration_ns == 1810992 - 1249981
    assert len(tx.limits["(default)"]) == 13 and set(_used(tx).values()) == {0}
    assert _maxima(tx) == SYNC
    assert tx.classification.category == "none" and not tx.classification.failed
    assert log.problems == []


def check_amtrack(log: ParsedLog) -> None:
    tx = _only(log)
    assert log.api_version == "48.0"
    assert log.log_levels == {"APEX_CODE": "DEBUG", "APEX_PROFILING": "INFO"}
    # Older 12-line limit block: no "Publish Immediate DML" line.
    assert len(tx.limits["(default)"]) == 12 and "publish_immediate_dml" not in tx.limits["(default)"]
    assert tx.username is None  # a CLI run logs no USER_INFO
    assert tx.duration_ns == 25341413 - 21632799
    assert log.problems == []  # "Compiled successfully." prelude and "Execute Anonymous:" echo are accepted
    assert log.events == 11


def check_recursive(log: ParsedLog) -> None:
    tx = _only(log)
    assert log.api_version == "43.0"
    assert tx.entry_point == "RecursiveTest.testMain()"
    assert len(tx.limits["(default)"]) == 12
    names = {m.name for m in tx.top_methods}
    assert "RecursiveTest.testMain()" in names
    assert any(name.endswith(".<init>(B)") or "<init>" in name for name in names)
    assert tx.classification.category == "none" and log.problems == []


def check_fflib_normal(log: ParsedLog) -> None:
    tx = _only(log)
    assert tx.soql_count == 16 and tx.dml_count == 2  # SOQL_EXECUTE_BEGIN / DML_BEGIN lines in the file
    assert tx.dml_rows == 500
    ns = tx.limits["ffapxlib"]
    assert (ns["soql_queries"].peak, ns["soql_queries"].max) == (16, 100)
    assert (ns["query_rows"].peak, ns["query_rows"].max) == (48500, 50000)
    assert ns["query_rows"].close_to_limit
    assert (ns["dml_rows"].peak, ns["dml_statements"].peak) == (500, 2)
    # "A block is written at the end of each code unit (fflib: 9)": 9 blocks x 2 namespaces.
    assert len({s.nanos for s in tx.limit_snapshots}) == 9 and len(tx.limit_snapshots) == 18
    assert tx.exceptions == []
    assert tx.classification.category == "none"
    assert any("query_rows 48500 of 50000" in e for e in tx.classification.evidence)
    top = tx.top_methods[0]
    assert top.name == "ffapxlib.AccountDomain.delay(Integer)" and top.calls == 24
    assert tx.soql[0].relative_cost is not None


def check_fflib_cpu(log: ParsedLog) -> None:
    tx = _only(log)
    assert tx.soql_count == 17 and tx.dml_count == 2
    fatal = tx.fatal
    assert fatal is not None and fatal.type == "System.LimitException"
    assert fatal.message == "Apex CPU time limit exceeded"
    assert tx.classification.category == "governor_limit" and tx.classification.limit == "cpu_time"
    assert log.unknown_events == {"UNKNOWN_TYPE": 1}
    assert [p.kind for p in log.problems] == ["unknown-event"]
    assert _used(tx)["query_rows"] == 34712 and tx.limits["(default)"]["query_rows"].close_to_limit


def check_governor_heavy(log: ParsedLog) -> None:
    tx = _only(log)
    # The figures quoted in the reference notes (section 2.4) for this log's (default) block.
    used = _used(tx)
    assert used["soql_queries"] == 5 and used["query_rows"] == 600
    assert used["dml_statements"] == 6 and used["dml_rows"] == 1200
    assert used["cpu_time"] == 15163 and used["heap_size"] == 219591
    assert tx.limits["(default)"]["cpu_time"].close_to_limit
    assert set(tx.limits) == {"(default)", "core_pkg", "srm_pkg"}
    assert tx.limits["core_pkg"]["soql_queries"].peak == 1
    assert tx.cpu_ms == 15163 and tx.heap_peak == 219591
    fatal = tx.fatal
    assert fatal is not None and fatal.message == "Apex CPU time limit exceeded"
    assert len(fatal.stack) == 11 and fatal.stack[0] == "Class.RecursiveSearcher.search: line 31, column 1"
    assert fatal.stack[-1] == "AnonymousBlock: line 1, column 1"
    c = tx.classification
    assert c.category == "governor_limit" and c.limit == "cpu_time" and c.failed
    assert "cpu_time 15163 of 10000 (152%) in (default)" in c.evidence
    # A sliced log: exits whose entries were cut away are reported, not fatal.
    assert {p.kind for p in log.problems} == {"unmatched-exit"}
    assert tx.soql[0].relative_cost == 0.65


def check_exceptions(log: ParsedLog) -> None:
    tx = _only(log)
    types = [e.type for e in tx.exceptions]
    assert types == ["System.CalloutException"] * 3 + ["System.NullPointerException"]
    assert all(e.handled for e in tx.exceptions) and tx.fatal is None
    assert tx.exceptions[0].stack[:2] == ["SyncService.fetch(Integer)", "SyncService.run()"]
    assert [f.event for f in tx.flow_errors] == ["FLOW_ELEMENT_ERROR"]
    c = tx.classification
    assert c.category == "callout" and c.categories == ["callout", "validation_flow"]
    assert c.failed  # the flow error stopped the save
    assert _used(tx)["callouts"] == 3


def check_truncated(log: ParsedLog) -> None:
    tx = _only(log)
    assert log.truncated and tx.truncated
    assert [p.kind for p in log.problems] == ["truncated-skipped", "truncated-max-size", "unexpected-end"]
    assert "14680064" in log.problems[0].message
    assert tx.soql_count == 2 and tx.soql_rows == 350
    assert tx.end_ns == 2200000000  # last timestamp seen
    assert tx.classification.category == "none" and "truncated" in tx.classification.hint


def check_soql_101(log: ParsedLog) -> None:
    tx = _only(log)
    assert tx.soql_count == 101 and tx.soql_rows == 100
    assert len(tx.soql) == 1
    stat = tx.soql[0]
    assert (stat.line, stat.executions, stat.rows, stat.unfinished) == (14, 101, 100, 1)
    assert tx.limits["(default)"]["soql_queries"].peak == 101 and tx.limits["(default)"]["soql_queries"].max == 100
    assert tx.fatal.message == "Too many SOQL queries: 101"
    assert tx.fatal.stack == [
        "Class.ContactService.syncAccounts: line 14, column 1",
        "Trigger.ContactTrigger: line 3, column 1",
    ]
    c = tx.classification
    assert (c.category, c.limit) == ("governor_limit", "soql_queries")
    assert tx.entry_point == "ContactTrigger on Contact trigger event AfterInsert"


def check_heap(log: ParsedLog) -> None:
    tx = _only(log)
    assert _maxima(tx) == ASYNC  # async maxima are read from the log, not assumed
    assert tx.heap_peak == 12583913
    assert tx.heap_allocated == sum(300000 + 37 * k for k in range(40))
    assert (tx.classification.category, tx.classification.limit) == ("governor_limit", "heap_size")
    assert tx.entry_point == "InvoiceRollupBatch"


def check_row_lock(log: ParsedLog) -> None:
    tx = _only(log)
    assert _maxima(tx) == ASYNC
    assert (tx.dml_count, tx.dml_rows, tx.soql_rows) == (1, 200, 200)
    assert tx.classification.category == "row_lock"
    assert "UNABLE_TO_LOCK_ROW" in tx.classification.evidence[0]
    assert tx.fatal.type == "System.DmlException"
    assert log.problems == []


def check_callout_nc(log: ParsedLog) -> None:
    tx = _only(log)
    assert len(tx.callouts) == 1
    callout = tx.callouts[0]
    assert (callout.endpoint, callout.method, callout.status_code) == ("callout:Billing_API/v1/invoices", "POST", None)
    assert callout.failed
    assert tx.classification.category == "callout" and tx.fatal.message == "Read timed out"
    assert "no response logged" in " ".join(tx.classification.evidence)


def check_non_selective(log: ParsedLog) -> None:
    tx = _only(log)
    assert tx.classification.category == "non_selective_query"
    assert tx.soql[0].relative_cost == 3.1 and tx.soql[0].explain.startswith("TableScan on Case")
    assert "Data skew exists" in tx.fatal.message  # continuation lines belong to the message
    assert tx.fatal.stack == ["Class.CaseHandler.dedupe: line 33, column 1", "Trigger.CaseTrigger: line 5, column 1"]
    assert any("relativeCost 3.1" in e for e in tx.classification.evidence)


def check_old_format(log: ParsedLog) -> None:
    """API 29-era limit block (LIMIT_USAGE_FOR_NS without nanos): details in test_logs_odd_input.py."""
    tx = _only(log)
    assert log.problems == [] and log.api_version == "29.0"
    assert tx.limits["(default)"]["soql_queries"].used == 1 and tx.cpu_ms == 41
    assert tx.classification.category == "none"


EXPECTED = {
    "certinia-mcp-minimal-v64.log": check_minimal,
    "amtrack-execute-anonymous-multiline-debug-v48.log": check_amtrack,
    "sfdx-vscode-replay-recursive-finest-v43.log": check_recursive,
    "certinia-fflib-normal-v57.log": check_fflib_normal,
    "certinia-fflib-cpu-limit-v57.log": check_fflib_cpu,
    "certinia-mcp-governor-heavy-cpu-limit-multi-ns-v64.log": check_governor_heavy,
    "SYNTHETIC-certinia-mcp-exceptions-callout-timeout-v64.log": check_exceptions,
    "SYNTHETIC-certinia-mcp-truncated-skipped-maxsize-v64.log": check_truncated,
    "SYNTHETIC-soql-101-trigger-loop-v64.log": check_soql_101,
    "SYNTHETIC-heap-limit-batch-async-v64.log": check_heap,
    "SYNTHETIC-unable-to-lock-row-queueable-v64.log": check_row_lock,
    "SYNTHETIC-callout-read-timeout-named-credential-v64.log": check_callout_nc,
    "SYNTHETIC-non-selective-query-trigger-v64.log": check_non_selective,
    "SYNTHETIC-old-format-limits-without-nanos-v29.log": check_old_format,
}


def test_every_shared_log_has_expectations() -> None:
    assert ALL_LOGS, f"no logs under {APEX_LOGS}"
    assert {p.name for p in ALL_LOGS} == set(EXPECTED)


@pytest.mark.parametrize("path", ALL_LOGS, ids=lambda p: p.name)
def test_shared_log(path: Path) -> None:
    log = parse_file(path)
    assert log.size_bytes == path.stat().st_size
    for tx in log.transactions:
        assert tx.classification is not None and tx.classification.hint
    EXPECTED[path.name](log)


def test_bench_log_matches_reference_figures() -> None:
    """Section 8 of the reference notes: events, continuation lines, SOQL and DML on bench-20mb."""
    gz = APEX_LOGS / "bench" / "bench-20mb.log.gz"
    log = parse_file(gz)
    # gzip's trailer holds the uncompressed size (the notes say 21,033,752; the file here unpacks to 21,033,896).
    assert log.size_bytes == int.from_bytes(gz.read_bytes()[-4:], "little")
    assert log.events == 171874 and log.continuation_lines == 56406
    assert len(log.transactions) == 172
    assert sum(t.soql_count for t in log.transactions) == 1897
    assert sum(t.dml_count for t in log.transactions) == 230
    assert log.unknown_events == {"UNKNOWN_TYPE": 57}
    assert [p.kind for p in log.problems] == ["unknown-event"]  # reported once
    categories = [t.classification.category for t in log.transactions]
    assert categories.count("governor_limit") == 57 and categories.count("none") == 115
