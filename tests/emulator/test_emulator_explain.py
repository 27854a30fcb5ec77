"""The emulator's query plans in detail, through the sfops gateway over HTTPS (the third-party shape is in
test_emulator_release_conformance.py): custom indexes, the LDV thresholds, unusable filters."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.integration


def _explain(org: Any, soql: str) -> list[dict[str, Any]]:
    return org.request("GET", "query/", params={"explain": soql})["plans"]


def _seed(org: Any, count: int) -> None:
    org.composite_sobjects(
        "POST",
        [
            {"attributes": {"type": "Error_Log__c"}, "Message__c": f"m{i}", "Fingerprint__c": f"fp{i % 50}"}
            for i in range(count)
        ],
    )


def test_custom_index_cost_uses_the_custom_threshold(org: Any) -> None:
    _seed(org, 100)
    index, scan = _explain(org, "SELECT Id FROM Error_Log__c WHERE Fingerprint__c = 'fp1'")
    assert (index["leadingOperationType"], index["fields"], index["cardinality"]) == ("Index", ["Fingerprint__c"], 2)
    assert index["relativeCost"] == 0.2  # 2 rows / (10 % of 100 records)
    assert scan["leadingOperationType"] == "TableScan" and scan["sobjectCardinality"] == 100
    # ten times as many matches: above the custom threshold, and a scan is cheaper
    first, second = _explain(
        org,
        "SELECT Id FROM Error_Log__c WHERE Fingerprint__c IN "
        "('fp1','fp2','fp3','fp4','fp5','fp6','fp7','fp8','fp9','fp10')",
    )
    assert (first["leadingOperationType"], second["relativeCost"]) == ("TableScan", 2.0)


def test_standard_index_on_a_lookup_and_in_list(org: Any) -> None:
    _seed(org, 20)
    user = org.identity.user_id
    index = next(
        p
        for p in _explain(org, f"SELECT Id FROM Error_Log__c WHERE CreatedById IN ('{user}')")  # noqa: S608
        if p["leadingOperationType"] == "Index"
    )
    assert index["fields"] == ["CreatedById"]
    assert index["cardinality"] == 20 and index["relativeCost"] == round(20 / 6, 4)  # above 30 % of 20 records


def test_negative_operators_and_leading_wildcards_cannot_use_an_index(org: Any) -> None:
    _seed(org, 5)
    [scan] = _explain(org, "SELECT Id FROM Error_Log__c WHERE Fingerprint__c != 'fp1' AND Name LIKE '%x'")
    assert scan["leadingOperationType"] == "TableScan"
    assert {(n["description"], n["fields"][0]) for n in scan["notes"]} == {
        ("Not considering filter for optimization because of a negative filter operator", "Fingerprint__c"),
        ("Not considering filter for optimization because unindexed", "Name"),
    }


def test_unknown_field_is_the_query_error_and_explain_runs_nothing(org: Any, emu: Any) -> None:
    from sfops.errors import SalesforceError

    with pytest.raises(SalesforceError) as err:
        _explain(org, "SELECT Nope__c FROM Account")
    assert err.value.error_code == "INVALID_FIELD"
    kinds = [e["kind"] for e in emu.requests_journal()]
    assert kinds[-1] == "rest.explain" and "rest.query" not in kinds


def test_a_configured_data_volume_drives_record_counts_and_plans(org: Any, emu: Any) -> None:
    org.composite_sobjects(
        "POST",
        [
            {"attributes": {"type": "Account"}, "Name": f"Acme {i}", "Description": "vip" if i < 2 else "plain"}
            for i in range(20)
        ],
    )
    assert emu.control("POST", "volumes", {"Account": 2_000_000}) == {"volumes": {"account": 2_000_000}}

    [scan] = _explain(org, "SELECT Id FROM Account WHERE Description = 'vip'")
    index = _explain(org, "SELECT Id FROM Account WHERE Name = 'Acme 1'")[0]
    counts = org.request("GET", "limits/recordCount", params={"sObjects": "Account"})["sObjects"]

    assert (scan["sobjectCardinality"], scan["cardinality"]) == (2_000_000, 200_000)  # 2 of 20 rows, scaled
    assert scan["relativeCost"] == 13.0  # 0.65 x 2,000,000 / 100,000
    assert index["leadingOperationType"] == "Index" and index["cardinality"] == 100_000
    assert index["relativeCost"] == round(100_000 / 450_000, 4)  # standard: 30 % of 1M + 15 % of 1M
    assert counts == [{"count": 2_000_000, "name": "Account"}]
    refused = emu.session().post(f"{emu.url}/__emulator__/volumes", json={"Nope__c": 5}, timeout=30)
    assert refused.status_code == 400 and refused.json() == {"error": "unknown object Nope__c"}
    assert emu.control("DELETE", "volumes") == {"volumes": {}}
    assert org.request("GET", "limits/recordCount", params={"sObjects": "Account"})["sObjects"][0]["count"] == 20
    emu.control("POST", "volumes", {"Contact": 10})
    emu.reset()
    assert emu.control("GET", "volumes") == {"volumes": {}}


def test_a_list_view_id_is_explained_as_its_objects_query(org: Any) -> None:
    from sfops.errors import SalesforceError

    views = org.request("GET", "sobjects/Account/listviews")["listviews"]
    every = next(v for v in views if v["developerName"] == "AllAccounts")
    plans = _explain(org, every["id"])
    assert plans[-1]["leadingOperationType"] == "TableScan" and plans[-1]["sobjectType"] == "Account"
    with pytest.raises(SalesforceError) as err:
        _explain(org, "00O000000000001AAA")  # a report id: none exist
    assert err.value.error_code == "INVALID_ID"
