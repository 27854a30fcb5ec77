"""Org REST helpers against real recorded bodies."""

from __future__ import annotations

import json

import pytest
import responses
from responses import matchers
from sf_fixtures import API, INSTANCE, LOGIN, wire_bytes, wire_text

from sfops.errors import NotFoundError, SalesforceError
from sfops.salesforce import OrgIdentity

JSON = "application/json"


def test_request_paths(org) -> None:
    assert org.url("limits/") == f"{API}/limits/"
    assert org.url("/services/oauth2/userinfo") == f"{INSTANCE}/services/oauth2/userinfo"
    assert org.url(f"{INSTANCE}/services/data/v26.0/query/01gD") == f"{INSTANCE}/services/data/v26.0/query/01gD"
    assert org.url(f"{LOGIN}/id/00D/005") == f"{LOGIN}/id/00D/005"
    # the bearer token never goes to another host, nor over plain http
    for foreign in ("https://other.example/x", "http://acme.my.salesforce.com/x"):
        with pytest.raises(SalesforceError, match="Refusing to send the org's token"):
            org.url(foreign)


def test_query_follows_next_records_url(org, rsps) -> None:
    soql = "SELECT Text_Label FROM Whizbang"
    rsps.get(
        f"{API}/query/",
        body=wire_bytes("query-page1-with-nextRecordsUrl.json"),
        content_type=JSON,
        match=[matchers.query_param_matcher({"q": soql})],
    )
    rsps.get(f"{INSTANCE}/services/data/v26.0/query/01gD", body=wire_bytes("query-page2-done.json"), content_type=JSON)
    records = org.query(soql)
    assert [r["Text_Label"] for r in records] == ["First Page", "Last Page"]
    assert records[0]["attributes"]["type"] == "Whizbang"


def test_query_iter_is_lazy_and_sends_batch_size(org, rsps) -> None:
    rsps.get(f"{API}/query/", body=wire_bytes("query-page1-with-nextRecordsUrl.json"), content_type=JSON)
    rsps.get(f"{INSTANCE}/services/data/v26.0/query/01gD", body=wire_bytes("query-page2-done.json"), content_type=JSON)
    records = org.query_iter("SELECT Text_Label FROM Whizbang", batch_size=200)
    assert next(records)["Text_Label"] == "First Page"
    assert len(rsps.calls) == 1
    assert next(records)["Text_Label"] == "Last Page"
    assert [c.request.headers["Sforce-Query-Options"] for c in rsps.calls] == ["batchSize=200"] * 2


def test_query_all_and_relationships_and_aggregates(org, rsps) -> None:
    rsps.get(f"{API}/queryAll/", body=wire_bytes("query-with-relationships.json"), content_type=JSON)
    rsps.get(f"{API}/query/", body=wire_bytes("query-aggregate-count.json"), content_type=JSON)
    expected = json.loads(wire_text("query-with-relationships.json"))["records"]
    assert org.query("SELECT x FROM y", include_deleted=True) == expected
    assert org.query("SELECT count(Id) FROM Account")[0]["attributes"]["type"] == "AggregateResult"


def test_tooling_query(org, rsps) -> None:
    rsps.get(f"{API}/tooling/query/", body=wire_bytes("tooling-query-apexclass.json"), content_type=JSON)
    records = org.tooling_query("SELECT Id, Name FROM ApexClass")
    assert records == json.loads(wire_text("tooling-query-apexclass.json"))["records"]


def test_tooling_request_returns_text_bodies(org, rsps) -> None:
    log_body = wire_text("apexlog-body-small.log")
    rsps.get(f"{API}/tooling/sobjects/ApexLog/07L7i00000MYv6qEAD/Body", body=log_body, content_type="text/plain")
    assert org.tooling_request("GET", "sobjects/ApexLog/07L7i00000MYv6qEAD/Body") == log_body


def test_crud(org, rsps) -> None:
    rsps.get(
        f"{API}/sobjects/Organization/00D0xORGID00000000",
        body=wire_bytes("organization-record.json"),
        content_type=JSON,
        match=[matchers.query_param_matcher({"fields": "Id,Name"})],
    )
    rsps.post(
        f"{API}/sobjects/Account/",
        body=wire_bytes("sobject-create-response.json"),
        status=201,
        content_type=JSON,
        match=[matchers.json_params_matcher({"Name": "Smith Corp."})],
    )
    rsps.patch(f"{API}/sobjects/Account/0010xACCOUNTID0000", status=204)
    rsps.delete(f"{API}/sobjects/Account/0010xACCOUNTID0000", status=204)
    assert org.get("Organization", "00D0xORGID00000000", ["Id", "Name"])["attributes"]["type"] == "Organization"
    assert org.create("Account", {"Name": "Smith Corp."}) == "0010xACCOUNTID0000"
    assert org.update("Account", "0010xACCOUNTID0000", {"Name": "New"}) is None
    assert org.delete("Account", "0010xACCOUNTID0000") is None
    rsps.get(
        f"{API}/sobjects/Account/23foo", body=wire_bytes("error-not-found-bad-id.json"), status=404, content_type=JSON
    )
    with pytest.raises(NotFoundError, match="23foo"):
        org.get("Account", "23foo")


def test_platform_event_publish_with_enqueued_status_is_success(org, rsps) -> None:
    rsps.post(
        f"{API}/sobjects/Incident_Event__e/",
        status=201,
        json={
            "id": "e00xx0000000001AAA",
            "success": True,
            "errors": [{"statusCode": "OPERATION_ENQUEUED", "message": "1e6a1d3c-uuid", "fields": []}],
        },
    )
    assert org.create("Incident_Event__e", {"Summary__c": "x"}) == "e00xx0000000001AAA"


def test_upsert_created_updated_and_no_body(org, rsps) -> None:
    url = f"{API}/sobjects/Incident_Log__c/Dedup_Key__c/checkout%2Fnull%20pointer"
    rsps.patch(url, status=201, json={"id": "a0B000000000001AAA", "success": True, "errors": [], "created": True})
    rsps.patch(url, status=200, json={"id": "a0B000000000001AAA", "success": True, "errors": [], "created": False})
    rsps.patch(url, status=204)
    assert org.upsert("Incident_Log__c", "Dedup_Key__c", "checkout/null pointer", {}) == ("a0B000000000001AAA", True)
    assert org.upsert("Incident_Log__c", "Dedup_Key__c", "checkout/null pointer", {}) == ("a0B000000000001AAA", False)
    assert org.upsert("Incident_Log__c", "Dedup_Key__c", "checkout/null pointer", {}) == (None, False)


def test_describe_is_cached_per_org(org, rsps) -> None:
    rsps.get(f"{API}/sobjects/Account/describe", body=wire_bytes("sobject-describe-account.json"), content_type=JSON)
    rsps.get(f"{API}/sobjects", body=wire_bytes("describe-global.json"), content_type=JSON)
    first = org.describe("Account")
    assert org.describe("account") is first
    assert len(rsps.calls) == 1
    assert first["name"] == "Account"
    assert len(org.describe_global()["sobjects"]) == 110


def test_composite(org, rsps) -> None:
    request = json.loads(wire_text("composite-request.json"))
    rsps.post(
        f"{API}/composite",
        body=wire_bytes("composite-response-invalid-type.json"),
        content_type=JSON,
        match=[matchers.json_params_matcher({"allOrNone": False, "compositeRequest": request["compositeRequest"]})],
    )
    results = org.composite(request["compositeRequest"])
    assert [r["httpStatusCode"] for r in results] == [200, 400]


def test_composite_sobjects(org, rsps) -> None:
    request = json.loads(wire_text("composite-sobjects-create-request.json"))
    rsps.post(
        f"{API}/composite/sobjects",
        body=wire_bytes("composite-sobjects-create-response.json"),
        content_type=JSON,
        match=[matchers.json_params_matcher(request)],
    )
    rsps.delete(
        f"{API}/composite/sobjects",
        json=[{"id": "001Da00000xnAkBIAU", "success": True, "errors": []}],
        match=[matchers.query_param_matcher({"ids": "001Da00000xnAkBIAU", "allOrNone": "true"})],
    )
    results = org.composite_sobjects("POST", request["records"], all_or_none=False)
    assert len(results) == 6 and all(r["success"] for r in results)
    assert org.composite_sobjects("DELETE", ["001Da00000xnAkBIAU"], all_or_none=True)[0]["success"]
    with pytest.raises(ValueError):
        org.composite_sobjects("GET", [])


def test_composite_sobjects_chunks_by_200_without_all_or_none(org, rsps) -> None:
    records = [{"attributes": {"type": "Account"}, "Name": f"A{i}"} for i in range(450)]

    def answer(request):
        sent = json.loads(request.body)["records"]
        return 200, {}, json.dumps([{"id": None, "success": True, "errors": [], "name": r["Name"]} for r in sent])

    rsps.add_callback(responses.POST, f"{API}/composite/sobjects", callback=answer, content_type=JSON)
    results = org.composite_sobjects("POST", records)
    assert [len(json.loads(c.request.body)["records"]) for c in rsps.calls] == [200, 200, 50]
    assert [r["name"] for r in results] == [r["Name"] for r in records]
    with pytest.raises(ValueError, match="at most 200"):
        org.composite_sobjects("POST", records, all_or_none=True)


def test_upsert_matching_several_records_is_an_error(org, rsps) -> None:
    rsps.patch(
        f"{API}/sobjects/Account/Ext__c/dup",
        status=300,
        json=[
            "/services/data/v64.0/sobjects/Account/001000000000001AAA",
            "/services/data/v64.0/sobjects/Account/001000000000002AAA",
        ],
    )
    with pytest.raises(SalesforceError) as info:
        org.upsert("Account", "Ext__c", "dup", {"Name": "x"})
    assert info.value.error_code == "MORE_THAN_ONE_RECORD" and info.value.status == 300


def test_identity_from_userinfo(org, rsps) -> None:
    rsps.get(
        f"{INSTANCE}/services/oauth2/userinfo",
        json={
            "user_id": "005U0000000EApcIAG",
            "organization_id": "00DU0000000AlbhMAC",
            "preferred_username": "ops@acme.com",
        },
    )
    assert org.identity == OrgIdentity("00DU0000000AlbhMAC", "005U0000000EApcIAG", "ops@acme.com", INSTANCE, "64.0")
    assert org.identity is org.identity
    assert len(rsps.calls) == 1


NO_ACCESS = {"status": 403, "json": [{"errorCode": "INSUFFICIENT_ACCESS", "message": "no"}]}
CC_INSTANCE = "https://na1.salesforce.com"


def _user_info_answer() -> bytes:
    """getUserInfoResponse built from the userInfo block of the recorded partner login answer."""
    login = wire_text("soap-login-response-partner.xml")
    user_info = login[login.index("<userInfo>") + len("<userInfo>") : login.index("</userInfo>")]
    return (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/'
        'soap/envelope/" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-'
        f'instance"><soapenv:Body><getUserInfoResponse><result>{user_info}</result></getUserInfoResponse>'
        "</soapenv:Body></soapenv:Envelope>"
    ).encode()


@pytest.fixture
def cc_org(make_org, rsps):
    rsps.post(f"{LOGIN}/services/oauth2/token", body=wire_bytes("oauth-token-response.json"), content_type=JSON)
    rsps.get(f"{CC_INSTANCE}/services/oauth2/userinfo", **NO_ACCESS)
    return make_org(auth="client_credentials", client_id="k", secrets={"client_secret": "s"})


def test_identity_falls_back_to_the_id_url_and_makes_18_char_ids(cc_org, rsps) -> None:
    rsps.get(
        "https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P",
        json={"organization_id": "00Dx0000000BV7z", "user_id": "005x00000012Q9P", "username": "ops@acme.com"},
    )
    identity = cc_org.identity
    assert (identity.org_id, identity.user_id, identity.username) == (
        "00Dx0000000BV7zEAG",
        "005x00000012Q9PAAU",
        "ops@acme.com",
    )


def test_identity_falls_back_to_soap_get_user_info(cc_org, rsps) -> None:
    rsps.get("https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P", **NO_ACCESS)
    rsps.post(f"{CC_INSTANCE}/services/Soap/u/64.0", body=_user_info_answer(), content_type="text/xml")
    identity = cc_org.identity
    assert (identity.org_id, identity.user_id, identity.username) == (
        "00DU0000000AlbhMAC",
        "005U0000000EApcIAG",
        "foo@bar.com",
    )
    soap = rsps.calls[-1].request
    assert soap.headers["SOAPAction"] == "getUserInfo"
    assert b"<urn:sessionId>00Dx0000000BV7z!REDACTED_ACCESS_TOKEN</urn:sessionId>" in soap.body


def test_identity_error_when_no_source_answers(cc_org, rsps) -> None:
    rsps.get("https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P", **NO_ACCESS)
    rsps.post(
        f"{CC_INSTANCE}/services/Soap/u/64.0",
        body=wire_bytes("soap-fault-invalid-session-id.xml").replace(b"INVALID_SESSION_ID", b"API_DISABLED_FOR_ORG"),
        status=500,
        content_type="text/xml",
    )
    with pytest.raises(SalesforceError, match="INSUFFICIENT_ACCESS"):
        cc_org.identity  # noqa: B018


def test_sf_shares_the_session_and_follows_token_refresh(make_org, rsps) -> None:
    org = make_org(auth="client_credentials", client_id="k", secrets={"client_secret": "s"})
    answers = [
        dict(json.loads(wire_text("oauth-token-response.json")), access_token=f"00Dx0000000BV7z!TOKEN{n}")
        for n in (1, 2)
    ]
    for answer in answers:
        rsps.post(f"{LOGIN}/services/oauth2/token", json=answer)
    sf = org.sf
    assert sf.session is org.session
    assert sf.session_id.endswith("TOKEN1")
    sf._mdapi = object()
    org.tokens.refresh()
    assert sf.session_id.endswith("TOKEN2")
    assert sf.headers["Authorization"] == "Bearer 00Dx0000000BV7z!TOKEN2"
    assert sf._mdapi is None


def test_sf_call_maps_simple_salesforce_errors(org, rsps) -> None:
    rsps.get(f"{API}/query/", body=wire_bytes("error-invalid-field.json"), status=400, content_type=JSON)
    with pytest.raises(SalesforceError) as info:
        org.sf_call(org.sf.query, "SELECT foo FROM Bar")
    assert info.value.error_code == "INVALID_FIELD" and info.value.status == 400


def test_sf_is_rebuilt_when_a_relogin_moves_the_instance(make_org, rsps) -> None:
    org = make_org(auth="client_credentials", client_id="k", secrets={"client_secret": "s"})
    rsps.post(f"{LOGIN}/services/oauth2/token", json={"access_token": "00Dx0000000BV7z!A", "instance_url": INSTANCE})
    rsps.post(
        f"{LOGIN}/services/oauth2/token",
        json={"access_token": "00Dx0000000BV7z!B", "instance_url": "https://na2.salesforce.com"},
    )
    old = org.sf
    org.tokens.refresh()
    assert org.sf is not old
    assert org.sf.base_url == "https://na2.salesforce.com/services/data/v64.0/"
    assert org.sf.session_id == "00Dx0000000BV7z!B"
