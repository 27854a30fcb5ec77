"""Issue 13: what real clients found different from a real org, driven through simple-salesforce
(unmodified) over HTTPS. Each test cites the documented behaviour or the recorded response it holds the
emulator to. jsforce and the `sf` CLI drive the metadata items (tests/emulator/test_emulator_conformance_node.py).
"""

from __future__ import annotations

import email.utils
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from emu_helpers import load
from paths import WIRE
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import SalesforceError, SalesforceGeneralError, SalesforceMalformedRequest

from sfops.emulator.testing import RunningEmulator

pytestmark = pytest.mark.integration


def client(emulator: RunningEmulator, version: str = "64.0", session: requests.Session | None = None) -> Salesforce:
    token = emulator.login()["access_token"]
    return Salesforce(
        instance_url=emulator.url, session_id=token, session=session or emulator.session(), version=version
    )


@pytest.fixture
def sf(emulator: RunningEmulator) -> Salesforce:
    return client(emulator)


def error_of(exc: SalesforceError) -> dict[str, Any]:
    content = exc.content
    return content[0] if isinstance(content, list) else content


def seed(emulator: RunningEmulator, sobject: str, rows: list[dict[str, Any]]) -> None:
    """Bulk set-up through composite/sobjects (200 a call), not part of what is asserted."""
    s = emulator.session()
    s.headers["Authorization"] = f"Bearer {emulator.login()['access_token']}"
    for start in range(0, len(rows), 200):
        batch = [{"attributes": {"type": sobject}, **r} for r in rows[start : start + 200]]
        resp = s.post(
            f"{emulator.url}/services/data/v64.0/composite/sobjects",
            json={"allOrNone": True, "records": batch},
            timeout=60,
        )
        assert resp.status_code == 200 and all(r["success"] for r in resp.json()), resp.text[:300]


# ------------------------------------------------------------------ 2. relationship names


def test_custom_lookup_is_named_after_the_field_and_the_parent_lists_the_children(sf: Salesforce) -> None:
    # SOQL guide, "Understanding Relationship Names, Custom Objects, and Custom Fields": a lookup field
    # Incident__c is traversed as Incident__r; the parent reaches its children through the
    # relationship name given in metadata (Error_Logs -> Error_Logs__r). The recorded
    # query-with-relationships.json has both forms: a parent "ParentWhizbang__r" and children "Whizbangs__r".
    recorded = load(WIRE / "query-with-relationships.json")["records"][0]
    assert "ParentWhizbang__r" in recorded and "Whizbangs__r" in recorded
    fields = {f["name"]: f for f in sf.Error_Log__c.describe()["fields"]}
    assert fields["Incident__c"]["relationshipName"] == "Incident__r"
    assert fields["User__c"]["relationshipName"] == "User__r"
    children = {(c["childSObject"], c["field"]): c for c in sf.Incident_Log__c.describe()["childRelationships"]}
    assert children[("Error_Log__c", "Incident__c")]["relationshipName"] == "Error_Logs__r"
    assert {f["name"]: f for f in sf.Incident_Log__c.describe()["fields"]}["Assigned_To__c"][
        "relationshipName"
    ] == "Assigned_To__r"

    incident = sf.Incident_Log__c.create({"Message__c": "db down", "Severity__c": "P1"})["id"]
    sf.Error_Log__c.create({"Message__c": "timeout", "Incident__c": incident})
    rows = sf.query("SELECT Message__c, Incident__r.Message__c FROM Error_Log__c")["records"]
    assert rows[0]["Incident__r"]["Message__c"] == "db down"
    parent = sf.query("SELECT Message__c, (SELECT Message__c FROM Error_Logs__r) FROM Incident_Log__c")
    assert parent["records"][0]["Error_Logs__r"]["records"][0]["Message__c"] == "timeout"


# ------------------------------------------------------------------ 3. writes are validated


def test_writes_are_validated_like_a_real_org(sf: Salesforce) -> None:
    # SOAP API Developer Guide, StatusCode enum; messages as real orgs word them
    # ("Day of Month: bad value for restricted picklist field: 30", NPSP issue #5456)
    with pytest.raises(SalesforceMalformedRequest) as bad_pick:
        sf.Incident_Log__c.create({"Message__c": "x", "Severity__c": "P9"})
    assert error_of(bad_pick.value) == {
        "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "message": "Severity: bad value for restricted picklist field: P9",
        "fields": ["Severity__c"],
    }
    with pytest.raises(SalesforceMalformedRequest) as bad_mail:
        sf.Contact.create({"LastName": "Ng", "Email": "not-an-address"})
    assert error_of(bad_mail.value)["errorCode"] == "INVALID_EMAIL_ADDRESS"
    assert error_of(bad_mail.value)["fields"] == ["Email"]

    account = sf.Account.create({"Name": "Acme"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as wrong_type:
        sf.Error_Log__c.create({"Message__c": "x", "Incident__c": account})
    assert error_of(wrong_type.value)["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert "id value of incorrect type" in error_of(wrong_type.value)["message"]

    incident = sf.Incident_Log__c.create({"Message__c": "gone soon"})["id"]
    sf.Incident_Log__c.delete(incident)
    never_created = incident[:3] + "00000000000Z"  # right key prefix, no such record
    with pytest.raises(SalesforceMalformedRequest) as no_record:
        sf.Error_Log__c.create({"Message__c": "x", "Incident__c": never_created})
    assert error_of(no_record.value)["errorCode"] == "INVALID_CROSS_REFERENCE_KEY"
    with pytest.raises(SalesforceMalformedRequest) as deleted:
        sf.Error_Log__c.create({"Message__c": "x", "Incident__c": incident})
    assert error_of(deleted.value)["errorCode"] == "ENTITY_IS_DELETED"
    # a good write still works, and an update is checked the same way
    ok = sf.Incident_Log__c.create({"Message__c": "fine", "Severity__c": "P2", "Status__c": "New"})["id"]
    with pytest.raises(SalesforceMalformedRequest):
        sf.Incident_Log__c.update(ok, {"Status__c": "Bogus"})


# ------------------------------------------------------------------ 5. aggregate over 2,000 groups


def test_aggregate_query_over_2000_groups_is_refused(sf: Salesforce, emulator: RunningEmulator) -> None:
    # the body restforce issue #726 quotes from a real org
    seed(emulator, "Error_Log__c", [{"Message__c": "m", "Request_Id__c": f"r{i:05d}"} for i in range(2001)])
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Request_Id__c, COUNT(Id) FROM Error_Log__c GROUP BY Request_Id__c")
    assert err.value.content == [
        {
            "message": "Aggregate query does not support queryMore(), use LIMIT to restrict the results to a "
            "single batch",
            "errorCode": "EXCEEDED_ID_LIMIT",
        }
    ]
    limited = sf.query("SELECT Request_Id__c, COUNT(Id) FROM Error_Log__c GROUP BY Request_Id__c LIMIT 2000")
    assert limited["totalSize"] == 2000 and limited["done"] is True


# ------------------------------------------------------------------ 6. delete side effects


def test_delete_cascades_and_clears_set_null_lookups(sf: Salesforce) -> None:
    # Account describe (wire/sobject-describe-account.json): Contacts have cascadeDelete true, so
    # deleting the account puts its contacts in the recycle bin too; a SetNull lookup
    # (Error_Log__c.Incident__c, deleteConstraint SetNull) is cleared when its parent goes
    described = {c["relationshipName"]: c for c in load(WIRE / "sobject-describe-account.json")["childRelationships"]}
    assert described["Contacts"]["cascadeDelete"] is True
    account = sf.Account.create({"Name": "Doomed"})["id"]
    contact = sf.Contact.create({"LastName": "Child", "AccountId": account})["id"]
    sf.Account.delete(account)
    assert sf.query(format_soql("SELECT Id FROM Contact WHERE Id = {}", contact))["totalSize"] == 0
    binned = sf.query_all(format_soql("SELECT Id, IsDeleted FROM Contact WHERE Id = {}", contact), include_deleted=True)
    assert binned["records"][0]["IsDeleted"] is True

    incident = sf.Incident_Log__c.create({"Message__c": "parent"})["id"]
    log = sf.Error_Log__c.create({"Message__c": "child", "Incident__c": incident})["id"]
    sf.Incident_Log__c.delete(incident)
    assert sf.Error_Log__c.get(log)["Incident__c"] is None


# ------------------------------------------------------------------ 9. FIELDS()


def test_fields_function(sf: Salesforce) -> None:
    # SOQL guide, SELECT / FIELDS() (API 51.0+): ALL and CUSTOM need LIMIT <= 200, STANDARD does not;
    # a duplicated field is [{"message": "duplicate field selected: Id", "errorCode": "INVALID_FIELD"}]
    sf.Incident_Log__c.create({"Message__c": "fields", "Severity__c": "P3"})
    every = sf.query("SELECT FIELDS(ALL) FROM Incident_Log__c LIMIT 200")["records"][0]
    assert every["Message__c"] == "fields" and "CreatedDate" in every and "Id" in every
    custom = sf.query("SELECT FIELDS(CUSTOM) FROM Incident_Log__c LIMIT 10")["records"][0]
    assert "Severity__c" in custom and "CreatedDate" not in custom
    standard = sf.query("SELECT FIELDS(STANDARD) FROM Incident_Log__c")["records"][0]
    assert "CreatedDate" in standard and "Severity__c" not in standard
    with pytest.raises(SalesforceMalformedRequest) as unbounded:
        sf.query("SELECT FIELDS(ALL) FROM Incident_Log__c")
    assert error_of(unbounded.value)["errorCode"] == "MALFORMED_QUERY"
    with pytest.raises(SalesforceMalformedRequest) as dup:
        sf.query("SELECT Id, FIELDS(ALL) FROM User LIMIT 200")
    assert dup.value.content == [{"message": "duplicate field selected: Id", "errorCode": "INVALID_FIELD"}]


def test_fields_needs_api_51(emulator: RunningEmulator) -> None:
    with pytest.raises(SalesforceMalformedRequest) as err:
        client(emulator, "50.0").query("SELECT FIELDS(STANDARD) FROM Account")
    assert error_of(err.value)["errorCode"] == "MALFORMED_QUERY"
    assert client(emulator, "51.0").query("SELECT FIELDS(STANDARD) FROM Account")["done"] is True


# ------------------------------------------------------------------ 11. retired API versions


def test_retired_api_versions_answer_410_gone(emulator: RunningEmulator) -> None:
    # API End-of-Life Policy: versions 21.0 through 30.0 retired in Summer '25; "If you request any
    # resource or use an operation from a retired API version, REST API returns the 410:GONE error code"
    with pytest.raises(SalesforceGeneralError) as gone:
        client(emulator, "30.0").query("SELECT Id FROM Account")
    assert gone.value.status == 410
    assert client(emulator, "31.0").query("SELECT Id FROM Account")["done"] is True
    versions = emulator.session().get(f"{emulator.url}/services/data", timeout=10).json()
    assert min(float(v["version"]) for v in versions) == 31.0


# ------------------------------------------------------------------ 12. If-Modified-Since, gzip


def test_describe_honours_if_modified_since(sf: Salesforce, emulator: RunningEmulator) -> None:
    # REST API guide: sObject Describe and Describe Global accept If-Modified-Since and answer
    # 304 Not Modified when the metadata has not changed since
    time.sleep(1.1)  # HTTP dates have whole seconds: let the reset's schema time fall before "since"
    since = email.utils.formatdate(time.time(), usegmt=True)
    with pytest.raises(SalesforceGeneralError) as not_modified:
        sf.Account.describe(headers={"If-Modified-Since": since})
    assert not_modified.value.status == 304
    with pytest.raises(SalesforceGeneralError) as global_not_modified:
        sf.describe(headers={"If-Modified-Since": since})
    assert global_not_modified.value.status == 304
    long_ago = email.utils.formatdate(time.time() - 86400 * 365, usegmt=True)
    assert sf.Account.describe(headers={"If-Modified-Since": long_ago})["name"] == "Account"


def test_responses_are_gzip_compressed_when_accepted(emulator: RunningEmulator) -> None:
    # REST API guide, "Compression Headers": with Accept-Encoding: gzip the response body is compressed
    seen: list[str] = []
    session = emulator.session()
    session.hooks["response"].append(lambda resp, **_: seen.append(resp.headers.get("Content-Encoding", "")))
    sf = client(emulator, session=session)
    assert sf.query("SELECT Id FROM Account")["done"] is True  # requests sends Accept-Encoding: gzip
    assert sf.Account.describe()["name"] == "Account"
    assert seen and all(enc == "gzip" for enc in seen)


# ------------------------------------------------------------------ 13. composite Location


def test_composite_created_subresponse_has_location(sf: Salesforce) -> None:
    # REST API guide, Composite resource example response: a 201 sub-response carries
    # "httpHeaders": {"Location": "/services/data/vXX.X/sobjects/Account/001..."}
    body = {
        "allOrNone": False,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v64.0/sobjects/Account",
                "referenceId": "acct",
                "body": {"Name": "Composite"},
            },
            {"method": "GET", "url": "/services/data/v64.0/sobjects/Account/@{acct.id}", "referenceId": "read"},
        ],
    }
    out = sf.restful("composite", method="POST", data=json.dumps(body))["compositeResponse"]
    created = out[0]
    assert created["httpStatusCode"] == 201
    assert created["httpHeaders"] == {"Location": f"/services/data/v64.0/sobjects/Account/{created['body']['id']}"}
    assert out[1]["httpHeaders"] == {}


# ------------------------------------------------------------------ 14. date literals in local time


def test_date_literals_use_the_users_time_zone(sf: Salesforce, emulator: RunningEmulator) -> None:
    # date literals are day ranges from midnight where the user is, not UTC midnight: two records half an
    # hour either side of local midnight fall on different days (never both on one UTC day in Los Angeles)
    admin = sf.query(format_soql("SELECT Id FROM User WHERE Username = {}", emulator.settings.admin_username))
    sf.User.update(admin["records"][0]["Id"], {"TimeZoneSidKey": "America/Los_Angeles"})
    zone = ZoneInfo("America/Los_Angeles")
    for _attempt in range(2):  # a run that straddles local midnight retries once
        local_today = datetime.now(zone).date()
        midnight = datetime(local_today.year, local_today.month, local_today.day, tzinfo=zone)
        stamps = {"after": midnight + timedelta(minutes=30), "before": midnight - timedelta(minutes=30)}
        for label, at in stamps.items():
            sf.Incident_Log__c.create(
                {"Message__c": label, "Detected_At__c": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
            )
        today = sf.query("SELECT Message__c FROM Incident_Log__c WHERE Detected_At__c = TODAY")
        yesterday = sf.query("SELECT Message__c FROM Incident_Log__c WHERE Detected_At__c = YESTERDAY")
        if datetime.now(zone).date() == local_today:
            break
        for row in sf.query("SELECT Id FROM Incident_Log__c")["records"]:
            sf.Incident_Log__c.delete(row["Id"])
    assert [r["Message__c"] for r in today["records"]] == ["after"]
    assert [r["Message__c"] for r in yesterday["records"]] == ["before"]


def test_convert_timezone_in_date_functions(sf: Salesforce, emulator: RunningEmulator) -> None:
    # SOQL guide, convertTimezone(): date functions over dateTime fields work in UTC unless wrapped in
    # convertTimezone(), which converts to the user's time zone (example: HOUR_IN_DAY(convertTimezone(...)))
    admin = sf.query(format_soql("SELECT Id FROM User WHERE Username = {}", emulator.settings.admin_username))
    sf.User.update(admin["records"][0]["Id"], {"TimeZoneSidKey": "America/Los_Angeles"})
    sf.Incident_Log__c.create({"Message__c": "x", "Detected_At__c": "2026-01-15T05:00:00Z"})  # 21:00 PST on the 14th
    local = sf.query(
        "SELECT HOUR_IN_DAY(convertTimezone(Detected_At__c)) h, COUNT(Id) n FROM Incident_Log__c "
        "GROUP BY HOUR_IN_DAY(convertTimezone(Detected_At__c))"
    )["records"]
    utc = sf.query(
        "SELECT HOUR_IN_DAY(Detected_At__c) h, COUNT(Id) n FROM Incident_Log__c GROUP BY HOUR_IN_DAY(Detected_At__c)"
    )["records"]
    assert [(r["h"], r["n"]) for r in local] == [(21, 1)]
    assert [(r["h"], r["n"]) for r in utc] == [(5, 1)]


# ------------------------------------------------------------------ smaller


def test_method_not_allowed_lists_the_allowed_methods(sf: Salesforce) -> None:
    # the body real orgs give, quoted in simple-salesforce issue #412
    with pytest.raises(SalesforceGeneralError) as err:
        sf.restful("sobjects/Account", method="DELETE")
    assert err.value.status == 405
    assert err.value.content == [
        {"message": "HTTP Method 'DELETE' not allowed. Allowed are HEAD,GET,POST", "errorCode": "METHOD_NOT_ALLOWED"}
    ]


def test_json_parse_errors_use_salesforces_wording(sf: Salesforce) -> None:
    # "Unexpected character ('}' (code 125)): was expecting double-quote to start field name at
    # [line:2, column:34667]" (a real org's JSON_PARSER_ERROR, jetstream issue #538)
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.restful("sobjects/Account", method="POST", data='{"Name": "x",}')
    assert err.value.content == [
        {
            "message": "Unexpected character ('}' (code 125)): was expecting double-quote to start field name "
            "at [line:1, column:14]",
            "errorCode": "JSON_PARSER_ERROR",
        }
    ]
