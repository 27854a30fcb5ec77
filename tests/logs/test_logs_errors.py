"""Error history: Error_Log__c from the emulator, EventLogFile ApexUnexpectedException CSVs from a fake org."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from cli_support import run_cli
from sqlalchemy import select

from sfops.emulator.testing import RunningEmulator
from sfops.errors import SalesforceError
from sfops.logs.errors import import_error_logs, import_event_logs
from sfops.logs.report import logs_report
from sfops.salesforce import Org
from sfops.store import Store, schema


def _events(store: Store, source: str) -> list[dict[str, Any]]:
    table = schema.error_event
    with store.engine.connect() as conn:
        rows = conn.execute(select(table).where(table.c.source == source).order_by(table.c.occurred_at))
        return [dict(r._mapping) for r in rows]


def _error_log(org: Org, minutes_ago: int, **fields: Any) -> str:
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return org.create("Error_Log__c", {"Occurred_At__c": when, **fields})


def test_error_log_records_import_incrementally_and_classify(emu: RunningEmulator, org: Org, store: Store) -> None:
    _error_log(
        org,
        30,
        Exception_Type__c="System.LimitException",
        Message__c="Too many SOQL queries: 101",
        Stack_Trace__c="Class.ContactService.sync: line 14, column 1",
        Class_Name__c="ContactService",
        Method_Name__c="sync",
    )
    _error_log(
        org,
        20,
        Exception_Type__c="System.DmlException",
        Category__c="Row Lock",
        Message__c="UNABLE_TO_LOCK_ROW, unable to obtain exclusive access to this record",
    )
    first = import_error_logs(org, store, "emu")
    assert (first.available, first.imported, first.already_stored) == (True, 2, 0)
    rows = _events(store, "Error_Log__c")
    assert [(r["exception_type"], r["category"]) for r in rows] == [
        ("System.LimitException", "governor_limit"),  # derived from the message: no Category__c
        ("System.DmlException", "Row Lock"),
    ]  # the Apex side's own category is kept
    assert rows[0]["entry_point"] == "ContactService.sync" and len(rows[0]["fingerprint"]) == 12

    again = import_error_logs(org, store, "emu")
    assert again.imported == 0 and again.already_stored >= 1  # inclusive watermark, nothing duplicated
    _error_log(org, 1, Exception_Type__c="System.CalloutException", Message__c="Read timed out")
    third = import_error_logs(org, store, "emu")
    assert third.imported == 1
    assert [r["category"] for r in _events(store, "Error_Log__c")][-1] == "callout"


def test_pull_with_errors_and_event_logs_against_the_emulator(
    emu: RunningEmulator, org: Org, cli_env: dict[str, str]
) -> None:
    # The emulator has Event Monitoring's ApexUnexpectedException files (free since Winter '25); an org
    # without them is covered by the INVALID_TYPE unit test below.
    _error_log(org, 5, Exception_Type__c="System.NullPointerException", Message__c="Attempt to de-reference")
    result = run_cli(["logs", "pull", "--errors", "--event-logs", "--json"], env=cli_env)
    assert result.exit_code == 0, result.stderr
    imports = {i["source"]: i for i in result.json["result"]["imports"]}
    assert imports["Error_Log__c"]["imported"] == 1
    assert imports["EventLogFile"]["available"] is True and imports["EventLogFile"]["imported"] == 0
    emu.control(
        "POST",
        "inject",
        {
            "exceptions": [
                {
                    "exception_type": "System.LimitException",
                    "exception_message": "Apex CPU time limit exceeded",
                    "exception_category": "LimitException: CpuTime",
                    "stack_trace": "Class.Heavy.run: line 31, column 1",
                }
            ]
        },
    )
    result = run_cli(["logs", "pull", "--errors", "--event-logs", "--json"], env=cli_env)
    assert result.exit_code == 0, result.stderr
    imports = {i["source"]: i for i in result.json["result"]["imports"]}
    assert imports["EventLogFile"]["imported"] == 1 and imports["EventLogFile"]["files"] == 1
    result = run_cli(["logs", "report", "--failures", "--json"], env=cli_env)
    failures = result.json["result"]["failures"]
    assert any(f["source"] == "Error_Log__c" and f["category"] == "other" for f in failures)
    assert any(f["source"] == "EventLogFile" and f["category"] == "governor_limit" for f in failures)


CSV = (
    b'"EVENT_TYPE","TIMESTAMP","REQUEST_ID","ORGANIZATION_ID","USER_ID","EXCEPTION_TYPE","EXCEPTION_MESSAGE",'
    b'"EXCEPTION_CATEGORY","STACK_TRACE","TIMESTAMP_DERIVED","USER_ID_DERIVED"\n'
    b'"ApexUnexpectedException","20261125101530.123","4abc","00D000000000001","005000000000001",'
    b'"System.LimitException","Apex CPU time limit exceeded","LimitException: CpuTime",'
    b'"Class.Heavy.run: line 31, column 1\nTrigger.AccountTrigger: line 3, column 1",'
    b'"2026-11-25T10:15:30.123Z","005000000000000001"\n'
    b'"ApexUnexpectedException","20261125111530.000","4abd","00D000000000001","005000000000001",'
    b'"System.QueryException","Non-selective query against large object type (more than 200000 rows)","",'
    b'"","","005000000000000001"\n'
)


class FakeEventOrg:
    """Answers the EventLogFile query and the LogFile download like the REST API does."""

    def __init__(self, files: list[dict[str, Any]], missing: bool = False) -> None:
        self.files, self.missing, self.downloads = files, missing, 0

    def query_iter(self, soql: str, batch_size: int | None = None, **_: Any) -> Iterator[dict[str, Any]]:
        if self.missing:
            raise SalesforceError("sObject type 'EventLogFile' is not supported.", error_code="INVALID_TYPE")
        assert "EventType = 'ApexUnexpectedException'" in soql
        yield from self.files

    def request(self, method: str, path: str, **_: Any) -> Any:
        assert method == "GET" and path.endswith("/LogFile")
        self.downloads += 1
        return SimpleNamespace(content=CSV)


def test_event_log_csv_rows_become_classified_errors(store: Store) -> None:
    org = FakeEventOrg(
        [
            {
                "Id": "0AT000000000001",
                "EventType": "ApexUnexpectedException",
                "LogDate": "2026-11-25T00:00:00.000+0000",
                "LogFileLength": len(CSV),
            }
        ]
    )
    result = import_event_logs(org, store, "prod")
    assert (result.available, result.files, result.imported) == (True, 1, 2)
    rows = _events(store, "EventLogFile")
    assert [(r["id"], r["category"]) for r in rows] == [
        ("0AT000000000001:0", "governor_limit"),
        ("0AT000000000001:1", "non_selective_query"),
    ]
    assert rows[0]["occurred_at"].replace(tzinfo=None) == dt.datetime(2026, 11, 25, 10, 15, 30, 123000)
    assert rows[0]["entry_point"] == "Class.Heavy.run"
    assert rows[0]["stack"].splitlines()[1] == "Trigger.AccountTrigger: line 3, column 1"
    assert rows[0]["details"] == {"exception_category": "LimitException: CpuTime"}
    assert rows[1]["occurred_at"].replace(tzinfo=None) == dt.datetime(2026, 11, 25, 11, 15, 30)

    again = import_event_logs(org, store, "prod")
    assert again.imported == 0 and again.already_stored == 1 and org.downloads == 1
    report = logs_report(store, "prod")
    assert set(report.failures["source"]) == {"EventLogFile"}
    assert sorted(report.failures["category"]) == ["governor_limit", "non_selective_query"]


def test_org_without_event_monitoring_is_unavailable_not_an_error(store: Store) -> None:
    result = import_event_logs(FakeEventOrg([], missing=True), store, "dev")
    assert result.available is False and "INVALID_TYPE" in (result.note or "")
