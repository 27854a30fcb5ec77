"""Error shapes: codes, caret messages and REST bodies, checked against the recorded wire fixtures."""

from __future__ import annotations

import json

import pytest
from paths import WIRE

from sfops.emulator.soql import MemoryCatalog, SoqlError, execute
from sfops.emulator.soql.errors import caret_message


def _fixture_error(name: str, index: int | None = None) -> dict:
    body = json.loads((WIRE / name).read_text())
    if index is not None:
        body = body["compositeResponse"][index]["body"]
    return body[0]


def test_invalid_type_matches_the_recorded_message_exactly(now) -> None:
    recorded = _fixture_error("composite-response-invalid-type.json", 1)
    with pytest.raises(SoqlError) as info:
        execute("select count() from XYZZY", MemoryCatalog(), now=now)
    assert info.value.to_wire() == [recorded]


def test_count_body_matches_the_recorded_count_shape(run) -> None:
    recorded = json.loads((WIRE / "composite-response-invalid-type.json").read_text())
    count_body = recorded["compositeResponse"][0]["body"]
    mine = run("select count() from Account").to_wire()
    assert set(mine) == set(count_body) and mine["records"] == [] and isinstance(mine["totalSize"], int)


def test_aggregate_rows_match_the_recorded_aggregate_shapes(run) -> None:
    for name in ("query-aggregate-count.json", "query-aggregate-groupby.json"):
        recorded = json.loads((WIRE / name).read_text())["records"][0]
        assert recorded["attributes"] == {"type": "AggregateResult"}
    mine = run("SELECT COUNT(Id) FROM Account").to_wire()
    count = json.loads((WIRE / "query-aggregate-count.json").read_text())
    assert mine["records"][0].keys() == count["records"][0].keys()
    grouped = run("SELECT Industry, SUM(AnnualRevenue) FROM Account GROUP BY Industry").records[0]
    recorded = json.loads((WIRE / "query-aggregate-groupby.json").read_text())["records"][0]
    assert [k for k in grouped if k != "Industry"] == [k for k in recorded if k != "CampaignId"]


def test_relationship_record_shape_matches_the_recorded_one(run) -> None:
    recorded = json.loads((WIRE / "query-with-relationships.json").read_text())["records"][0]
    parent, children = recorded["ParentWhizbang__r"], recorded["Whizbangs__r"]
    rec = run("SELECT Name, Parent.Name, (SELECT LastName FROM Contacts) FROM Account WHERE Name = 'Acme'").records[0]
    assert rec["Contacts"].keys() == children.keys()
    assert rec["Contacts"]["records"][0]["attributes"].keys() == children["records"][0]["attributes"].keys()
    assert rec["attributes"].keys() == recorded["attributes"].keys()
    sub = run("SELECT Name, Parent.Name FROM Account WHERE Name = 'acme subsidiary'").records[0]
    assert set(sub["Parent"]) <= set(parent)
    assert sub["Parent"]["attributes"].keys() == parent["attributes"].keys()


def test_invalid_field_error_code_and_body_keys_match_the_fixture(run) -> None:
    recorded = _fixture_error("error-invalid-field.json")
    with pytest.raises(SoqlError) as info:
        run("SELECT Id, foo FROM Account")
    body = info.value.to_wire()[0]
    assert body.keys() == recorded.keys() and body["errorCode"] == recorded["errorCode"]
    assert body["message"] == caret_message(
        "SELECT Id, foo FROM Account",
        11,
        "No such column 'foo' on entity 'Account'. If you are attempting to use a custom field, be sure to "
        "append the '__c' after the custom field name. Please reference your WSDL or the describe call for "
        "the appropriate names.",
    )


@pytest.mark.parametrize(
    ("text", "code", "column", "detail_start"),
    [
        ("SELECT Id FROM Acount", "INVALID_TYPE", 16, "sObject type 'Acount' is not supported."),
        ("SELECT Id FROM ScratchOrgInfo limit 1", "INVALID_TYPE", 16, "sObject type 'ScratchOrgInfo' is not"),
        ("SELECT Id FROM Account WHERE Nmae = 'x'", "INVALID_FIELD", 30, "No such column 'Nmae' on entity 'Account'"),
        ("SELECT Owner.Nmae FROM Account", "INVALID_FIELD", 8, "No such column 'Nmae' on entity 'User'"),
        ("SELECT Onwer.Name FROM Account", "INVALID_FIELD", 8, "Didn't understand relationship 'Onwer' in field path."),
        (
            "SELECT Id, (SELECT Id FROM Contact) FROM Account",
            "INVALID_TYPE",
            28,
            "Didn't understand relationship 'Contact' in FROM part of query call.",
        ),
        ("SELECT Id FROM Account ORDER BY Nope", "INVALID_FIELD", 33, "No such column 'Nope'"),
        ("SELECT Name, COUNT(Id) FROM Account", "MALFORMED_QUERY", 8, "Field must be grouped or aggregated: Name"),
        (
            "SELECT Industry FROM Account GROUP BY Industry ORDER BY Name",
            "MALFORMED_QUERY",
            57,
            "Ordered field must be grouped or aggregated: Name",
        ),
        ("SELECT SUM(Name) FROM Account", "MALFORMED_QUERY", 8, "field Name does not support aggregate operator SUM"),
        (
            "SELECT COUNT(Active__c) FROM Account",
            "MALFORMED_QUERY",
            8,
            "field Active__c does not support aggregate operator COUNT",
        ),
        (
            "SELECT MAX(Tags__c) FROM Account",
            "MALFORMED_QUERY",
            8,
            "field Tags__c does not support aggregate operator MAX",
        ),
        ("SELECT Id FROM Account WHERE Id = '001abc'", "INVALID_QUERY_FILTER_OPERATOR", 35, "invalid ID field: 001abc"),
        (
            "SELECT Id FROM Account WHERE OwnerId IN ('nope')",
            "INVALID_QUERY_FILTER_OPERATOR",
            42,
            "invalid ID field: nope",
        ),
        (
            "SELECT Id FROM Account WHERE NumberOfEmployees = '5'",
            "INVALID_FIELD",
            50,
            "value of filter criterion for field 'NumberOfEmployees' must be of type int and should not be enclosed",
        ),
        (
            "SELECT Id FROM Account WHERE AnnualRevenue > 'x'",
            "INVALID_FIELD",
            46,
            "value of filter criterion for field 'AnnualRevenue' must be of type double",
        ),
        (
            "SELECT Id FROM Account WHERE Active__c = 'true'",
            "INVALID_FIELD",
            42,
            "value of filter criterion for field 'Active__c' must be of type boolean and should not be enclosed",
        ),
        (
            "SELECT Id FROM Account WHERE Name = 5",
            "INVALID_FIELD",
            37,
            "value of filter criterion for field 'Name' must be of type string and should be enclosed in quotes",
        ),
        (
            "SELECT Id FROM Account WHERE CreatedDate > 2026-01-01",
            "INVALID_FIELD",
            44,
            "value of filter criterion for field 'CreatedDate' must be of type dateTime",
        ),
        (
            "SELECT Id FROM Account WHERE CreatedDate > '2026-01-01T00:00:00Z'",
            "INVALID_FIELD",
            44,
            "value of filter criterion for field 'CreatedDate' must be of type dateTime",
        ),
        (
            "SELECT Id FROM Account WHERE LastActivityDate > 2026-01-01T00:00:00Z",
            "INVALID_FIELD",
            49,
            "value of filter criterion for field 'LastActivityDate' must be of type date",
        ),
        (
            "SELECT Id FROM Account WHERE Name INCLUDES ('a')",
            "INVALID_QUERY_FILTER_OPERATOR",
            30,
            "invalid operator on field: Name",
        ),
        (
            "SELECT Id FROM Account WHERE NumberOfEmployees LIKE '5%'",
            "INVALID_QUERY_FILTER_OPERATOR",
            30,
            "invalid operator on field: NumberOfEmployees",
        ),
        (
            "SELECT Id FROM Account WHERE Active__c > true",
            "INVALID_QUERY_FILTER_OPERATOR",
            30,
            "invalid operator on field: Active__c",
        ),
        (
            "SELECT Id FROM Account WHERE Id IN (SELECT LastName FROM Contact)",
            "INVALID_FIELD",
            44,
            "Semi join sub-selects can only query id fields",
        ),
        ("SELECT Id FROM Account WHERE CreatedDate > LAST_N_YEARS:99999999", "MALFORMED_QUERY", 44, "unexpected token"),
    ],
)
def test_semantic_errors(run, text: str, code: str, column: int, detail_start: str) -> None:
    with pytest.raises(SoqlError) as info:
        run(text)
    err = info.value
    lines = err.message.split("\n")
    assert (err.error_code, lines[1], lines[3]) == (code, text, f"ERROR at Row:1:Column:{column}")
    assert lines[2] == " " * (column - 1) + "^"
    assert lines[4].startswith(detail_start)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT Name, (SELECT COUNT(Id) FROM Contacts) FROM Account",
        "SELECT Name, (SELECT COUNT() FROM Contacts) FROM Account",
        "SELECT Name, (SELECT LastName FROM Contacts GROUP BY LastName) FROM Account",
    ],
)
def test_aggregate_subqueries_are_rejected(run, text: str) -> None:
    with pytest.raises(SoqlError) as info:
        run(text)
    assert info.value.error_code == "MALFORMED_QUERY"
