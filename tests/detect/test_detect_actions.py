"""Automatic actions against the emulator: a firing rule flips only its named switch, behind the guard rails
(observe mode, quiet windows, the hourly budget), audited with rule and incident, and undone in one call."""

from __future__ import annotations

import datetime as dt
from typing import Any

from detect_support import LIMIT_EXCEPTION, Harness, config, iso

from sfops.detect import actions_log, undo
from sfops.logs.errors import import_event_logs
from sfops.switches import list_switches


def rules(extra: str = "", *, per_fingerprint: bool = False) -> str:
    return f"""
[detect]
defaults = false
{extra}
[[detect.rules]]
name = "limits-off"
signal = "exceptions"
threshold = 1
window = "15m"
severity = "P1"
{"" if per_fingerprint else 'group_by = ["exception_type"]'}
actions = [{{ type = "switch_off", switch = "New_Pricing__c" }}]
"""


def switch_value(org: Any, store: Any) -> bool:
    return next(r.org_value for r in list_switches(org, store) if r.name == "New_Pricing__c")


def fail(emu: Any, org: Any, store: Any, at: dt.datetime, **extra: Any) -> None:
    emu.control("POST", "inject", {"exceptions": [{**LIMIT_EXCEPTION, **extra, "at": iso(at)}]})
    import_event_logs(org, store, "emu")


def test_firing_rule_flips_its_switch_audited_and_undone_in_one_call(
    emu: Any, org: Any, store: Any, now_clock: Any
) -> None:
    assert switch_value(org, store) is True
    fail(emu, org, store, now_clock() - dt.timedelta(minutes=1))
    result = Harness(org, store, now_clock, config(rules())).tick()
    (fired,) = [t for t in result.transitions if t.kind == "fired"]
    assert [a["outcome"] for a in fired.actions] == ["done"]
    assert switch_value(org, store) is False
    (entry,) = [r for r in actions_log(store, "emu", now_clock() - dt.timedelta(hours=1))]
    assert entry["details"]["rule"] == "limits-off" and entry["incident_id"] == fired.incident_id
    assert entry["details"]["incident"] == fired.incident_ref
    undone = undo(org, store, entry["id"], alias="emu", actor="alice")
    assert undone["value"] is True and switch_value(org, store) is True
    try:
        undo(org, store, entry["id"], alias="emu", actor="alice")
    except Exception as exc:
        assert "already undone" in str(exc)
    else:
        raise AssertionError("a second undo must be refused")


def test_observe_mode_records_what_would_have_been_done(emu: Any, org: Any, store: Any, now_clock: Any) -> None:
    fail(emu, org, store, now_clock() - dt.timedelta(minutes=1))
    result = Harness(org, store, now_clock, config(rules('mode = "observe"'))).tick()
    (fired,) = [t for t in result.transitions if t.kind == "fired"]
    assert fired.actions[0]["outcome"] == "observed" and fired.actions[0]["why"] == "observe mode"
    assert switch_value(org, store) is True
    assert [r["outcome"] for r in actions_log(store, "emu", now_clock() - dt.timedelta(hours=1))] == ["observed"]


def test_hourly_budget_and_quiet_window_refuse_actions(emu: Any, org: Any, store: Any, now_clock: Any) -> None:
    harness = Harness(org, store, now_clock, config(rules("max_actions_per_hour = 1", per_fingerprint=True)))
    fail(emu, org, store, now_clock() - dt.timedelta(minutes=2))
    first = [t for t in harness.tick().transitions if t.kind == "fired"]
    assert [a["outcome"] for t in first for a in t.actions] == ["done"]
    now_clock.advance(minutes=1)
    fail(emu, org, store, now_clock() - dt.timedelta(seconds=10), stack_trace="Class.Other.run: line 9, column 1")
    second = [t for t in harness.tick().transitions if t.kind == "fired"]
    assert len(second) == 1 and second[0].actions[0]["outcome"] == "refused"
    assert "max_actions_per_hour = 1" in second[0].actions[0]["why"]

    now = now_clock()
    start, end = (now - dt.timedelta(hours=1)).isoformat(), (now + dt.timedelta(hours=1)).isoformat()
    quiet = f'quiet = [{{ start = "{start}", end = "{end}" }}]'
    harness.cfg = config(rules(quiet, per_fingerprint=True))
    now_clock.advance(minutes=1)
    fail(emu, org, store, now_clock() - dt.timedelta(seconds=10), stack_trace="Class.Third.run: line 1, column 1")
    third = [t for t in harness.tick().transitions if t.kind == "fired"]
    assert third[0].actions[0]["outcome"] == "refused" and "quiet window" in third[0].actions[0]["why"]


def test_breaker_and_trace_actions_run_and_undo(emu: Any, org: Any, store: Any, now_clock: Any) -> None:
    org.create(
        "Circuit_Breaker__c",
        {
            "Name": "ERP_Orders",
            "Max_Failures__c": 3,
            "Cooldown_Minutes__c": 5,
            "State__c": "Closed",
            "Failure_Count__c": 0,
        },
    )
    cfg = config("""
[detect]
defaults = false
[[detect.rules]]
name = "limits-contain"
signal = "exceptions"
threshold = 1
severity = "P2"
actions = [{ type = "breaker_open", breaker = "ERP_Orders" }, { type = "trace", user = "{user_id}", minutes = 20 }]
""")
    fail(emu, org, store, now_clock() - dt.timedelta(minutes=1))
    (fired,) = [t for t in Harness(org, store, now_clock, cfg).tick().transitions if t.kind == "fired"]
    assert [(a["type"], a["outcome"]) for a in fired.actions] == [("breaker_open", "done"), ("trace", "done")]
    state = org.query("SELECT State__c FROM Circuit_Breaker__c WHERE Name = 'ERP_Orders'")[0]["State__c"]
    assert state == "Open"
    flags = org.tooling_query("SELECT Id, TracedEntityId FROM TraceFlag WHERE LogType = 'USER_DEBUG'")
    assert any(f["TracedEntityId"][:15] == fired.actions[1]["undo"]["user"][:15] for f in flags)
    for entry in actions_log(store, "emu", now_clock() - dt.timedelta(hours=1)):
        undo(org, store, entry["id"], alias="emu", actor="alice")
    state = org.query("SELECT State__c FROM Circuit_Breaker__c WHERE Name = 'ERP_Orders'")[0]["State__c"]
    assert state == "Closed"
    assert not org.tooling_query("SELECT Id FROM TraceFlag WHERE LogType = 'USER_DEBUG'")


def test_a_failed_action_is_settled_failed_and_the_incident_stands(
    emu: Any, org: Any, store: Any, now_clock: Any
) -> None:
    cfg = config(rules().replace("New_Pricing__c", "No_Such_Switch__c"))
    fail(emu, org, store, now_clock() - dt.timedelta(minutes=1))
    (fired,) = [t for t in Harness(org, store, now_clock, cfg).tick().transitions if t.kind == "fired"]
    assert fired.incident_ref and fired.actions[0]["outcome"] == "failed"
    assert "No_Such_Switch__c" in fired.actions[0]["why"]
    (entry,) = actions_log(store, "emu", now_clock() - dt.timedelta(hours=1))
    assert entry["outcome"] == "failed" and entry["details"]["error"] == fired.actions[0]["why"]
