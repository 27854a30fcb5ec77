"""Rendering: JSON envelope, tables, CSV, error envelope."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json

from rich.console import Console

from sfops.cli.output import Result, render, render_error, to_jsonable
from sfops.errors import ExitCode, RecordLockedError, UsageError


@dataclasses.dataclass
class Row:
    name: str
    at: dt.datetime
    on: bool


def console() -> Console:
    return Console(file=io.StringIO(), width=120)


def test_json_envelope_converts_dataclasses_and_datetimes() -> None:
    c = console()
    at = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
    render(Result(data=[Row("A", at, True)], warnings=["w"], exit_code=ExitCode.PARTIAL), as_json=True, console=c)
    body = json.loads(c.file.getvalue())
    assert body == {
        "status": 68,
        "result": [{"name": "A", "at": "2026-11-26T12:00:00+00:00", "on": True}],
        "warnings": ["w"],
    }


def test_table_and_csv() -> None:
    rows = [{"switch": "New_Pricing__c", "on": False}, {"switch": "External_Sync__c", "on": True}]
    c = console()
    render(Result(data=rows, message="2 switches"), as_json=False, console=c)
    text = c.file.getvalue()
    assert "New_Pricing__c" in text and "no" in text and "2 switches" in text
    c = console()
    render(Result(data=rows), as_json=False, console=c, fmt="csv")
    assert c.file.getvalue().splitlines() == ["switch,on", "New_Pricing__c,no", "External_Sync__c,yes"]


def test_error_envelope_keeps_salesforce_code() -> None:
    c = console()
    render_error(RecordLockedError("locked", error_code="UNABLE_TO_LOCK_ROW", status=400), as_json=True, console=c)
    body = json.loads(c.file.getvalue())
    assert body["code"] == "UNABLE_TO_LOCK_ROW" and body["exitCode"] == 1 and body["httpStatus"] == 400
    c = console()
    render_error(UsageError("bad", actions=["do x"]), as_json=False, console=c)
    assert "Error (UsageError): bad" in c.file.getvalue() and "Try: do x" in c.file.getvalue()


def test_nan_becomes_null() -> None:
    assert to_jsonable({"x": float("nan")}) == {"x": None}


def test_brackets_in_data_and_warnings_are_printed_not_taken_as_markup() -> None:
    c = console()
    render(
        Result(
            data=[{"summary": "Orders [prod] failing [bold]x"}],
            warnings=["No [alerts.escalation] levels"],
            title="Incidents",
        ),
        as_json=False,
        console=c,
    )
    out = c.file.getvalue()
    assert "Orders [prod] failing [bold]x" in out
    assert "Warning: No [alerts.escalation] levels" in out


def test_when_text_shows_utc_minutes_and_a_dash_for_none() -> None:
    import datetime as dt

    from sfops.cli.output import when_text

    moment = dt.datetime(2026, 3, 1, 10, 30, 15, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert when_text(moment) == "2026-03-01 09:30 UTC"
    assert when_text(None) == "-"
