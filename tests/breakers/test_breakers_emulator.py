"""Circuit breakers against the emulator: the org-shared Python breaker, the breaker -> kill switch
link and its restore rule, `sfops breaker ...` with audit, and `breaker sync` for Apex transitions."""

from __future__ import annotations

import datetime as dt

import pytest
from cli_support import run_cli
from clock_support import Clock

from sfops.breakers import (
    BreakerConfig,
    CircuitBreaker,
    CircuitOpenError,
    KillSwitchLink,
    OrgStorage,
    State,
    list_breakers,
    set_breaker,
    sync_links,
)
from sfops.switches import flip, history

pytestmark = pytest.mark.integration
T0 = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def make_breaker_record(org, name: str = "ERP_Orders", **fields) -> str:  # type: ignore[no-untyped-def]
    values = {
        "Max_Failures__c": 3,
        "Cooldown_Minutes__c": 5,
        "Linked_Kill_Switch__c": "External_Sync__c",
        "State__c": "Closed",
        "Failure_Count__c": 0,
        **fields,
    }
    return org.create("Circuit_Breaker__c", {"Name": name, **values})


def record(org, name: str = "ERP_Orders") -> dict:  # type: ignore[no-untyped-def]
    soql = (
        "SELECT Id, State__c, Failure_Count__c, Success_Count__c, Opened_At__c, Last_Error__c, "  # noqa: S608
        f"Kill_Switch_Flipped__c FROM Circuit_Breaker__c WHERE Name = '{name}'"
    )
    return org.query(soql)[0]


def switch_value(org, name: str = "External_Sync__c") -> bool:  # type: ignore[no-untyped-def]
    org_id = org.query("SELECT Id FROM Organization")[0]["Id"]
    return org.query(f"SELECT {name} FROM Kill_Switch__c WHERE SetupOwnerId = '{org_id}'")[0][name]  # noqa: S608


def erp_down() -> None:
    raise ConnectionError("ERP timed out")


def org_breaker(org, store, clock: Clock, link: KillSwitchLink | None = None) -> CircuitBreaker:  # type: ignore[no-untyped-def]
    return CircuitBreaker(
        BreakerConfig("ERP_Orders", max_failures=50),
        OrgStorage(org, "ERP_Orders", store=store, clock=clock),
        listeners=[link] if link else [],
        clock=clock,
    )


def test_python_breaker_on_the_org_record_opens_flips_the_linked_switch_and_restores_it(emu, org, store) -> None:
    make_breaker_record(org)
    clock = Clock(T0)
    link = KillSwitchLink(org, store, actor="sfops-agent")
    breaker = org_breaker(org, store, clock, link)
    for _ in range(3):  # Max_Failures__c = 3 on the record wins over max_failures=50 in the config
        with pytest.raises(ConnectionError):
            breaker.call(erp_down)
    rec = record(org)
    assert rec["State__c"] == "Open" and rec["Failure_Count__c"] == 3 and rec["Opened_At__c"]
    assert rec["Last_Error__c"] == "ConnectionError: ERP timed out" and rec["Kill_Switch_Flipped__c"] is True
    assert switch_value(org) is False
    off = history(store, "emu", feature="External_Sync__c")[0]
    assert off.action == "switch.off" and off.actor == "sfops-agent"
    assert off.reason == "circuit breaker ERP_Orders opened: ConnectionError: ERP timed out"
    # Apex (or another sfops process) sees the same state through the record
    other = org_breaker(org, store, clock)
    with pytest.raises(CircuitOpenError):
        other.call(lambda: "not called")
    clock.now += dt.timedelta(minutes=6)  # Cooldown_Minutes__c = 5
    assert breaker.call(lambda: "sent") == "sent"
    rec = record(org)
    assert rec["State__c"] == "Closed" and rec["Failure_Count__c"] == 0 and rec["Kill_Switch_Flipped__c"] is False
    assert switch_value(org) is True
    on = history(store, "emu", feature="External_Sync__c")[0]
    assert on.action == "switch.on" and "closed: 1 successful probe(s)" in (on.reason or "")
    assert [o.action for o in link.outcomes] == ["switched-off", "restored"]


def test_a_switch_a_person_turned_off_stays_off_when_the_breaker_closes(emu, org, store) -> None:
    make_breaker_record(org, Max_Failures__c=1)
    flip(org, store, {"External_Sync__c": False}, actor="dana", reason="ERP migration weekend")
    clock = Clock(T0)
    link = KillSwitchLink(org, store)
    breaker = org_breaker(org, store, clock, link)
    with pytest.raises(ConnectionError):
        breaker.call(erp_down)
    clock.now += dt.timedelta(minutes=6)
    breaker.call(lambda: None)
    assert [o.action for o in link.outcomes] == ["already-off", "not-ours"]
    assert switch_value(org) is False and record(org)["Kill_Switch_Flipped__c"] is False


def test_rate_mode_thresholds_come_from_the_record(emu, org, store) -> None:
    make_breaker_record(
        org, Failure_Rate_Threshold__c=50, Minimum_Requests__c=4, Window_Minutes__c=10, Max_Failures__c=2
    )
    clock = Clock(T0)
    breaker = org_breaker(org, store, clock)
    for ok in (True, True, False, False):  # consecutive max 2 would already trip at the 4th; rate needs 50 % of 4
        if ok:
            breaker.call(lambda: None)
        else:
            with pytest.raises(ConnectionError):
                breaker.call(erp_down)
    assert breaker.state is State.OPEN and record(org)["State__c"] == "Open"


def test_force_open_close_reset_with_audit_and_link(emu, org, store) -> None:
    make_breaker_record(org, Failure_Count__c=2, Last_Error__c="HTTP 503")
    plan = set_breaker(org, store, "erp_orders", "open", actor="alice", dry_run=True)
    assert plan.dry_run and plan.after is State.OPEN and record(org)["State__c"] == "Closed"
    opened = set_breaker(org, store, "erp_orders", "open", actor="alice", reason="ERP maintenance", incident_id="INC-5")
    assert opened.before is State.CLOSED and opened.after is State.OPEN and opened.link.action == "switched-off"
    assert record(org)["State__c"] == "Open" and switch_value(org) is False
    closed = set_breaker(org, store, "ERP_Orders", "close", actor="alice", reason="ERP back")
    assert closed.link.action == "restored" and switch_value(org) is True
    rec = record(org)
    assert rec["State__c"] == "Closed" and rec["Failure_Count__c"] == 0 and rec["Last_Error__c"] == "HTTP 503"
    reset = set_breaker(org, store, "ERP_Orders", "reset", actor="alice")
    assert reset.link.action == "not-ours" and record(org)["Last_Error__c"] is None
    audits = store.audit_history(alias="emu", action_prefix="breaker.")
    assert [(a.action, a.before["state"], a.after["state"]) for a in audits] == [
        ("breaker.reset", "closed", "closed"),
        ("breaker.close", "open", "closed"),
        ("breaker.open", "closed", "open"),
    ]
    assert audits[2].incident_id == "INC-5" and audits[2].reason == "ERP maintenance"


def test_sync_applies_links_for_breakers_apex_moved(emu, org, store) -> None:
    rid = make_breaker_record(org)
    make_breaker_record(org, "Slack_Alerts", Linked_Kill_Switch__c=None)
    org.update("Circuit_Breaker__c", rid, {"State__c": "Open", "Last_Error__c": "Read timed out"})
    (outcome,) = sync_links(org, store, actor="agent")
    assert outcome.action == "switched-off" and switch_value(org) is False
    assert record(org)["Kill_Switch_Flipped__c"] is True
    assert sync_links(org, store, actor="agent") == []  # idempotent
    org.update("Circuit_Breaker__c", rid, {"State__c": "Closed", "Kill_Switch_Flipped__c": False})
    (outcome,) = sync_links(org, store, actor="agent")
    assert outcome.action == "restored" and switch_value(org) is True
    assert [b.name for b in list_breakers(org, store)] == ["ERP_Orders", "Slack_Alerts"]


def test_breaker_cli(emu, org, cli_env) -> None:
    make_breaker_record(org, Failure_Count__c=1)
    result = run_cli(["breaker", "list"], cli_env)
    assert result.exit_code == 0, result.stderr
    assert "ERP_Orders" in result.stdout, result.stderr
    assert "1/3" in result.stdout, result.stderr
    assert "External_Sync__c" in result.stdout, result.stderr
    result = run_cli(["breaker", "open", "ERP_Orders", "--reason", "ERP down", "--yes"], cli_env)
    assert result.exit_code == 0, result.stderr
    assert "closed -> open" in result.stdout, result.stderr
    assert "Kill switch External_Sync__c: switched-off" in result.stdout, result.stderr
    result = run_cli(["breaker", "show", "ERP_Orders", "--json"], cli_env)
    assert result.json["result"]["state"] == "open"
    result = run_cli(["breaker", "close", "ERP_Orders", "--reason", "back", "--dry-run"], cli_env)
    assert result.exit_code == 0 and "Dry run" in result.stdout and record(org)["State__c"] == "Open"
    result = run_cli(["breaker", "close", "ERP_Orders", "--reason", "back"], cli_env)
    assert result.exit_code == 0 and "restored" in result.stdout and switch_value(org) is True
    result = run_cli(["switch", "history", "External_Sync__c"], cli_env)
    assert "circuit breaker ERP_Orders opened: ERP down" in result.stdout
    assert "circuit breaker ERP_Orders closed" in result.stdout
    result = run_cli(["breaker", "sync"], cli_env)
    assert result.exit_code == 0 and "0 link action(s)" in result.stdout
