"""Exception events from the SOQL-queryable ApexUnexpectedExcpEventLog object where the org has it, EventLogFile
where it answers INVALID_TYPE (issue 11, item 1); ConcurrentLongRunningApexLimit events as a signal with a
default rule (item 2). Against the emulator, whose inject endpoint creates the object rows and the CSVs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from detect_support import LIMIT_EXCEPTION, Harness, config, iso
from emulator_cli_support import emulator_cli_env

from sfops.cli.app import invoke
from sfops.detect.signals import events
from sfops.logs.errors import (
    EVENT_OBJECT,
    event_object_availability,
    import_event_logs,
    import_exception_objects,
    import_long_running,
)

INVALID_TYPE = {
    "count": 1,
    "status": 400,
    "errorCode": "INVALID_TYPE",
    "method": "GET",
    "message": f"sObject type '{EVENT_OBJECT}' is not supported.",
    "path": "/services/data/v[0-9][0-9].[0-9]/query",
}  # the data API's query only (not Tooling)


def inject(emu: Any, at: dt.datetime, n: int) -> None:
    emu.control(
        "POST",
        "inject",
        {
            "exceptions": [
                {**LIMIT_EXCEPTION, "request_id": f"TID{at:%H%M%S}{i}", "at": iso(at + dt.timedelta(seconds=i))}
                for i in range(n)
            ]
        },
    )


def test_the_event_object_gives_each_exception_once_alongside_the_csvs(
    emu: Any, org: Any, store: Any, now_clock: Any
) -> None:
    start = now_clock() - dt.timedelta(minutes=5)
    inject(emu, start, 3)
    got = import_exception_objects(org, store, "emu", now=now_clock())
    assert got.available and got.imported == 3
    assert import_event_logs(org, store, "emu").imported == 3
    found = events(store, "emu", "exceptions", start - dt.timedelta(minutes=1), now_clock())
    assert len(found) == 3 and {e["source"] for e in found} == {EVENT_OBJECT}  # not 6: the CSV rows are the same
    first = found[0]
    assert first["exception_category"] == "LimitException: SoqlQueries"
    assert first["exception_type"] == "System.LimitException" and first["request_id"] == f"TID{start:%H%M%S}0"
    assert first["entry_point"] and first["user_id"].startswith("005")
    assert import_exception_objects(org, store, "emu", now=now_clock()).imported == 0  # incremental, idempotent
    assert event_object_availability(store, "emu")["available"] is True


def test_an_org_without_the_object_falls_back_to_event_log_files_quietly(
    emu: Any, org: Any, store: Any, now_clock: Any
) -> None:
    start = now_clock() - dt.timedelta(minutes=5)
    inject(emu, start, 2)
    emu.faults(fail=INVALID_TYPE)
    got = import_exception_objects(org, store, "emu", now=now_clock())
    assert not got.available and "INVALID_TYPE" in (got.note or "") and "EventLogFile" in (got.note or "")
    assert import_event_logs(org, store, "emu").imported == 2
    harness = Harness(
        org,
        store,
        now_clock,
        config("""
[detect]
defaults = false
[[detect.rules]]
name = "limit-exception-event"
"""),
    )
    assert [t.kind for t in harness.tick().transitions] == ["fired"]  # detected from the CSVs alone

    # the next ticks do not ask again (the object would answer now: the fault was for one request only)
    now_clock.advance(hours=1)
    assert import_exception_objects(org, store, "emu", now=now_clock()).imported == 0
    # after a day it is asked again, and the org that gained the object is read from it
    now_clock.advance(hours=24)
    again = import_exception_objects(org, store, "emu", now=now_clock())
    assert again.available and again.imported == 2


def test_detect_rules_says_once_which_org_reads_exceptions_from_event_log_files_only(emu: Any, tmp_path: Path) -> None:
    env = emulator_cli_env(emu, tmp_path)
    assert invoke(["logs", "pull", "--event-logs"], env)[0] == 0
    code, out, _ = invoke(["detect", "rules", "--json"], env)
    assert code == 0 and json.loads(out)["result"]["exception_sources"] == {}
    emu.faults(fail=INVALID_TYPE)
    assert invoke(["logs", "pull", "--event-logs"], env)[0] == 0
    code, out, _ = invoke(["detect", "rules"], env)
    assert code == 0 and out.count(f"{EVENT_OBJECT} is not queryable") == 1


def test_long_running_limit_events_raise_the_default_rule(emu: Any, org: Any, store: Any, now_clock: Any) -> None:
    at = now_clock() - dt.timedelta(minutes=3)
    emu.control(
        "POST",
        "inject",
        {
            "long_running": [
                {"request_uri": "/apex/QuoteConsole", "number_requests": 10, "requests_limit": 10, "at": iso(at)},
                {
                    "request_uri": "/apex/QuoteConsole",
                    "number_requests": 11,
                    "requests_limit": 10,
                    "at": iso(at + dt.timedelta(seconds=20)),
                },
            ]
        },
    )
    got = import_long_running(org, store, "emu")
    assert got.available and got.imported == 2 and got.source == "ConcurrentLongRunningApexLimit"
    [first, second] = events(store, "emu", "long_running", at - dt.timedelta(minutes=1), now_clock())
    assert (first["request_uri"], first["number_requests"], first["requests_limit"]) == ("/apex/QuoteConsole", 10, 10)
    assert second["message"] == "11 long-running Apex requests of 10 allowed: /apex/QuoteConsole denied"
    assert events(store, "emu", "exceptions", at - dt.timedelta(minutes=1), now_clock()) == []  # its own signal

    harness = Harness(org, store, now_clock, config())  # the default rules
    fired = [t for t in harness.tick().transitions if t.kind == "fired"]
    assert [t.rule.name for t in fired] == ["long-running-apex-limit"]
    incident = harness.service.get(fired[0].incident_id)
    assert incident.severity == "P2" and incident.category == "Governor Limit"
    assert incident.summary == "Concurrent long-running Apex limit hit: /apex/QuoteConsole denied (2 in 15m)"
