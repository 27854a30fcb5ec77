"""Evaluator: filtering, typed comparisons, relationships, subqueries, ordering, paging inputs."""
# ruff: noqa: S608  -- these tests build SOQL text on purpose: it is the engine's input

from __future__ import annotations

import pytest

from sfops.emulator.ids import to15
from sfops.emulator.soql import SoqlError


def names(result) -> list[str]:
    return [r["Name"] for r in result.records]


def test_records_have_real_attributes_and_canonical_keys(run, org) -> None:
    result = run("select id, NAME from account where name = 'GLOBEX'", api_version="v58.0")
    acct = org.accounts[2]
    assert result.records == [
        {
            "attributes": {"type": "Account", "url": f"/services/data/v58.0/sobjects/Account/{acct['Id']}"},
            "Id": acct["Id"],
            "Name": "Globex",
        }
    ]
    assert result.total_size == 1 and result.entity_type_name == "Account"
    assert result.to_wire() == {"totalSize": 1, "done": True, "records": result.records}


def test_tooling_urls(run, org) -> None:
    rec = run("SELECT Id FROM TraceFlag", api_version="60.0", tooling=True).records[0]
    assert rec["attributes"]["url"] == f"/services/data/v60.0/tooling/sobjects/TraceFlag/{org.trace_flag['Id']}"


def test_deleted_rows_only_with_include_deleted(run) -> None:
    assert "Deleted Co" not in names(run("SELECT Name FROM Account"))
    assert "Deleted Co" in names(run("SELECT Name FROM Account", include_deleted=True))


def test_parent_relationships_nest_with_attributes_and_null_parents(run, org) -> None:
    recs = run(
        "SELECT Name, Parent.Name, Owner.Name, Owner.Profile.Name FROM Account WHERE Name LIKE 'acme%' ORDER BY Name"
    ).records
    assert recs[0]["Parent"] is None
    assert recs[0]["Owner"] == {
        "attributes": {"type": "User", "url": f"/services/data/v60.0/sobjects/User/{org.alice['Id']}"},
        "Name": "Alice Admin",
        "Profile": {
            "attributes": {
                "type": "Profile",
                "url": f"/services/data/v60.0/sobjects/Profile/{org.admin_profile['Id']}",
            },
            "Name": "System Administrator",
        },
    }
    assert recs[1]["Parent"]["Name"] == "Acme"
    assert list(recs[1]) == ["attributes", "Name", "Parent", "Owner"]


def test_tooling_style_relationship_paths(run, org) -> None:
    rec = run(
        "SELECT Id, debuglevel.apexcode, TracedEntity.Name FROM TraceFlag "
        "WHERE DebugLevel.DeveloperName = 'SFOPS_Finest'",
        tooling=True,
    ).records[0]
    assert rec["DebugLevel"]["ApexCode"] == "FINEST"
    assert rec["TracedEntity"]["Name"] == "Alice Admin"
    logs = run("SELECT Id, LogUser.Name FROM ApexLog WHERE LogUser.Name = 'bob builder'").records
    assert [r["Id"] for r in logs] == [org.logs[1]["Id"]]


def test_polymorphic_setup_owner(run, org) -> None:
    recs = run("SELECT Name, SetupOwnerId, SetupOwner.Name FROM Kill_Switch__c ORDER BY Name").records
    assert [(r["Name"], r["SetupOwner"]["attributes"]["type"], r["SetupOwner"]["Name"]) for r in recs] == [
        ("org", "Organization", "Acme Prod"),
        ("profile", "Profile", "Standard User"),
        ("user", "User", "Alice Admin"),
    ]


def test_setup_owner_in_with_15_and_18_char_ids(run, org) -> None:
    owners = [org.org["Id"], to15(org.std_profile["Id"]), org.bob["Id"].lower()]
    text = "SELECT Name FROM Kill_Switch__c WHERE SetupOwnerId IN ({})".format(", ".join(f"'{o}'" for o in owners))
    assert sorted(names(run(text))) == ["org", "profile"]


def test_id_equality_is_case_safe_for_18_and_exact_for_15(run, org) -> None:
    acct = org.accounts[0]["Id"]
    assert names(run(f"SELECT Name FROM Account WHERE Id = '{acct.lower()}'")) == ["Acme"]
    assert names(run(f"SELECT Name FROM Account WHERE Id = '{to15(acct)}'")) == ["Acme"]


def test_child_subquery_shape_and_null_when_empty(run, org) -> None:
    recs = run(
        "SELECT Name, (SELECT LastName FROM contacts ORDER BY LastName DESC) FROM Account "
        "WHERE Name IN ('Acme', 'Initech') ORDER BY Name"
    ).records
    acme, initech = recs
    assert acme["Contacts"]["totalSize"] == 2 and acme["Contacts"]["done"] is True
    assert [c["LastName"] for c in acme["Contacts"]["records"]] == ["Smith", "Jones"]
    assert acme["Contacts"]["records"][0]["attributes"]["type"] == "Contact"
    assert initech["Contacts"] is None


def test_child_subquery_where_and_limit(run) -> None:
    recs = run(
        "SELECT Name, (SELECT LastName FROM Contacts WHERE Email != null LIMIT 1) FROM Account WHERE Name = 'Acme'"
    ).records
    assert [c["LastName"] for c in recs[0]["Contacts"]["records"]] == ["Smith"]


def test_semi_join(run) -> None:
    assert sorted(names(run("SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact)"))) == [
        "Acme",
        "Globex",
    ]
    assert sorted(
        names(run("SELECT Name FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact WHERE LastName = 'Brown')"))
    ) == ["Acme", "Initech", "Umbrella_Corp%", "acme subsidiary"]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Name = 'acme'", ["Acme"]),
        ("Name != 'acme'", ["Globex", "Initech", "Umbrella_Corp%", "acme subsidiary"]),
        ("Name <> 'acme'", ["Globex", "Initech", "Umbrella_Corp%", "acme subsidiary"]),
        ("Industry = null", ["Initech"]),
        ("Industry != null", ["Acme", "Globex", "Umbrella_Corp%", "acme subsidiary"]),
        ("Industry != 'Technology'", ["Globex", "Initech", "Umbrella_Corp%"]),
        ("Industry IN ('technology', 'PHARMA')", ["Acme", "Umbrella_Corp%", "acme subsidiary"]),
        ("Industry NOT IN ('Technology')", ["Globex", "Initech", "Umbrella_Corp%"]),
        ("Industry IN (null, 'Energy')", ["Globex", "Initech"]),
        ("Name LIKE 'ACME%'", ["Acme", "acme subsidiary"]),
        ("Name LIKE '_lobe_'", ["Globex"]),
        ("Name LIKE '%\\%'", ["Umbrella_Corp%"]),
        ("Name LIKE 'Umbrella\\_%'", ["Umbrella_Corp%"]),
        ("Name LIKE 'acme'", ["Acme"]),
        ("Name > 'h'", ["Initech", "Umbrella_Corp%"]),
        ("NumberOfEmployees > 40", ["Acme", "Globex"]),
        ("NumberOfEmployees >= 40", ["Acme", "Globex", "Initech"]),
        ("NumberOfEmployees < 40", ["acme subsidiary"]),
        ("NumberOfEmployees <= 15", ["acme subsidiary"]),
        ("AnnualRevenue > 100000.25", ["Acme", "Umbrella_Corp%", "acme subsidiary"]),
        ("AnnualRevenue = null", ["Globex"]),
        ("Active__c = true", ["Acme", "Globex", "Umbrella_Corp%"]),
        ("Active__c = FALSE", ["Initech", "acme subsidiary"]),
        ("Tags__c INCLUDES ('green')", ["Acme", "acme subsidiary"]),
        ("Tags__c INCLUDES ('red;blue', 'GREEN')", ["Acme", "Umbrella_Corp%", "acme subsidiary"]),
        ("Tags__c EXCLUDES ('red')", ["Globex", "Initech", "acme subsidiary"]),
        ("Tags__c = 'green;red'", ["Acme"]),
        ("(Industry = 'Energy' OR Rating = 'Hot') AND NumberOfEmployees > 100", ["Acme", "Globex"]),
        ("Industry = 'Energy' OR (Rating = 'Hot' AND NumberOfEmployees > 100)", ["Acme", "Globex"]),
        ("NOT Industry = 'Technology'", ["Globex", "Initech", "Umbrella_Corp%"]),
        ("Rating = 'Hot' AND (NOT Name LIKE 'U%')", ["Acme"]),
        ("Owner.Name = 'Alice Admin' AND Owner.IsActive = true", ["Acme", "Globex", "Umbrella_Corp%"]),
        ("Parent.Name = 'Acme'", ["acme subsidiary"]),
        ("Parent.Name = null", ["Acme", "Globex", "Initech", "Umbrella_Corp%"]),
        ("Account.Name = 'Globex'", ["Globex"]),
    ],
)
def test_where(run, where: str, expected: list[str]) -> None:
    assert sorted(names(run(f"SELECT Name FROM Account WHERE {where}"))) == sorted(expected)


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        # NOW is Thursday 2026-11-26 18:30 UTC
        ("CreatedDate = TODAY", ["Acme", "Umbrella_Corp%"]),
        ("CreatedDate = YESTERDAY", ["acme subsidiary"]),
        ("CreatedDate > YESTERDAY", ["Acme", "Umbrella_Corp%"]),
        ("CreatedDate >= YESTERDAY", ["Acme", "Umbrella_Corp%", "acme subsidiary"]),
        ("CreatedDate < TODAY", ["Globex", "Initech", "acme subsidiary"]),
        ("CreatedDate <= TODAY", ["Acme", "Globex", "Initech", "Umbrella_Corp%", "acme subsidiary"]),
        ("CreatedDate = LAST_N_DAYS:1", ["Acme", "Umbrella_Corp%", "acme subsidiary"]),
        ("CreatedDate = THIS_WEEK", ["Acme", "Umbrella_Corp%", "acme subsidiary"]),
        ("CreatedDate = LAST_MONTH", ["Globex"]),
        ("CreatedDate = THIS_YEAR", ["Acme", "Globex", "Umbrella_Corp%", "acme subsidiary"]),
        ("CreatedDate = LAST_YEAR", ["Initech"]),
        ("CreatedDate = LAST_N_HOURS:10", ["Acme"]),
        ("CreatedDate > 2026-11-26T09:15:00Z", []),
        ("CreatedDate = 2026-11-26T09:15:00Z", ["Acme"]),
        ("CreatedDate = 2026-11-26T10:15:00+01:00", ["Acme"]),
        ("CreatedDate IN (TODAY, LAST_MONTH)", ["Acme", "Globex", "Umbrella_Corp%"]),
        ("LastActivityDate = TODAY", ["Acme"]),
        ("LastActivityDate = TOMORROW", ["Umbrella_Corp%"]),
        ("LastActivityDate > TODAY", ["Umbrella_Corp%"]),
        ("LastActivityDate = NEXT_N_DAYS:1", ["Umbrella_Corp%"]),
        ("LastActivityDate = LAST_N_DAYS:7", ["Acme", "acme subsidiary"]),
        ("LastActivityDate < 2026-01-01", ["Initech"]),
        ("LastActivityDate = 2026-11-20", ["acme subsidiary"]),
        ("LastActivityDate = N_DAYS_AGO:6", ["acme subsidiary"]),
        ("LastActivityDate = null", ["Globex"]),
    ],
)
def test_date_semantics(run, where: str, expected: list[str]) -> None:
    assert sorted(names(run(f"SELECT Name FROM Account WHERE {where}"))) == sorted(expected)


def test_order_by_defaults_nulls_and_case_insensitive_text(run) -> None:
    assert names(run("SELECT Name FROM Account ORDER BY Name")) == [
        "Acme",
        "acme subsidiary",
        "Globex",
        "Initech",
        "Umbrella_Corp%",
    ]
    assert names(run("SELECT Name FROM Account ORDER BY Industry, Name DESC")) == [
        "Initech",
        "Globex",
        "Umbrella_Corp%",
        "acme subsidiary",
        "Acme",
    ]
    assert names(run("SELECT Name FROM Account ORDER BY Industry NULLS LAST, Name")) == [
        "Globex",
        "Umbrella_Corp%",
        "Acme",
        "acme subsidiary",
        "Initech",
    ]
    assert names(run("SELECT Name FROM Account ORDER BY AnnualRevenue DESC")) == [
        "Umbrella_Corp%",
        "Acme",
        "acme subsidiary",
        "Initech",
        "Globex",
    ]
    assert names(run("SELECT Name FROM Account ORDER BY AnnualRevenue DESC NULLS FIRST")) == [
        "Globex",
        "Umbrella_Corp%",
        "Acme",
        "acme subsidiary",
        "Initech",
    ]
    assert names(run("SELECT Name FROM Account ORDER BY Owner.Name DESC, CreatedDate")) == [
        "Initech",
        "acme subsidiary",
        "Globex",
        "Umbrella_Corp%",
        "Acme",
    ]


def test_limit_and_offset(run) -> None:
    result = run("SELECT Name FROM Account ORDER BY Name LIMIT 2 OFFSET 1")
    assert names(result) == ["acme subsidiary", "Globex"] and result.total_size == 2
    assert run("SELECT Name FROM Account LIMIT 0").records == []


def test_count_only(run) -> None:
    result = run("SELECT COUNT() FROM Account WHERE Industry = 'Technology'")
    assert (result.total_size, result.records, result.count_only) == (2, [], True)
    assert result.to_wire() == {"totalSize": 2, "done": True, "records": []}
    assert run("SELECT count() FROM Account LIMIT 3").total_size == 3


def test_aggregate_without_group_by(run) -> None:
    rec = run(
        "SELECT COUNT(Id), COUNT(Industry), COUNT_DISTINCT(Industry), MAX(CreatedDate), "
        "MIN(Name), SUM(NumberOfEmployees), AVG(NumberOfEmployees) FROM Account"
    ).records
    assert rec == [
        {
            "attributes": {"type": "AggregateResult"},
            "expr0": 5,
            "expr1": 4,
            "expr2": 3,
            "expr3": "2026-11-26T09:15:00.000+0000",
            "expr4": "Acme",
            "expr5": 3175,
            "expr6": 793.75,
        }
    ]


def test_aggregate_over_no_rows_gives_one_row(run) -> None:
    rec = run("SELECT COUNT(Id), SUM(AnnualRevenue) FROM Account WHERE Name = 'nobody'").records
    assert rec == [{"attributes": {"type": "AggregateResult"}, "expr0": 0, "expr1": None}]


def test_group_by_aliases_having_order(run) -> None:
    recs = run(
        "SELECT Industry, COUNT(Id) n, SUM(AnnualRevenue) FROM Account GROUP BY Industry "
        "HAVING COUNT(Id) >= 1 ORDER BY COUNT(Id) DESC, Industry"
    ).records
    assert recs == [
        {"attributes": {"type": "AggregateResult"}, "Industry": "Technology", "n": 2, "expr0": 1_250_000.0},
        {"attributes": {"type": "AggregateResult"}, "Industry": None, "n": 1, "expr0": 90_000.5},
        {"attributes": {"type": "AggregateResult"}, "Industry": "Energy", "n": 1, "expr0": None},
        {"attributes": {"type": "AggregateResult"}, "Industry": "Pharma", "n": 1, "expr0": 5_000_000.0},
    ]
    having = run("SELECT Industry FROM Account GROUP BY Industry HAVING COUNT(Id) > 1").records
    assert having == [{"attributes": {"type": "AggregateResult"}, "Industry": "Technology"}]


def test_group_by_relationship_field_and_log_user(run) -> None:
    recs = run(
        "SELECT LogUser.Name, COUNT(Id), MAX(LogLength) FROM ApexLog GROUP BY LogUser.Name ORDER BY LogUser.Name"
    ).records
    assert [(r["Name"], r["expr0"], r["expr1"]) for r in recs] == [
        ("Alice Admin", 2, 14106),
        ("Bob Builder", 1, 2_000_000),
    ]


def test_typical_client_queries(run, org) -> None:
    """Queries sfops, simple-salesforce and the sf CLI actually send."""
    org_rec = run("SELECT Name, InstanceName, IsSandbox, OrganizationType FROM Organization").records[0]
    assert org_rec["IsSandbox"] is False and org_rec["InstanceName"] == "EU42"
    logs = run(
        "SELECT Id, LogUserId, LogLength, Operation, StartTime, Status FROM ApexLog "
        "WHERE StartTime >= LAST_N_DAYS:1 ORDER BY StartTime DESC LIMIT 100"
    ).records
    assert [r["Id"] for r in logs] == [org.logs[0]["Id"], org.logs[1]["Id"]]
    flags = run(
        f"SELECT Id, ExpirationDate FROM TraceFlag WHERE TracedEntityId = '{org.alice['Id']}' "
        f"AND LogType = 'USER_DEBUG' AND ExpirationDate > {'2026-11-26T18:00:00Z'}"
    ).records
    assert [f["Id"] for f in flags] == [org.trace_flag["Id"]]


def test_a_field_selected_twice_is_refused(run) -> None:
    # SOQL guide, SELECT / FIELDS(): "The API returns an error if the SELECT statement results in any
    # duplicated field names" -> 400 [{"message": "duplicate field selected: Id", "errorCode": "INVALID_FIELD"}]
    with pytest.raises(SoqlError) as err:
        run("SELECT Name, name FROM Account WHERE Name = 'Acme'")
    assert err.value.to_wire() == [{"message": "duplicate field selected: name", "errorCode": "INVALID_FIELD"}]


def test_from_alias(run) -> None:
    assert names(run("SELECT a.Name FROM Account a WHERE a.Industry = 'Pharma'")) == ["Umbrella_Corp%"]


def test_parsed_query_can_be_executed_again(run, org) -> None:
    from sfops.emulator.soql import parse

    parsed = parse("SELECT Name FROM Account WHERE Rating = 'Hot'")
    assert len(run(parsed).records) == 2
    with pytest.raises(SoqlError):
        run(parse("SELECT Nope FROM Account"))


def test_relationship_to_an_object_this_api_cannot_query_reads_the_record_loosely(org, now) -> None:
    """Tooling's TraceFlag.TracedEntity points at User, which the Tooling catalog may not describe."""
    from sfops.emulator.soql import execute
    from sfops.emulator.soql.catalog import MemoryCatalog

    class ToolingView(MemoryCatalog):
        def describe(self, object_name: str):
            return None if object_name.lower() == "user" else org.cat.describe(object_name)

        def records(self, object_name: str, include_deleted: bool = False):
            return org.cat.records(object_name, include_deleted)

        def lookup(self, record_id: str):
            return org.cat.lookup(record_id)

    rec = execute(
        "SELECT TracedEntity.name, TracedEntity.Nope FROM TraceFlag", ToolingView(), now=now, tooling=True
    ).records[0]
    assert rec["TracedEntity"]["attributes"]["type"] == "User"
    assert rec["TracedEntity"]["Name"] == "Alice Admin" and rec["TracedEntity"]["Nope"] is None


def test_sum_of_currency_is_a_float_and_of_int_an_int(run) -> None:
    rec = run("SELECT SUM(AnnualRevenue), SUM(NumberOfEmployees) FROM Account WHERE Name = 'Initech'").records[0]
    assert rec["expr0"] == 90_000.5 and isinstance(rec["expr1"], int) and rec["expr1"] == 40


def test_date_functions_in_where_group_by_and_order_by(run) -> None:
    assert sorted(names(run("SELECT Name FROM Account WHERE CALENDAR_YEAR(CreatedDate) = 2025"))) == ["Initech"]
    assert sorted(names(run("SELECT Name FROM Account WHERE DAY_ONLY(CreatedDate) = 2026-11-26"))) == [
        "Acme",
        "Umbrella_Corp%",
    ]
    assert names(run("SELECT Name FROM Account WHERE HOUR_IN_DAY(convertTimezone(CreatedDate)) = 9")) == ["Acme"]
    assert sorted(names(run("SELECT Name FROM Account WHERE DAY_IN_WEEK(LastActivityDate) = 5"))) == [
        "Acme"
    ]  # Thursday is day 5 (Sunday = 1)
    recs = run(
        "SELECT CALENDAR_YEAR(CreatedDate) yr, CALENDAR_MONTH(CreatedDate), COUNT(Id) FROM Account "
        "GROUP BY CALENDAR_YEAR(CreatedDate), CALENDAR_MONTH(CreatedDate) "
        "ORDER BY CALENDAR_YEAR(CreatedDate) DESC, CALENDAR_MONTH(CreatedDate)"
    ).records
    assert [(r["yr"], r["expr0"], r["expr1"]) for r in recs] == [(2026, 10, 1), (2026, 11, 3), (2025, 6, 1)]
    daily = run(
        "SELECT DAY_ONLY(StartTime), COUNT(Id) FROM ApexLog GROUP BY DAY_ONLY(StartTime) "
        "HAVING COUNT(Id) > 0 ORDER BY DAY_ONLY(StartTime)"
    ).records
    assert [(r["expr0"], r["expr1"]) for r in daily] == [("2026-11-19", 1), ("2026-11-25", 1), ("2026-11-26", 1)]


def test_date_function_errors(run) -> None:
    with pytest.raises(SoqlError) as info:
        run("SELECT CALENDAR_YEAR(CreatedDate) FROM Account")
    assert info.value.error_code == "MALFORMED_QUERY" and "must be grouped or aggregated" in info.value.message
    with pytest.raises(SoqlError) as info:
        run("SELECT Id FROM Account WHERE CALENDAR_YEAR(Name) = 2026")
    assert info.value.error_code == "MALFORMED_QUERY"
    with pytest.raises(SoqlError) as info:
        run("SELECT Id FROM Account WHERE HOUR_IN_DAY(LastActivityDate) = 1")
    assert info.value.error_code == "MALFORMED_QUERY"
    with pytest.raises(SoqlError) as info:
        run("SELECT Id FROM Account WHERE CALENDAR_YEAR(CreatedDate) = '2026'")
    assert info.value.error_code == "INVALID_FIELD"


def test_id_range_paging_pattern(run, org) -> None:
    """`WHERE Id > :last ORDER BY Id LIMIT n` is how bulk readers page by id; ids order like base-62."""
    ids = sorted(a["Id"] for a in org.accounts if not a["IsDeleted"])
    page = run(f"SELECT Id FROM Account WHERE Id > '{ids[1][:15]}' ORDER BY Id LIMIT 2").records
    assert [r["Id"] for r in page] == ids[2:4]
