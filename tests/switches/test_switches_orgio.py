"""The small org adapters: bounded lock retries and one-call batching of reads."""

from __future__ import annotations

from typing import Any

import pytest

from sfops.errors import RecordLockedError, SalesforceError
from sfops.switches.orgio import RetryPolicy, batch_get, format_datetime, parse_datetime, query_path, with_lock_retry


def test_lock_retries_are_bounded_and_back_off() -> None:
    waits: list[float] = []
    calls = {"n": 0}

    def locked_twice() -> str:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise RecordLockedError("locked", error_code="UNABLE_TO_LOCK_ROW")
        return "done"

    assert with_lock_retry(locked_twice, RetryPolicy(sleep=waits.append)) == ("done", 3)
    assert len(waits) == 2 and 0.1 <= waits[0] <= 0.2 and 0.2 <= waits[1] <= 0.4

    def always_locked() -> None:
        raise RecordLockedError("locked", error_code="UNABLE_TO_LOCK_ROW")

    waits.clear()
    with pytest.raises(RecordLockedError):
        with_lock_retry(always_locked, RetryPolicy(attempts=4, sleep=waits.append))
    assert len(waits) == 3 and max(waits) <= RetryPolicy().max_delay


def test_other_errors_are_not_retried() -> None:
    calls = {"n": 0}

    def bad() -> None:
        calls["n"] += 1
        raise SalesforceError("nope", error_code="INVALID_FIELD")

    with pytest.raises(SalesforceError):
        with_lock_retry(bad, RetryPolicy(sleep=lambda _s: None))
    assert calls["n"] == 1


class FakeOrg:
    base_path = "/services/data/v64.0/"

    def __init__(self, composite_response: list[dict[str, Any]]) -> None:
        self.composite_response = composite_response
        self.calls: list[tuple[str, Any]] = []

    def request(self, method: str, path: str) -> Any:
        self.calls.append((method, path))
        return {"path": path}

    def composite(self, sub: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self.calls.append(("composite", [s["url"] for s in sub]))
        return self.composite_response


def test_batch_get_uses_one_plain_get_or_one_composite() -> None:
    single = FakeOrg([])
    assert batch_get(single, {"d": "sobjects/X/describe"}) == {"d": {"path": "sobjects/X/describe"}}
    assert single.calls == [("GET", "sobjects/X/describe")]
    multi = FakeOrg([{"referenceId": "a", "httpStatusCode": 200, "body": {"x": 1}},
                     {"referenceId": "b", "httpStatusCode": 200, "body": {"y": 2}}])
    assert batch_get(multi, {"a": "sobjects/X/describe", "b": query_path("SELECT Id FROM Organization")}) == \
        {"a": {"x": 1}, "b": {"y": 2}}
    assert multi.calls == [("composite", ["/services/data/v64.0/sobjects/X/describe",
                                          "/services/data/v64.0/query/?q=SELECT%20Id%20FROM%20Organization"])]
    assert batch_get(multi, {}) == {}


def test_a_failed_sub_request_raises_its_typed_error() -> None:
    org = FakeOrg([{"referenceId": "a", "httpStatusCode": 200, "body": {}},
                   {"referenceId": "b", "httpStatusCode": 400,
                    "body": [{"errorCode": "INVALID_TYPE", "message": "sObject type 'X' is not supported"}]}])
    with pytest.raises(SalesforceError) as info:
        batch_get(org, {"a": "x", "b": "y"})
    assert info.value.error_code == "INVALID_TYPE"


def test_salesforce_datetimes_round_trip() -> None:
    value = parse_datetime("2026-11-26T18:00:00.000+0000")
    assert value is not None and value.utcoffset() is not None
    assert format_datetime(value) == "2026-11-26T18:00:00.000+0000"
    assert parse_datetime(None) is None and parse_datetime("garbage") is None
