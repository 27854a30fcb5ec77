"""Fidelity: the emulator's responses against the REAL recorded bodies in tests/data/wire.

Each test drives the emulator over HTTPS into the situation a fixture was recorded in and compares
keys, value types, nesting, status codes and the headers that matter. One test per fixture family.
"""

from __future__ import annotations

import re

import pytest
from defusedxml import ElementTree
from emu_helpers import Client, load, shape_diff
from paths import WIRE

pytestmark = pytest.mark.integration


def _tags(xml: bytes | str) -> list[str]:
    root = ElementTree.fromstring(xml)
    return [el.tag.rsplit("}", 1)[-1] for el in root.iter()]


# ------------------------------------------------------------------ auth


def test_oauth_token_response_has_the_real_keys(emulator) -> None:
    body = emulator.login()
    real = load(WIRE / "oauth-token-response.json")
    assert shape_diff(real, body) == []
    assert body["access_token"].startswith(body["id"].split("/")[-2][:15] + "!")
    assert body["instance_url"] == emulator.url


def test_oauth_bad_password_is_invalid_grant(emulator) -> None:
    s = emulator.settings
    resp = emulator.session().post(
        f"{emulator.url}/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": s.client_id,
            "client_secret": s.client_secret,
            "username": s.admin_username,
            "password": "wrong",
        },
        timeout=10,
    )
    real = load(WIRE / "oauth-token-error-invalid-grant.json")
    assert resp.status_code == 400
    assert shape_diff(real, resp.json(), allow_extra=False) == []
    assert resp.json()["error"] == "invalid_grant"


def test_oauth_unknown_refresh_token_matches_fixture_exactly(emulator) -> None:
    s = emulator.settings
    resp = emulator.session().post(
        f"{emulator.url}/services/oauth2/token",
        data={"grant_type": "refresh_token", "client_id": s.client_id, "refresh_token": "nope"},
        timeout=10,
    )
    assert resp.status_code == 400
    assert resp.json() == load(WIRE / "oauth-refresh-error-expired.json")


def test_soap_login_response_has_every_element_of_the_real_one(emulator) -> None:
    s = emulator.settings
    envelope = (
        '<?xml version="1.0" encoding="utf-8"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"'
        ' xmlns:urn="urn:partner.soap.sforce.com"><env:Body><urn:login>'
        f"<urn:username>{s.admin_username}</urn:username><urn:password>{s.admin_password}</urn:password>"
        "</urn:login></env:Body></env:Envelope>"
    )
    resp = emulator.session().post(
        f"{emulator.url}/services/Soap/u/64.0",
        data=envelope,
        headers={"Content-Type": "text/xml", "SOAPAction": "login"},
        timeout=10,
    )
    assert resp.status_code == 200
    real = (WIRE / "soap-login-response-partner.xml").read_bytes()
    assert set(_tags(real)) <= set(_tags(resp.content))
    root = ElementTree.fromstring(resp.content)
    ns = {"p": "urn:partner.soap.sforce.com"}
    server_url = root.find(".//p:serverUrl", ns).text
    assert server_url.startswith(emulator.url + "/services/Soap/u/64.0/")
    assert root.find(".//p:metadataServerUrl", ns).text.startswith(emulator.url + "/services/Soap/m/64.0/")


def test_soap_login_failure_is_the_real_fault(emulator) -> None:
    envelope = (
        '<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:urn="urn:partner.soap.sforce.com"><env:Body><urn:login><urn:username>x</urn:username>'
        "<urn:password>y</urn:password></urn:login></env:Body></env:Envelope>"
    )
    resp = emulator.session().post(f"{emulator.url}/services/Soap/u/64.0", data=envelope, timeout=10)
    assert resp.status_code == 500
    real = (WIRE / "soap-login-fault-invalid-login.xml").read_bytes()
    assert _tags(resp.content) == _tags(real)
    assert b"<faultcode>sf:INVALID_LOGIN</faultcode>" in resp.content


def test_soap_invalid_session_fault_matches(emulator) -> None:
    envelope = (
        '<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:urn="urn:partner.soap.sforce.com"><env:Header><urn:SessionHeader><urn:sessionId>bad'
        "</urn:sessionId></urn:SessionHeader></env:Header><env:Body><urn:getUserInfo/></env:Body>"
        "</env:Envelope>"
    )
    resp = emulator.session().post(f"{emulator.url}/services/Soap/u/64.0", data=envelope, timeout=10)
    real = (WIRE / "soap-fault-invalid-session-id.xml").read_bytes()
    assert resp.status_code == 500
    assert _tags(resp.content) == _tags(real)
    assert re.search(rb"<faultcode>sf:INVALID_SESSION_ID</faultcode>", resp.content)


def test_rest_invalid_session_is_exactly_salesforces(emulator) -> None:
    resp = emulator.session().get(
        f"{emulator.url}/services/data/v64.0/limits", headers={"Authorization": "Bearer 00Dxx!nope"}, timeout=10
    )
    assert resp.status_code == 401
    assert resp.json() == load(WIRE / "error-invalid-session-id.json")


# ------------------------------------------------------------------ discovery and describe


def test_versions_list_shape_and_labels(emulator) -> None:
    resp = emulator.session().get(f"{emulator.url}/services/data", timeout=10)
    versions = resp.json()
    assert shape_diff(load(WIRE / "versions-shape.json"), versions, allow_extra=False) == []
    # API End-of-Life Policy: 21.0-30.0 retired in Summer '25, so the oldest listed is 31.0 (Summer '14)
    assert versions[0] == {"label": "Summer '14", "url": "/services/data/v31.0", "version": "31.0"}
    labels = {v["version"]: v["label"] for v in versions}
    assert labels["60.0"] == "Spring '24" and labels["62.0"] == "Winter '25"
    assert "api-usage=" in resp.headers["Sforce-Limit-Info"]


def test_describe_global_entries_have_exactly_the_real_keys(emulator) -> None:
    body = Client(emulator).get("sobjects").json()
    real = load(WIRE / "describe-global.json")
    assert shape_diff(real, body) == []
    assert set(body["sobjects"][0]) == set(real["sobjects"][0])
    names = {o["name"] for o in body["sobjects"]}
    assert {"Account", "User", "Organization", "Kill_Switch__c", "Incident_Log__c"} <= names
    assert "TraceFlag" not in names  # tooling-only object


def test_account_describe_has_the_real_structure(emulator) -> None:
    body = Client(emulator).get("sobjects/Account/describe").json()
    real = load(WIRE / "sobject-describe-account.json")
    diff = shape_diff(real, body)
    assert diff == []
    assert set(body["fields"][0]) == set(real["fields"][0])
    ids = next(f for f in body["fields"] if f["name"] == "Id")
    real_id = next(f for f in real["fields"] if f["name"] == "Id")
    for key in ("type", "soapType", "length", "byteLength", "nillable", "idLookup", "createable"):
        assert ids[key] == real_id[key], key


def test_custom_setting_describe_matches_trimmed_fixture(emulator) -> None:
    body = Client(emulator).get("sobjects/Kill_Switch__c/describe").json()
    real = load(WIRE / "sobject-describe-custom-object-trimmed.json")
    assert shape_diff(real, body) == []
    assert set(real) <= set(body)
    assert body["customSetting"] is True and body["custom"] is True
    fields = {f["name"]: f for f in body["fields"]}
    checkbox = next(f for f in fields.values() if f["custom"] and f["type"] == "boolean")
    assert checkbox["nillable"] is False and isinstance(checkbox["defaultValue"], bool)
    assert fields["SetupOwnerId"]["referenceTo"] == ["Organization", "Profile", "User"]


def test_unknown_object_is_not_found_like_the_fixture(emulator) -> None:
    resp = Client(emulator).get("sobjects/Nope__c/describe")
    assert resp.status_code == 404
    assert resp.json() == load(WIRE / "error-not-found.json")


# ------------------------------------------------------------------ records


def test_get_with_bad_id_matches_fixture_exactly(emulator) -> None:
    resp = Client(emulator).get("sobjects/Account/23foo")
    assert resp.status_code == 404
    assert resp.json() == load(WIRE / "error-not-found-bad-id.json")


def test_create_response_and_invalid_field(emulator) -> None:
    c = Client(emulator)
    created = c.post("sobjects/Account/", json={"Name": "Acme"})
    assert created.status_code == 201
    assert shape_diff(load(WIRE / "sobject-create-response.json"), created.json(), allow_extra=False) == []
    bad = c.post("sobjects/Account/", json={"foo": 1})
    assert bad.status_code == 400
    real = load(WIRE / "error-invalid-field.json")
    assert shape_diff(real, bad.json(), allow_extra=False) == []
    assert bad.json()[0]["message"] == "No such column 'foo' on sobject of type Account"


def test_organization_record_has_the_real_keys(emulator) -> None:
    c = Client(emulator)
    org_id = emulator.emulator.org_id
    body = c.get(f"sobjects/Organization/{org_id}").json()
    real = load(WIRE / "organization-record.json")
    assert shape_diff(real, body) == []
    assert set(real) <= set(body)
    assert body["attributes"] == {"type": "Organization", "url": f"/services/data/v64.0/sobjects/Organization/{org_id}"}


def test_get_deleted_shape(emulator) -> None:
    c = Client(emulator)
    rid = c.post("sobjects/Account/", json={"Name": "Gone"}).json()["id"]
    assert c.delete(f"sobjects/Account/{rid}").status_code == 204
    body = c.get(
        "sobjects/Account/deleted/", params={"start": "2000-01-01T00:00:00+00:00", "end": "2100-01-01T00:00:00+00:00"}
    ).json()
    assert shape_diff(load(WIRE / "sobject-getdeleted-response.json"), body, allow_extra=False) == []
    assert [d["id"] for d in body["deletedRecords"]] == [rid]


# ------------------------------------------------------------------ query


def _structure(body: dict) -> dict:
    """A query body with records reduced to their attributes (fixture objects are fictional upstream)."""
    return {**body, "records": [{"attributes": r["attributes"]} for r in body["records"]]}


def _accounts(c: Client, n: int) -> list[str]:
    return [c.post("sobjects/Account/", json={"Name": f"Acct {i}"}).json()["id"] for i in range(n)]


def test_query_pages_like_the_fixtures(emulator) -> None:
    c = Client(emulator)
    _accounts(c, 3)
    first = c.query("SELECT Name FROM Account ORDER BY Name", headers={"Sforce-Query-Options": "batchSize=2"})
    body1 = first.json()
    assert shape_diff(_structure(load(WIRE / "query-page1-with-nextRecordsUrl.json")), body1) == []
    assert list(body1) == ["totalSize", "done", "nextRecordsUrl", "records"]
    assert body1["totalSize"] == 3 and body1["done"] is False and len(body1["records"]) == 2
    assert re.fullmatch(r"/services/data/v64\.0/query/01g\w{15}-2", body1["nextRecordsUrl"])
    body2 = c.s.get(c.url(body1["nextRecordsUrl"]), timeout=10).json()
    assert shape_diff(_structure(load(WIRE / "query-page2-done.json")), body2) == []
    assert set(body2) == {"totalSize", "done", "records"}
    assert [r["Name"] for r in body1["records"] + body2["records"]] == ["Acct 0", "Acct 1", "Acct 2"]


def test_query_with_parent_and_child_relationships(emulator) -> None:
    c = Client(emulator)
    acct = c.post("sobjects/Account/", json={"Name": "Parent Co"}).json()["id"]
    c.post("sobjects/Contact/", json={"LastName": "Kid", "AccountId": acct})
    body = c.query("SELECT Name, Account.Name FROM Contact").json()
    rec = body["records"][0]
    assert rec["Account"]["Name"] == "Parent Co" and rec["Account"]["attributes"]["type"] == "Account"
    body = c.query("SELECT Name, (SELECT LastName FROM Contacts) FROM Account").json()
    real = load(WIRE / "query-with-relationships.json")
    child = body["records"][0]["Contacts"]
    assert shape_diff(_structure(real["records"][0]["Whizbangs__r"]), child) == []
    assert set(child) == {"totalSize", "done", "records"}
    assert child["records"][0]["LastName"] == "Kid"


def test_aggregate_queries_match_fixture_shapes(emulator) -> None:
    c = Client(emulator)
    _accounts(c, 2)
    body = c.query("SELECT COUNT(Id) FROM Account").json()
    assert shape_diff(load(WIRE / "query-aggregate-count.json"), body, allow_extra=False) == []
    assert body["records"][0]["expr0"] == 2
    grouped = c.query("SELECT Name, COUNT(Id) FROM Account GROUP BY Name").json()
    assert shape_diff(_structure(load(WIRE / "query-aggregate-groupby.json")), grouped) == []
    assert set(grouped["records"][0]) == {"attributes", "Name", "expr0"}
    assert grouped["records"][0]["attributes"] == {"type": "AggregateResult"}


# ------------------------------------------------------------------ composite


def test_composite_request_fixture_runs_and_matches_response_shape(emulator) -> None:
    c = Client(emulator)
    _accounts(c, 1)
    request = load(WIRE / "composite-request.json")
    for sub in request["compositeRequest"]:
        sub["url"] = sub["url"].replace("vxx.0", "v64.0")
    body = c.post("composite", json=request).json()
    assert shape_diff(load(WIRE / "composite-response.json"), body, allow_extra=False) == []
    assert [r["referenceId"] for r in body["compositeResponse"]] == [
        r["referenceId"] for r in request["compositeRequest"]
    ]


def test_composite_subrequest_errors_match(emulator) -> None:
    c = Client(emulator)
    body = c.post(
        "composite",
        json={
            "compositeRequest": [
                {
                    "method": "GET",
                    "url": "/services/data/v64.0/sobjects/Account/001000000000000AAA",
                    "referenceId": "r0",
                },
                {"method": "GET", "url": "/services/data/v64.0/query?q=select count() from XYZZY", "referenceId": "r1"},
            ]
        },
    )
    assert body.status_code == 200
    out = body.json()["compositeResponse"]
    nf = load(WIRE / "composite-response-subrequest-not-found.json")["compositeResponse"][0]
    assert shape_diff(nf, out[0], allow_extra=False) == [] and out[0]["httpStatusCode"] == 404
    bad_type = load(WIRE / "composite-response-invalid-type.json")["compositeResponse"][1]
    assert out[1]["httpStatusCode"] == 400
    assert out[1]["body"][0]["errorCode"] == "INVALID_TYPE"
    assert out[1]["body"][0]["message"] == bad_type["body"][0]["message"]


def test_composite_count_only_query_matches(emulator) -> None:
    c = Client(emulator)
    _accounts(c, 2)
    body = c.post(
        "composite",
        json={
            "compositeRequest": [
                {
                    "method": "GET",
                    "url": "/services/data/v64.0/query?q=select count() from Account",
                    "referenceId": "refAccount",
                }
            ]
        },
    ).json()
    real = load(WIRE / "composite-response-invalid-type.json")["compositeResponse"][0]
    assert shape_diff(real, body["compositeResponse"][0], allow_extra=False) == []
    assert body["compositeResponse"][0]["body"] == {"totalSize": 2, "done": True, "records": []}


def test_composite_sobjects_create_and_upsert(emulator) -> None:
    c = Client(emulator)
    request = load(WIRE / "composite-sobjects-create-request.json")
    body = c.post("composite/sobjects", json=request).json()
    assert shape_diff(load(WIRE / "composite-sobjects-create-response.json"), body, allow_extra=False) == []
    assert len(body) == len(request["records"]) and all(r["success"] for r in body)
    up = c.patch(
        "composite/sobjects/Account/Id",
        json={
            "allOrNone": False,
            "records": [{"attributes": {"type": "Account"}, "Id": body[0]["id"], "Name": "Renamed"}],
        },
    ).json()
    assert shape_diff(load(WIRE / "composite-sobjects-upsert-response.json"), up, allow_extra=False) == []
    assert up[0]["created"] is False


# ------------------------------------------------------------------ limits


def test_limits_body_has_real_structure_and_moves(emulator) -> None:
    c = Client(emulator)
    first = c.get("limits/").json()
    real = load(WIRE / "limits.json")
    assert shape_diff(real["DailyApiRequests"], first["DailyApiRequests"]) == []
    common = set(real) & set(first)
    assert len(common) >= 30
    for name in common:
        assert {"Max", "Remaining"} <= set(first[name])
    second = c.get("limits").json()
    assert second["DailyApiRequests"]["Remaining"] == first["DailyApiRequests"]["Remaining"] - 1


def test_record_count_matches(emulator) -> None:
    c = Client(emulator)
    _accounts(c, 1)
    body = c.get("limits/recordCount", params={"sObjects": "Account"}).json()
    assert body == {"sObjects": [{"count": 1, "name": "Account"}]}
    assert shape_diff(load(WIRE / "limits-recordcount.json"), body, allow_extra=False) == []


# ------------------------------------------------------------------ tooling


def test_tooling_queries_carry_tooling_keys(emulator) -> None:
    c = Client(emulator)
    for fixture, soql in (
        ("tooling-query-apexclass.json", "SELECT Id, Name FROM ApexClass"),
        (
            "tooling-query-apexlog.json",
            "SELECT Id, Application, DurationMilliseconds, Location, LogLength, LogUserId, "
            "Operation, Request, StartTime, Status FROM ApexLog",
        ),
    ):
        body = c.query(soql, tooling=True).json()
        real = load(WIRE / fixture)
        assert shape_diff(real, body) == [], fixture
        assert set(body) == set(real), fixture
        assert body["size"] == body["totalSize"] >= 1
        assert body["entityTypeName"] == real["entityTypeName"]


def test_tooling_traceflag_and_debuglevel_round_trip(emulator) -> None:
    c = Client(emulator)
    dl_req = load(WIRE / "tooling-create-debuglevel-request.json")
    dl_req.update({"DeveloperName": "SFOPS_T", "MasterLabel": "SFOPS_T"})
    created = c.post("tooling/sobjects/DebugLevel/", json=dl_req)
    assert created.status_code == 201
    assert shape_diff(load(WIRE / "tooling-create-response.json"), created.json(), allow_extra=False) == []
    dl_id = created.json()["id"]
    got = c.get(f"tooling/sobjects/DebugLevel/{dl_id}").json()
    assert shape_diff(load(WIRE / "tooling-get-debuglevel.json"), got) == []
    tf_req = load(WIRE / "tooling-create-traceflag-request.json")
    user_id = c.query("SELECT Id FROM User WHERE Username = 'admin@sfops.demo'").json()["records"][0]["Id"]
    tf_req.update({"DebugLevelId": dl_id, "TracedEntityId": user_id})
    assert c.post("tooling/sobjects/TraceFlag/", json=tf_req).status_code == 201
    body = c.query(
        "SELECT Id, ApexCode, ApexProfiling, Callout, Database, DebugLevelId, StartDate, System, "
        "TracedEntityId, Validation, Visualforce, Workflow, LogType, ExpirationDate, CreatedDate "
        "FROM TraceFlag",
        tooling=True,
    ).json()
    assert shape_diff(load(WIRE / "tooling-query-traceflag.json"), body) == []
    assert body["records"][0]["ExpirationDate"] == "2018-02-23T06:35:00.000+0000"


def test_tooling_apexlog_get_and_bodies(emulator) -> None:
    c = Client(emulator)
    fixture_body = (WIRE / "apexlog-body-limit-usage-excerpt.log").read_text()
    ids = emulator.control("POST", "apexlogs", {"logs": [{"body": fixture_body, "Status": "Success"}]})["ids"]
    got = c.get(f"tooling/sobjects/ApexLog/{ids[0]}").json()
    real = load(WIRE / "tooling-get-apexlog.json")
    assert shape_diff(real, got) == [] and set(real) <= set(got)
    assert got["LogLength"] == len(fixture_body.encode())
    for path in (f"tooling/sobjects/ApexLog/{ids[0]}/Body", f"sobjects/ApexLog/{ids[0]}/Body/"):
        resp = c.get(path)
        assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/plain")
        assert resp.text == fixture_body
    small = (WIRE / "apexlog-body-small.log").read_text()
    small_id = emulator.control("POST", "apexlogs", {"body": small})["ids"][0]
    assert c.get(f"sobjects/ApexLog/{small_id}/Body").text == small


def test_run_tests_asynchronous_returns_a_bare_job_id(emulator) -> None:
    resp = Client(emulator).post("tooling/runTestsAsynchronous/", json={"classNames": "FeatureKillSwitchTest"})
    real = load(WIRE / "tooling-runtestsasynchronous-response.json")
    assert isinstance(resp.json(), str) and isinstance(real, str)
    assert resp.json().startswith("707") and len(resp.json()) == len(real)
