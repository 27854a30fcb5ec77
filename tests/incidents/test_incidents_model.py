"""Unit tests: severities, statuses, the transition table and phase stamps."""

from __future__ import annotations

import datetime as dt

import pytest

from sfops.errors import UsageError
from sfops.incidents.model import (
    TRANSITIONS,
    Incident,
    Status,
    TransitionError,
    check_transition,
    parse_severity,
    parse_status,
    stamps_for,
)
from sfops.incidents.service import derive_dedup_key

NOW = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)


def _incident(**kw: object) -> Incident:
    values: dict = {
        "id": "a03000000000001AAA",
        "org": "emu",
        "severity": "P1",
        "status": Status.NEW,
        "summary": "x",
        "detected_at": NOW - dt.timedelta(minutes=30),
    }
    values.update(kw)
    return Incident(**values)


def test_severity_and_status_parsing() -> None:
    assert parse_severity(" p2 ") == "P2"
    with pytest.raises(UsageError, match="P1, P2, P3, P4"):
        parse_severity("P5")
    assert parse_status("acknowledged") is Status.TRIAGED
    assert parse_status("resolved") is Status.RESOLVED
    with pytest.raises(UsageError, match="Statuses: New, Triaged"):
        parse_status("done")


def test_new_cannot_jump_to_resolved_and_the_error_lists_the_allowed_states() -> None:
    with pytest.raises(TransitionError) as err:
        check_transition(Status.NEW, Status.RESOLVED, "INC-1")
    assert "from New to Resolved" in err.value.message
    assert "Allowed next states: Triaged, Investigating." in err.value.message


def test_closed_is_final_and_same_state_is_reported() -> None:
    with pytest.raises(TransitionError, match="Closed is final"):
        check_transition(Status.CLOSED, Status.INVESTIGATING)
    with pytest.raises(TransitionError, match="already Triaged"):
        check_transition(Status.TRIAGED, Status.TRIAGED)


def test_every_status_can_reach_closed() -> None:
    for start in Status:
        seen, todo = {start}, [start]
        while todo:
            for nxt in TRANSITIONS[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        assert Status.CLOSED in seen, start


def test_stamps() -> None:
    inc = _incident()
    assert stamps_for(Status.NEW, Status.TRIAGED, NOW, inc) == {"acknowledged_at": NOW}
    # skipping acknowledgement acknowledges implicitly; resolving also ends the impact
    assert stamps_for(Status.TRIAGED, Status.RESOLVED, NOW, _incident(acknowledged_at=NOW)) == {
        "resolved_at": NOW,
        "mitigated_at": NOW,
    }
    earlier = NOW - dt.timedelta(minutes=5)
    mitigated = _incident(acknowledged_at=earlier, mitigated_at=earlier, status=Status.MITIGATED)
    assert stamps_for(Status.MITIGATED, Status.RESOLVED, NOW, mitigated) == {"resolved_at": NOW}
    reopened = stamps_for(Status.RESOLVED, Status.INVESTIGATING, NOW, _incident(acknowledged_at=earlier))
    assert reopened == {"resolved_at": None}


def test_derived_dedup_key_matches_the_apex_rule() -> None:
    # IncidentAlert.cls: 'auto-' + first 40 hex of SHA-256(category|source|message), null source -> 'null'
    import hashlib

    expected = "auto-" + hashlib.sha256(b"Callout|null|ERP down").hexdigest()[:40]
    assert derive_dedup_key("ERP down", "Callout", None) == expected
    assert derive_dedup_key("ERP down", None, "x") != derive_dedup_key("ERP down", None, "y")


def test_if_unmodified_since_is_rounded_up_to_the_second() -> None:
    from sfops.incidents.orgio import http_date
    from sfops.salesforce import parse_datetime

    stamp = parse_datetime("2026-11-26T18:47:17.752+0000")
    assert stamp is not None
    assert http_date(stamp) == "Thu, 26 Nov 2026 18:47:18 GMT"
    assert http_date(stamp.replace(microsecond=0)) == "Thu, 26 Nov 2026 18:47:17 GMT"


def test_repeat_counting_sends_the_precondition_and_retries_on_412() -> None:
    import json

    import responses

    from sfops.config import OrgConfig
    from sfops.incidents.service import IncidentService
    from sfops.salesforce import connect
    from sfops.store import Store

    base = "https://acme.my.salesforce.com/services/data/v64.0"
    record = {
        "Id": "a03000000000001AAA",
        "SystemModstamp": "2026-11-26T18:47:17.752+0000",
        "Name": "INC-00001",
        "Severity__c": "P2",
        "Status__c": "New",
        "Message__c": "x",
        "Dedup_Key__c": "k",
        "Occurrence_Count__c": 3.0,
    }
    org = connect(
        OrgConfig(
            alias="acme",
            auth="token",
            instance_url="https://acme.my.salesforce.com",
            login_url="https://acme.my.salesforce.com",
            max_retries=0,
            secrets={"access_token": "00D!token"},
        ),
        env={},
    )
    with responses.RequestsMock() as mock:
        mock.add(
            responses.POST,
            f"{base}/sobjects/Incident_Log__c/",
            status=400,
            json=[{"errorCode": "DUPLICATE_VALUE", "message": "duplicate value found: Dedup_Key__c", "fields": []}],
        )
        mock.add(responses.GET, f"{base}/query/", json={"totalSize": 1, "done": True, "records": [record]})
        patch_url = f"{base}/sobjects/Incident_Log__c/a03000000000001AAA"
        mock.add(
            responses.PATCH,
            patch_url,
            status=412,
            json=[{"errorCode": "PRECONDITION_FAILED", "message": "changed", "fields": []}],
        )
        mock.add(responses.PATCH, patch_url, status=204)
        svc = IncidentService(org, Store.open("sqlite://"), alias="acme", actor="t", clock=lambda: NOW)
        out = svc.raise_incident("P2", "x", dedup_key="k")
        patches = [c.request for c in mock.calls if c.request.method == "PATCH"]
    assert out.incident.occurrence_count == 4 and not out.created
    assert [p.headers["If-Unmodified-Since"] for p in patches] == ["Thu, 26 Nov 2026 18:47:18 GMT"] * 2
    assert json.loads(patches[-1].body)["Occurrence_Count__c"] == 4


def test_a_status_the_org_added_to_the_picklist_is_a_clear_error() -> None:
    from sfops.errors import SalesforceError
    from sfops.incidents.orgio import from_record

    record = {"Id": "a03000000000001AAA", "Name": "INC-00001", "Severity__c": "P2", "Status__c": "On Hold"}
    with pytest.raises(SalesforceError, match=r"has Status__c 'On Hold', which sfops does not know"):
        from_record(record, "emu")
    assert from_record({**record, "Status__c": "Triaged"}, "emu").status.value == "Triaged"
