"""Circuit_Breaker__c rows <-> breaker snapshots (the contract shared with the Apex CircuitBreaker)."""

from __future__ import annotations

import datetime as dt

from sfops.breakers import Snapshot, State
from sfops.breakers.records import FIELDS, changed_fields, row_view, snapshot_from_row, state_from_text

ALL = {name for name, _ in FIELDS.values()}


def test_a_record_as_written_by_apex_reads_back_as_a_snapshot() -> None:
    row = {
        "Id": "a01000000000001AAA",
        "Name": "ERP_Orders",
        "State__c": "Half_Open",
        "Failure_Count__c": 3.0,
        "Success_Count__c": 1.0,
        "Max_Failures__c": 5.0,
        "Cooldown_Minutes__c": 5.0,
        "Failure_Rate_Threshold__c": 50.0,
        "Minimum_Requests__c": 10.0,
        "Window_Minutes__c": 10.0,
        "Opened_At__c": "2026-11-26T12:00:00.000+0000",
        "Last_Failure__c": None,
        "Linked_Kill_Switch__c": "External_Sync__c",
        "Kill_Switch_Flipped__c": True,
    }
    snap = snapshot_from_row(row)
    assert snap.state is State.HALF_OPEN and snap.failure_count == 3 and snap.success_count == 1
    assert snap.cooldown == dt.timedelta(minutes=5) and snap.window == dt.timedelta(minutes=10)
    assert snap.failure_rate == 0.5 and snap.minimum_calls == 10 and snap.max_failures == 5
    assert snap.opened_at == dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
    assert snap.last_failure is None and snap.linked_switch == "External_Sync__c" and snap.switch_flipped
    view = row_view(row["Id"], row["Name"], snap)
    assert view.mode == "rate 50%" and view.reopens_at is None


def test_only_changed_fields_are_written_and_only_if_the_org_has_them() -> None:
    old = Snapshot(state=State.CLOSED, failure_count=4, max_failures=5)
    new = Snapshot(
        state=State.OPEN, failure_count=5, max_failures=5, opened_at=dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
    )
    assert changed_fields(new, old, ALL) == {
        "State__c": "Open",
        "Failure_Count__c": 5,
        "Opened_At__c": "2026-11-26T12:00:00.000+0000",
    }
    assert changed_fields(new, old, ALL - {"Opened_At__c"}) == {"State__c": "Open", "Failure_Count__c": 5}


def test_state_text_is_lenient() -> None:
    assert state_from_text("OPEN") is State.OPEN and state_from_text("half-open") is State.HALF_OPEN
    assert state_from_text(None) is State.CLOSED and state_from_text("") is State.CLOSED
