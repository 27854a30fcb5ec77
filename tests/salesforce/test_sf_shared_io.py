"""The gateway's shared org I/O: bounded lock retries, one-call batching of reads, datetime values."""

from __future__ import annotations

import json

import pytest
from sf_fixtures import API, INSTANCE

from sfops.errors import RecordLockedError, SalesforceError
from sfops.salesforce import LockRetry, batch_get, format_datetime, parse_datetime, query_path, with_lock_retry

JSON = "application/json"


def test_lock_retries_are_bounded_and_back_off() -> None:
    waits: list[float] = []
    calls = {"n": 0}

    def locked_twice() -> str:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise RecordLockedError("locked", error_code="UNABLE_TO_LOCK_ROW")
        return "done"

    assert with_lock_retry(locked_twice, LockRetry(sleep=waits.append)) == ("done", 3)
    assert len(waits) == 2 and 0.1 <= waits[0] <= 0.2 and 0.2 <= waits[1] <= 0.4

    def always_locked() -> None:
        raise RecordLockedError("locked", error_code="UNABLE_TO_LOCK_ROW")

    waits.clear()
    with pytest.raises(RecordLockedError):
        with_lock_retry(always_locked, LockRetry(attempts=4, sleep=waits.append))
    assert len(waits) == 3 and max(waits) <= LockRetry().max_delay


def test_other_errors_are_not_retried() -> None:
    calls = {"n": 0}

    def bad() -> None:
        calls["n"] += 1
        raise SalesforceError("nope", error_code="INVALID_FIELD")

    with pytest.raises(SalesforceError):
        with_lock_retry(bad, LockRetry(sleep=lambda _s: None))
    assert calls["n"] == 1


def test_batch_get_uses_one_plain_get_or_one_composite(org, rsps) -> None:
    rsps.get(f"{API}/sobjects/X/describe", json={"name": "X"})
    assert batch_get(org, {"d": "sobjects/X/describe"}) == {"d": {"name": "X"}}
    assert [c.request.method for c in rsps.calls] == ["GET"]

    rsps.post(
        f"{API}/composite",
        json={
            "compositeResponse": [
                {"referenceId": "a", "httpStatusCode": 200, "body": {"x": 1}},
                {"referenceId": "b", "httpStatusCode": 200, "body": {"y": 2}},
            ]
        },
    )
    assert batch_get(org, {"a": "sobjects/X/describe", "b": query_path("SELECT Id FROM Organization")}) == {
        "a": {"x": 1},
        "b": {"y": 2},
    }
    assert len(rsps.calls) == 2
    sent = json.loads(rsps.calls[1].request.body)
    assert [s["url"] for s in sent["compositeRequest"]] == [
        "/services/data/v64.0/sobjects/X/describe",
        "/services/data/v64.0/query/?q=SELECT%20Id%20FROM%20Organization",
    ]
    assert batch_get(org, {}) == {}
    assert len(rsps.calls) == 2
    assert INSTANCE in rsps.calls[1].request.url


def test_a_failed_sub_request_raises_its_typed_error(org, rsps) -> None:
    rsps.post(
        f"{API}/composite",
        json={
            "compositeResponse": [
                {"referenceId": "a", "httpStatusCode": 200, "body": {}},
                {
                    "referenceId": "b",
                    "httpStatusCode": 400,
                    "body": [{"errorCode": "INVALID_TYPE", "message": "sObject type 'X' is not supported"}],
                },
            ]
        },
    )
    with pytest.raises(SalesforceError) as info:
        batch_get(org, {"a": "x", "b": "y"})
    assert info.value.error_code == "INVALID_TYPE"


def test_salesforce_datetimes_round_trip() -> None:
    value = parse_datetime("2026-11-26T18:00:00.000+0000")
    assert value is not None and value.utcoffset() is not None
    assert format_datetime(value) == "2026-11-26T18:00:00.000+0000"
    assert format_datetime(value.replace(microsecond=123456)) == "2026-11-26T18:00:00.123+0000"
    assert parse_datetime("2026-11-26T18:00:00Z") == value
    assert parse_datetime(None) is None and parse_datetime("garbage") is None
