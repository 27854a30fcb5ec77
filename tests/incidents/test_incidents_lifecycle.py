"""Lifecycle against the emulator over HTTPS: raise, dedup, transitions and stamps, Incident_Event__e,
the local mirror and the timeline (including sfops actions from the audit trail)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from clock_support import Clock

from sfops.emulator.testing import RunningEmulator
from sfops.errors import UsageError
from sfops.incidents import records
from sfops.incidents.model import Status, TransitionError
from sfops.incidents.service import IncidentService
from sfops.salesforce import Org, parse_datetime
from sfops.store import Store

pytestmark = pytest.mark.integration


@pytest.fixture
def service(org: Org, store: Store, clock: Clock) -> IncidentService:
    return IncidentService(org, store, alias="emu", actor="alice", clock=clock)


def _events(emu: RunningEmulator) -> list[dict]:
    return [e["fields"] for e in emu.control("GET", "events")["events"] if e["sobject"] == "Incident_Event__e"]


def test_raise_writes_the_org_record_and_the_mirror(
    service: IncidentService, org: Org, store: Store, emu: RunningEmulator, clock: Clock
) -> None:
    out = service.raise_incident(
        "P1",
        "Order sync failing: HTTP 503 from ERP",
        context='{"class": "OrderSync"}',
        category="Integration",
        dedup_key="erp-503",
        source="breaker:erp",
        release="R42",
    )
    assert out.created
    record = org.get("Incident_Log__c", out.incident.id)
    assert record["Severity__c"] == "P1" and record["Status__c"] == "New"
    assert record["Message__c"] == "Order sync failing: HTTP 503 from ERP"
    assert record["Dedup_Key__c"] == "erp-503" and record["Occurrence_Count__c"] == 1
    assert record["Category__c"] == "Integration" and record["Release__c"] == "R42"
    assert parse_datetime(record["Detected_At__c"]) == clock.now
    mirrored = records.load_incident(store, "emu", out.incident.id)
    assert mirrored is not None and mirrored.summary == record["Message__c"] and mirrored.status is Status.NEW
    # P1 publishes a PagerDuty-shaped trigger event
    (event,) = _events(emu)
    assert event["Event_Action__c"] == "trigger" and event["Severity__c"] == "critical"
    assert event["Dedup_Key__c"] == "erp-503" and event["Incident_Id__c"] == out.incident.id
    assert event["Summary__c"] == "[P1] Order sync failing: HTTP 503 from ERP"
    assert out.event and out.event["published"] and out.event["uuid"]


def test_p3_does_not_publish_an_event(service: IncidentService, emu: RunningEmulator) -> None:
    out = service.raise_incident("P3", "Report times out")
    assert out.event is None and _events(emu) == []


def test_dedup_counts_repeats_on_one_record(
    service: IncidentService, org: Org, emu: RunningEmulator, clock: Clock
) -> None:
    first = service.raise_incident("P2", "CPU limit in OrderTrigger", dedup_key="cpu-order")
    clock.advance(minutes=5)
    second = service.raise_incident("P2", "CPU limit in OrderTrigger again", dedup_key="cpu-order")
    clock.advance(minutes=5)
    third = service.raise_incident("P2", "CPU limit", dedup_key="cpu-order")
    assert not second.created and not third.created
    assert second.incident.id == third.incident.id == first.incident.id
    rows = org.query("SELECT Id, Occurrence_Count__c, Last_Seen_At__c, Message__c FROM Incident_Log__c")
    assert len(rows) == 1
    assert rows[0]["Occurrence_Count__c"] == 3
    assert parse_datetime(rows[0]["Last_Seen_At__c"]) == clock.now
    assert rows[0]["Message__c"] == "CPU limit in OrderTrigger"  # the first summary stays
    # plain repeats of an open incident do not page again
    assert [e["Event_Action__c"] for e in _events(emu)] == ["trigger"]


def test_a_more_severe_repeat_escalates_and_pages_again(
    service: IncidentService, org: Org, emu: RunningEmulator
) -> None:
    service.raise_incident("P3", "Slow callouts", dedup_key="slow")
    out = service.raise_incident("P1", "Slow callouts: all failing now", dedup_key="slow")
    assert out.escalated and out.incident.severity == "P1"
    assert org.get("Incident_Log__c", out.incident.id)["Severity__c"] == "P1"
    assert [(e["Event_Action__c"], e["Severity__c"]) for e in _events(emu)] == [("trigger", "critical")]


def test_concurrent_repeats_are_all_counted(service: IncidentService, org: Org) -> None:
    service.raise_incident("P2", "Row lock on Account", dedup_key="lock")
    errors: list[BaseException] = []

    def repeat() -> None:
        try:
            service.raise_incident("P2", "Row lock on Account", dedup_key="lock")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=repeat) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    (row,) = org.query("SELECT Occurrence_Count__c FROM Incident_Log__c WHERE Dedup_Key__c = 'lock'")
    assert row["Occurrence_Count__c"] == 7


def test_full_lifecycle_with_stamps_and_events(
    service: IncidentService, org: Org, emu: RunningEmulator, clock: Clock
) -> None:
    start = clock.now
    inc = service.raise_incident("P2", "Checkout broken", dedup_key="checkout").incident
    clock.advance(minutes=4)
    service.acknowledge(inc.id, note="on it")
    clock.advance(minutes=6)
    service.update(inc.id, status="Investigating", note="looking at the last deploy")
    clock.advance(minutes=10)
    service.mitigate(inc.id, note="kill switch off")
    clock.advance(minutes=20)
    service.resolve(inc.id, resolution="Rolled back R42", root_cause="Null check removed in OrderService")
    clock.advance(minutes=60)
    final = service.close(inc.id).incident
    record = org.get("Incident_Log__c", inc.id)
    assert record["Status__c"] == "Closed"
    assert parse_datetime(record["Acknowledged_At__c"]) == start + dt.timedelta(minutes=4)
    assert parse_datetime(record["Mitigated_At__c"]) == start + dt.timedelta(minutes=20)
    assert parse_datetime(record["Resolved_At__c"]) == start + dt.timedelta(minutes=40)
    assert parse_datetime(record["Closed_At__c"]) == start + dt.timedelta(minutes=100)
    assert record["Resolution__c"] == "Rolled back R42"
    assert record["Root_Cause__c"] == "Null check removed in OrderService"
    assert final.status is Status.CLOSED
    assert [e["Event_Action__c"] for e in _events(emu)] == ["trigger", "acknowledge", "resolve"]
    moves = [
        (e["status_from"], e["status_to"])
        for e in records.events(service.store, "emu", inc.id)
        if e["kind"] == "status"
    ]
    assert moves == [
        ("New", "Triaged"),
        ("Triaged", "Investigating"),
        ("Investigating", "Mitigated"),
        ("Mitigated", "Resolved"),
        ("Resolved", "Closed"),
    ]


def test_transitions_are_enforced_against_the_org_state(service: IncidentService, org: Org) -> None:
    inc = service.raise_incident("P4", "Label typo").incident
    with pytest.raises(TransitionError, match="Allowed next states: Triaged, Investigating"):
        service.resolve(inc.id, resolution="fixed")
    # someone acknowledged it in Salesforce meanwhile: the service reads the org state first
    org.update("Incident_Log__c", inc.id, {"Status__c": "Triaged"})
    with pytest.raises(TransitionError, match="already Triaged"):
        service.acknowledge(inc.id)
    assert service.resolve(inc.id, resolution="fixed").previous is Status.TRIAGED
    with pytest.raises(UsageError, match="--resolution"):
        service.resolve(inc.id, resolution=" ")


def test_recurrence_after_resolution_pages_again(service: IncidentService, emu: RunningEmulator) -> None:
    inc = service.raise_incident("P1", "Integration user locked out", dedup_key="locked").incident
    service.acknowledge(inc.id)
    service.resolve(inc.id, resolution="unlocked")
    again = service.raise_incident("P1", "Integration user locked out", dedup_key="locked")
    assert again.recurred and not again.created and again.incident.status is Status.RESOLVED
    assert [e["Event_Action__c"] for e in _events(emu)] == ["trigger", "acknowledge", "resolve", "trigger"]


def test_lookup_by_unknown_ref_is_a_usage_error(service: IncidentService) -> None:
    with pytest.raises(UsageError, match="No incident 'INC-99999'"):
        service.get("INC-99999")


def test_timeline_merges_notes_and_audit_records_of_sfops_actions(
    service: IncidentService, store: Store, clock: Clock
) -> None:
    inc = service.raise_incident("P1", "Orders failing", dedup_key="orders").incident
    clock.advance(minutes=1)
    service.update(inc.id, note="suspect release R42")
    store.record_audit(
        actor="bob",
        alias="emu",
        action="switch.off",
        target="Kill_Switch__c.Order_Sync__c",
        before=True,
        after=False,
        reason="stop the bleeding",
        incident_id=inc.id,
    )
    store.record_audit(
        actor="bob", alias="emu", action="breaker.open", target="Circuit_Breaker__c.erp", incident_id=inc.id[:15]
    )
    store.record_audit(
        actor="bob", alias="emu", action="switch.off", target="Kill_Switch__c.Other__c", incident_id="someone-else"
    )
    _, timeline = service.timeline(inc.id)
    kinds = [e.kind for e in timeline]
    assert kinds.count("switch.off") == 1 and "breaker.open" in kinds
    assert any(e.kind == "note" and e.text == "suspect release R42" for e in timeline)
    flip = next(e for e in timeline if e.kind == "switch.off")
    assert "Kill_Switch__c.Order_Sync__c" in flip.text and "stop the bleeding" in flip.text and flip.actor == "bob"
    assert timeline == sorted(timeline, key=lambda e: e.at)


def test_list_filters(service: IncidentService) -> None:
    a = service.raise_incident("P1", "A", dedup_key="a").incident
    service.raise_incident("P3", "B", dedup_key="b")
    service.acknowledge(a.id)
    assert [i.summary for i in service.find(severities=["p1"])] == ["A"]
    assert [i.summary for i in service.find(statuses=["New"])] == ["B"]
    assert sorted(i.summary for i in service.find(open_only=True)) == ["A", "B"]
    service.resolve(a.id, resolution="ok")
    assert [i.summary for i in service.find(open_only=True)] == ["B"]


def test_a_concurrent_change_during_counting_is_retried(
    service: IncidentService, org: Org, emu: RunningEmulator
) -> None:
    inc = service.raise_incident("P2", "Row lock", dedup_key="lock-412").incident
    # the org refuses the first counting PATCH as if the record changed since it was read
    emu.faults(
        fail={
            "count": 1,
            "status": 412,
            "errorCode": "PRECONDITION_FAILED",
            "message": "The record changed",
            "method": "PATCH",
            "path": f"/services/data/*/sobjects/Incident_Log__c/{inc.id}",
        }
    )
    start = len(emu.requests_journal())
    out = service.raise_incident("P2", "Row lock", dedup_key="lock-412")
    assert out.incident.occurrence_count == 2
    patches = [e for e in emu.requests_journal()[start:] if e.get("method") == "PATCH"]
    assert len(patches) == 2
    assert org.get("Incident_Log__c", inc.id)["Occurrence_Count__c"] == 2


def test_a_failed_event_publish_keeps_the_incident_and_says_so(
    service: IncidentService, org: Org, emu: RunningEmulator
) -> None:
    emu.faults(
        fail={
            "count": 10,
            "status": 503,
            "errorCode": "SERVER_UNAVAILABLE",
            "method": "POST",
            "path": "/services/data/*/sobjects/Incident_Event__e*",
        }
    )
    out = service.raise_incident("P1", "Everything down", dedup_key="down")
    assert out.created and out.event is not None and out.event["published"] is False
    assert org.get("Incident_Log__c", out.incident.id)["Status__c"] == "New"
    _, timeline = service.timeline(out.incident.id)
    assert any(e.kind == "event_failed" and "trigger" in e.text for e in timeline)


def test_reference_by_dedup_key_even_when_it_looks_like_an_id(service: IncidentService) -> None:
    inc = service.raise_incident("P3", "Batch stuck", dedup_key="batchStuckNightly1").incident  # 18 alnum chars
    assert service.acknowledge("batchStuckNightly1").incident.id == inc.id
    assert service.get(inc.id).status is Status.TRIAGED
