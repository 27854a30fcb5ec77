"""Behaviour over real HTTPS: auth modes, sessions, faults, custom settings, composite, journal."""

from __future__ import annotations

import gzip
import json
import time
from datetime import timedelta

import jwt
import pytest
import requests
from emu_helpers import Client

from sfops.emulator import ids
from sfops.emulator.seed import SEED_DATA
from sfops.emulator.testing import make_jwt_keypair

pytestmark = pytest.mark.integration


def _token(emulator, **form) -> requests.Response:
    return emulator.session().post(f"{emulator.url}/services/oauth2/token", data=form, timeout=10)


# ------------------------------------------------------------------ auth


def test_client_credentials_and_wrong_secret(emulator) -> None:
    s = emulator.settings
    ok = _token(emulator, grant_type="client_credentials", client_id=s.client_id, client_secret=s.client_secret)
    assert ok.status_code == 200 and ok.json()["access_token"]
    bad = _token(emulator, grant_type="client_credentials", client_id=s.client_id, client_secret="x")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_client"
    unknown = _token(emulator, grant_type="password", client_id="nope", username="a", password="b")
    assert unknown.json()["error"] == "invalid_client_id"


def test_refresh_token_grant(emulator) -> None:
    s = emulator.settings
    refresh = emulator.control("POST", "refresh-tokens", {"username": s.admin_username})["refresh_token"]
    resp = _token(
        emulator,
        grant_type="refresh_token",
        client_id=s.client_id,
        client_secret=s.client_secret,
        refresh_token=refresh,
    )
    assert resp.status_code == 200
    assert Client(emulator, resp.json()["access_token"]).get("limits").status_code == 200


def test_jwt_bearer_verifies_the_signature(emulator, tmp_path) -> None:
    key_path, cert_pem = make_jwt_keypair(tmp_path)
    emulator.control("POST", "connected-apps", {"client_id": "jwt-app", "certificate": cert_pem})
    claims = {
        "iss": "jwt-app",
        "sub": emulator.settings.admin_username,
        "aud": "https://login.salesforce.com",
        "exp": int(time.time()) + 180,
    }
    good = jwt.encode(claims, key_path.read_text(), algorithm="RS256")
    resp = _token(emulator, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer", assertion=good)
    assert resp.status_code == 200 and resp.json()["instance_url"] == emulator.url
    (tmp_path / "other").mkdir()
    other_key, _ = make_jwt_keypair(tmp_path / "other")  # a key the connected app does not trust
    forged = jwt.encode(claims, other_key.read_text(), algorithm="RS256")
    bad = _token(emulator, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer", assertion=forged)
    assert bad.status_code == 400 and bad.json() == {"error": "invalid_grant", "error_description": "invalid assertion"}
    expired = jwt.encode({**claims, "exp": int(time.time()) - 10}, key_path.read_text(), algorithm="RS256")
    assert (
        _token(emulator, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer", assertion=expired).json()["error"]
        == "invalid_grant"
    )


def test_userinfo_identity_and_what_sf_cli_needs(emulator) -> None:
    c = Client(emulator)
    info = c.s.get(f"{emulator.url}/services/oauth2/userinfo", timeout=10).json()
    assert {"user_id", "organization_id", "preferred_username"} <= set(info)
    user = c.s.get(f"{emulator.url}/services/data/v51.0/sobjects/User/{info['user_id']}", timeout=10).json()
    assert user["Username"] == info["preferred_username"] == emulator.settings.admin_username
    org = c.s.get(
        f"{emulator.url}/services/data/v51.0/query",
        params={
            "q": "SELECT Name, InstanceName, IsSandbox, TrialExpirationDate, NamespacePrefix, OrganizationType "
            "FROM Organization"
        },
        timeout=10,
    ).json()
    assert org["totalSize"] == 1 and org["records"][0]["OrganizationType"] == "Developer Edition"
    dev_hub = c.s.get(
        f"{emulator.url}/services/data/v51.0/query", params={"q": "SELECT Id FROM ScratchOrgInfo limit 1"}, timeout=10
    )
    assert dev_hub.status_code == 400 and dev_hub.json()[0]["errorCode"] == "INVALID_TYPE"
    ident = c.s.get(f"{emulator.url}/id/{info['organization_id']}/{info['user_id']}", timeout=10).json()
    assert ident["username"] == emulator.settings.admin_username
    assert emulator.session().get(f"{emulator.url}/services/oauth2/userinfo", timeout=10).status_code == 403


def test_expire_sessions_then_fresh_login_works(emulator) -> None:
    c = Client(emulator)
    assert c.get("limits").status_code == 200
    out = emulator.faults(expire_sessions=True)
    assert out["expired_sessions"] >= 1
    assert c.get("limits").status_code == 401
    assert Client(emulator).get("limits").status_code == 200


def test_session_lifetime_expires(emulator) -> None:
    emu = emulator.emulator
    old = emu.sessions.lifetime
    emu.sessions.lifetime = 0.05
    try:
        c = Client(emulator)
        time.sleep(0.1)
        resp = c.get("limits")
    finally:
        emu.sessions.lifetime = old
    assert resp.status_code == 401 and resp.json()[0]["errorCode"] == "INVALID_SESSION_ID"


# ------------------------------------------------------------------ API usage and faults


def test_api_usage_header_counts_and_limit_exceeded(emulator) -> None:
    c = Client(emulator)
    first = c.get("limits").headers["Sforce-Limit-Info"]
    second = c.get("limits").headers["Sforce-Limit-Info"]
    n1, n2 = (int(h.split("=")[1].split("/")[0]) for h in (first, second))
    assert first.startswith("api-usage=") and n2 == n1 + 1
    emulator.faults(api_usage={"used": 15000, "max": 15000})
    resp = c.get("limits")
    assert resp.status_code == 403
    assert resp.json() == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    assert resp.headers["Sforce-Limit-Info"] == "api-usage=15000/15000"


def test_next_n_requests_fail_with_filter(emulator) -> None:
    c = Client(emulator)
    emulator.faults(
        fail={"count": 2, "status": 503, "errorCode": "SERVER_UNAVAILABLE", "method": "GET", "path": "*/query*"}
    )
    assert c.get("limits").status_code == 200  # not matching the filter
    codes = [c.query("SELECT Id FROM Account").status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    emulator.faults(fail={"count": 1, "status": 400, "errorCode": "UNABLE_TO_LOCK_ROW"})
    body = c.get("limits").json()
    assert body[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    kinds = [e["kind"] for e in emulator.requests_journal()]
    assert kinds.count("fault.injected") == 3


def test_locked_record_rejects_writes(emulator) -> None:
    c = Client(emulator)
    rid = c.post("sobjects/Account", json={"Name": "Busy"}).json()["id"]
    emulator.faults(lock_record=rid)
    resp = c.patch(f"sobjects/Account/{rid}", json={"Name": "Nope"})
    assert resp.status_code == 400
    assert resp.json() == [
        {
            "message": f"unable to obtain exclusive access to this record or 1 records: {rid}",
            "errorCode": "UNABLE_TO_LOCK_ROW",
            "fields": [],
        }
    ]
    assert c.get(f"sobjects/Account/{rid}").status_code == 200  # reads still work
    emulator.faults(unlock_record=rid)
    assert c.patch(f"sobjects/Account/{rid}", json={"Name": "Done"}).status_code == 204


def test_drop_connection(emulator) -> None:
    c = Client(emulator)
    emulator.faults(drop_connections={"count": 1, "path": "/services/data/*/limits"})
    with pytest.raises(requests.ConnectionError):
        c.get("limits")
    assert c.get("limits").status_code == 200


def test_latency_knob_is_reported(emulator) -> None:
    out = emulator.faults(latency={"fixed_ms": 1, "jitter_ms": 1})
    assert out["latency"] == {"fixed_ms": 1.0, "jitter_ms": 1.0}
    assert Client(emulator).get("limits").status_code == 200
    assert emulator.control("DELETE", "faults")["latency"] == {"fixed_ms": 0.0, "jitter_ms": 0.0}


# ------------------------------------------------------------------ custom settings


def test_hierarchy_setting_one_record_per_owner(emulator) -> None:
    c = Client(emulator)
    emu = emulator.emulator
    existing = c.query("SELECT Id, SetupOwnerId FROM Kill_Switch__c").json()["records"]
    assert [r["SetupOwnerId"] for r in existing] == [emu.org_id]  # demo seed: org defaults
    dup = c.post("sobjects/Kill_Switch__c", json={"SetupOwnerId": emu.org_id})
    assert dup.status_code == 400
    assert dup.json()[0]["errorCode"] == "DUPLICATE_VALUE" and dup.json()[0]["fields"] == ["SetupOwnerId"]
    profile = c.query("SELECT Id FROM Profile WHERE Name = 'Standard User'").json()["records"][0]["Id"]
    user = emu.admin_user_id()
    assert c.post("sobjects/Kill_Switch__c", json={"SetupOwnerId": profile[:15]}).status_code == 201
    created = c.post("sobjects/Kill_Switch__c", json={"SetupOwnerId": user}).json()
    row = c.get(f"sobjects/Kill_Switch__c/{created['id']}").json()
    checkboxes = [k for k, v in row.items() if k.endswith("__c") and isinstance(v, bool)]
    assert checkboxes and all(isinstance(row[k], bool) for k in checkboxes)  # never null
    assert c.patch(f"sobjects/Kill_Switch__c/{created['id']}", json={checkboxes[0]: None}).status_code == 204
    assert c.get(f"sobjects/Kill_Switch__c/{created['id']}").json()[checkboxes[0]] is False
    bad = c.post("sobjects/Kill_Switch__c", json={"SetupOwnerId": created["id"]})
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    owners = f"('{emu.org_id}', '{profile}')"  # ids the emulator generated
    scoped = c.query("SELECT Id FROM Kill_Switch__c WHERE SetupOwnerId IN " + owners).json()  # noqa: S608
    assert scoped["totalSize"] == 2


def test_list_setting_names_are_unique(emulator) -> None:
    c = Client(emulator)
    assert c.post("sobjects/Circuit_Breaker__c", json={"Name": "payments"}).status_code == 201
    dup = c.post("sobjects/Circuit_Breaker__c", json={"Name": "PAYMENTS"})
    assert dup.status_code == 400 and dup.json()[0]["errorCode"] == "DUPLICATE_VALUE"
    missing = c.post("sobjects/Circuit_Breaker__c", json={})
    assert missing.json()[0]["errorCode"] == "REQUIRED_FIELD_MISSING"


# ------------------------------------------------------------------ ids, events, composite


def test_ids_have_prefix_and_checksum_and_15_char_ids_work(emulator) -> None:
    c = Client(emulator)
    rid = c.post("sobjects/Account", json={"Name": "Ids"}).json()["id"]
    assert len(rid) == 18 and ids.checksum(rid[:15]) == rid[15:] and rid.startswith("001")
    assert c.get(f"sobjects/Account/{rid[:15]}").json()["Id"] == rid
    soql = "SELECT Id FROM Account WHERE Id = '" + rid[:15] + "'"  # noqa: S608 - an id we generated
    assert c.query(soql).json()["totalSize"] == 1
    unknown = ids.to18("001" + "5g0" + "zzzzzzzzz")
    assert c.get(f"sobjects/Account/{unknown}").json()[0]["message"] == "The requested resource does not exist"


def test_platform_event_publish_shape(emulator) -> None:
    c = Client(emulator)
    resp = c.post("sobjects/Incident_Event__e/", json={})
    body = resp.json()
    assert resp.status_code == 201 and body["success"] is True and body["id"].startswith("e00")
    assert body["errors"][0]["statusCode"] == "OPERATION_ENQUEUED" and body["errors"][0]["fields"] == []
    events = emulator.control("GET", "events")["events"]
    assert [e["uuid"] for e in events] == [body["errors"][0]["message"]]


def test_composite_all_or_none_rolls_back_and_references_resolve(emulator) -> None:
    c = Client(emulator)
    ok = c.post(
        "composite",
        json={
            "allOrNone": True,
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": "/services/data/v64.0/sobjects/Account",
                    "referenceId": "acct",
                    "body": {"Name": "Ref Parent"},
                },
                {
                    "method": "POST",
                    "url": "/services/data/v64.0/sobjects/Contact",
                    "referenceId": "kid",
                    "body": {"LastName": "Ref Kid", "AccountId": "@{acct.id}"},
                },
            ],
        },
    ).json()["compositeResponse"]
    assert [r["httpStatusCode"] for r in ok] == [201, 201]
    failed = c.post(
        "composite",
        json={
            "allOrNone": True,
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": "/services/data/v64.0/sobjects/Account",
                    "referenceId": "a",
                    "body": {"Name": "Rolled Back"},
                },
                {
                    "method": "POST",
                    "url": "/services/data/v64.0/sobjects/Account",
                    "referenceId": "b",
                    "body": {"Bogus": 1},
                },
            ],
        },
    ).json()["compositeResponse"]
    assert [r["httpStatusCode"] for r in failed] == [201, 400]
    names = [r["Name"] for r in c.query("SELECT Name FROM Account").json()["records"]]
    assert names == ["Ref Parent"]
    journal = emulator.requests_journal("rest.composite")
    assert len(journal) == 2 and all(e["counted"] for e in journal)


def test_composite_batch_and_sobjects_all_or_none(emulator) -> None:
    c = Client(emulator)
    batch = c.post(
        "composite/batch",
        json={
            "batchRequests": [{"method": "GET", "url": "v64.0/limits"}, {"method": "GET", "url": "v64.0/sobjects/Nope"}]
        },
    ).json()
    assert batch["hasErrors"] is True and [r["statusCode"] for r in batch["results"]] == [200, 404]
    res = c.post(
        "composite/sobjects",
        json={
            "allOrNone": True,
            "records": [{"attributes": {"type": "Account"}, "Name": "x"}, {"attributes": {"type": "Account"}}],
        },
    ).json()
    assert [r["success"] for r in res] == [False, False]
    assert res[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert res[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert c.query("SELECT COUNT() FROM Account").json()["totalSize"] == 0


# ------------------------------------------------------------------ tooling, logs, journal, transport


def test_execute_anonymous_shape_fault_and_debug_log(emulator) -> None:
    c = Client(emulator)
    user = emulator.emulator.admin_user_id()
    dl = c.query("SELECT Id FROM DebugLevel WHERE DeveloperName = 'SFOPS_DEBUG'", tooling=True).json()
    assert (
        c.post(
            "tooling/sobjects/TraceFlag",
            json={
                "tracedentityid": user,
                "logtype": "DEVELOPER_LOG",
                "debuglevelid": dl["records"][0]["Id"],
                "StartDate": int(time.time() * 1000) - 1000,
                "ExpirationDate": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 600)),
            },
        ).status_code
        == 201
    )
    before = c.query("SELECT COUNT() FROM ApexLog", tooling=True).json()["totalSize"]
    ok = c.get("tooling/executeAnonymous/", params={"anonymousBody": "System.debug('hi');"}).json()
    assert ok == {
        "line": -1,
        "column": -1,
        "compiled": True,
        "success": True,
        "compileProblem": None,
        "exceptionStackTrace": None,
        "exceptionMessage": None,
    }
    assert c.query("SELECT COUNT() FROM ApexLog", tooling=True).json()["totalSize"] == before + 1
    emulator.faults(anonymous={"compiled": False, "compileProblem": "Unexpected token", "line": 1, "column": 7})
    bad = c.get("tooling/executeAnonymous", params={"anonymousBody": "Sys tem"}).json()
    assert bad["compiled"] is False and bad["success"] is False and bad["line"] == 1


def test_apexlog_delete_and_journal_kinds(emulator) -> None:
    c = Client(emulator)
    emulator.control("DELETE", "requests")
    logs = c.query("SELECT Id, LogUser.Name FROM ApexLog ORDER BY StartTime DESC", tooling=True).json()
    seeded = len(list((SEED_DATA / "apexlogs").glob("*.log")))
    assert logs["totalSize"] == seeded and logs["records"][0]["LogUser"]["Name"] == "Ada Admin"
    assert c.delete(f"tooling/sobjects/ApexLog/{logs['records'][0]['Id']}").status_code == 204
    assert c.get(f"sobjects/ApexLog/{logs['records'][0]['Id']}/Body").status_code == 404
    journal = emulator.control("GET", "requests")
    kinds = [e["kind"] for e in journal["requests"]]
    assert "tooling.query" in kinds and "tooling.sobject" in kinds and "rest.sobject.body" in kinds
    assert journal["api_calls"] == 3


def test_path_normalisation_versions_and_gzip(emulator) -> None:
    c = Client(emulator)
    assert c.s.get(f"{emulator.url}/services/data/v64.0//limits/", timeout=10).status_code == 200
    # API End-of-Life Policy: a retired version (7.0-30.0) answers 410 GONE; an unknown future one 404
    assert c.s.get(f"{emulator.url}/services/data/v19.0/limits", timeout=10).status_code == 410
    assert c.s.get(f"{emulator.url}/services/data/v99.0/limits", timeout=10).status_code == 404
    assert c.s.get(f"{emulator.url}/services/data/v64.0", timeout=10).json()["sobjects"].endswith("/sobjects")
    body = gzip.compress(json.dumps({"Name": "Zipped"}).encode())
    resp = c.s.post(
        c.data("sobjects/Account"),
        data=body,
        timeout=10,
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert resp.status_code == 201


def test_state_persists_across_restart(tmp_path) -> None:
    from sfops.emulator.app import Emulator, EmulatorSettings
    from sfops.emulator.wire import Request

    db = tmp_path / "org.sqlite3"
    emu = Emulator(db, EmulatorSettings())
    token = emu.sessions.create(emu.admin_user_id()).token
    headers = {"authorization": f"Bearer {token}", "host": "localhost"}
    created = emu.dispatch(
        Request("POST", "/services/data/v64.0/sobjects/Account", headers=headers, body=b'{"Name": "Durable"}')
    ).json()
    org = emu.org_id
    emu.save_meta()
    emu.store.close()
    again = Emulator(db, EmulatorSettings())
    assert again.org_id == org
    got = again.dispatch(
        Request("GET", f"/services/data/v64.0/sobjects/Account/{created['id']}", headers=dict(headers))
    )
    assert got.status == 200 and got.json()["Name"] == "Durable"
    fresh = again.dispatch(
        Request("POST", "/services/data/v64.0/sobjects/Account", headers=dict(headers), body=b'{"Name": "New"}')
    ).json()
    assert fresh["id"] != created["id"]


def test_query_column_metadata_for_sf_data_query(emulator) -> None:
    c = Client(emulator)
    body = c.get("query", params={"q": "SELECT Id, Username, Profile.Name FROM User", "columns": "true"}).json()
    assert body["entityName"] == "User" and body["idSelected"] is True and body["keyPrefix"] == "005"
    cols = body["columnMetadata"]
    assert [col["columnName"] for col in cols] == ["Id", "Username", "Profile"]
    assert cols[2]["joinColumns"][0]["columnName"] == "Name"
    agg = c.get("query", params={"q": "SELECT COUNT(Id) FROM Account", "columns": "true"}).json()
    assert agg["columnMetadata"][0]["aggregate"] is True and agg["columnMetadata"][0]["displayName"] == "COUNT(Id)"
    bad = c.get("query", params={"q": "SELECT Nope FROM User", "columns": "true"})
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_FIELD"


def test_tooling_apex_email_notification_crud_and_apex_class_read(emulator) -> None:
    c = Client(emulator)
    created = c.post("tooling/sobjects/ApexEmailNotification", json={"email": "ops@example.com"})
    assert created.status_code == 201 and created.json()["warnings"] == []
    nid = created.json()["id"]
    assert (
        c.patch(f"tooling/sobjects/ApexEmailNotification/{nid}", json={"Email": "oncall@example.com"}).status_code
        == 204
    )
    assert c.get(f"tooling/sobjects/ApexEmailNotification/{nid}").json()["Email"] == "oncall@example.com"
    assert c.delete(f"tooling/sobjects/ApexEmailNotification/{nid}").status_code == 204
    cls = c.query("SELECT Id FROM ApexClass WHERE Name = 'FeatureKillSwitch'", tooling=True).json()["records"][0]
    body = c.get(f"tooling/sobjects/ApexClass/{cls['Id']}").json()
    assert body["Name"] == "FeatureKillSwitch" and "class FeatureKillSwitch" in body["Body"]
    denied = c.post("tooling/sobjects/ApexClass", json={"Name": "X"})
    assert denied.status_code == 400 and denied.json()[0]["errorCode"] == "INVALID_TYPE_FOR_OPERATION"


def test_unexpected_errors_answer_500_unknown_exception(emulator, monkeypatch) -> None:
    from sfops.emulator.orgstate import OrgState

    def boom(self):
        raise KeyError("bug")

    monkeypatch.setattr(OrgState, "limits_body", boom)
    resp = Client(emulator).get("limits")
    assert resp.status_code == 500 and resp.json()[0]["errorCode"] == "UNKNOWN_EXCEPTION"
    assert "ErrorId" in resp.json()[0]["message"]


def test_limits_move_with_usage_and_can_be_overridden(emulator) -> None:
    c = Client(emulator)
    before = c.get("limits").json()
    c.post("sobjects/Incident_Event__e", json={})
    after = c.get("limits").json()
    assert (
        after["HourlyPublishedPlatformEvents"]["Remaining"] == before["HourlyPublishedPlatformEvents"]["Remaining"] - 1
    )
    emulator.faults(limits={"DataStorageMB": {"Max": 5, "Remaining": 1}})
    assert c.get("limits").json()["DataStorageMB"] == {"Max": 5, "Remaining": 1}
    emulator.faults(api_usage={"used": 15000, "max": 15000})
    emulator.control("DELETE", "requests")
    assert c.get("limits").status_code == 403
    assert [e["counted"] for e in emulator.requests_journal("rest")] == [False]


def test_trace_flag_rules(emulator) -> None:
    c = Client(emulator)
    user = emulator.emulator.admin_user_id()
    dl = c.query("SELECT Id FROM DebugLevel", tooling=True).json()["records"][0]["Id"]
    now = int(time.time() * 1000)
    flag = {"TracedEntityId": user, "DebugLevelId": dl, "LogType": "USER_DEBUG", "StartDate": now}
    too_long = c.post("tooling/sobjects/TraceFlag", json={**flag, "ExpirationDate": now + 25 * 3600 * 1000})
    assert too_long.status_code == 400 and too_long.json()[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    first = c.post("tooling/sobjects/TraceFlag", json={**flag, "ExpirationDate": now + 3600 * 1000})
    assert first.status_code == 201
    again = c.post("tooling/sobjects/TraceFlag", json={**flag, "ExpirationDate": now + 3600 * 1000})
    assert again.status_code == 400 and again.json()[0]["message"] == "This entity is already being traced."
    other_type = c.post(
        "tooling/sobjects/TraceFlag", json={**flag, "LogType": "DEVELOPER_LOG", "ExpirationDate": now + 3600 * 1000}
    )
    assert other_type.status_code == 201
    extended = c.patch(
        f"tooling/sobjects/TraceFlag/{first.json()['id']}", json={"ExpirationDate": now + 2 * 3600 * 1000}
    )
    assert extended.status_code == 204


def test_deleting_an_object_drops_its_rows(emulator) -> None:
    c = Client(emulator)
    assert c.post("sobjects/Error_Log__c", json={"Fingerprint__c": "gone"}).status_code == 201
    emu = emulator.emulator
    removed = emu.schema.remove_object("Error_Log__c")  # what a destructive deploy does
    assert c.get("sobjects/Error_Log__c/describe").status_code == 404
    emu.schema.upsert_object(removed)
    assert c.query("SELECT COUNT() FROM Error_Log__c").json()["totalSize"] == 0


def test_auto_number_name_is_assigned_in_sequence_and_never_reused(emulator) -> None:
    client = Client(emulator)
    first = client.post("sobjects/Incident_Log__c", json={"Severity__c": "P3", "Status__c": "New"}).json()["id"]
    second = client.post("sobjects/Incident_Log__c", json={"Severity__c": "P4", "Status__c": "New"}).json()["id"]
    names = [client.get(f"sobjects/Incident_Log__c/{rid}").json()["Name"] for rid in (first, second)]
    assert names == ["INC-00001", "INC-00002"]
    assert client.delete(f"sobjects/Incident_Log__c/{second}").status_code == 204
    third = client.post("sobjects/Incident_Log__c", json={"Severity__c": "P2", "Status__c": "New"}).json()["id"]
    assert client.get(f"sobjects/Incident_Log__c/{third}").json()["Name"] == "INC-00003"
    refused = client.patch(f"sobjects/Incident_Log__c/{third}", json={"Name": "mine"})
    assert refused.status_code == 400


def test_if_unmodified_since_guards_updates(emulator) -> None:
    from email.utils import format_datetime

    from sfops.emulator.values import parse_datetime

    client = Client(emulator)
    rid = client.post("sobjects/Incident_Log__c", json={"Severity__c": "P3", "Status__c": "New"}).json()["id"]
    modified = parse_datetime(client.get(f"sobjects/Incident_Log__c/{rid}").json()["LastModifiedDate"])
    before = format_datetime(modified.replace(microsecond=0) - timedelta(seconds=5), usegmt=True)
    after = format_datetime(modified.replace(microsecond=0) + timedelta(seconds=5), usegmt=True)
    stale = client.patch(
        f"sobjects/Incident_Log__c/{rid}", json={"Status__c": "Triaged"}, headers={"If-Unmodified-Since": before}
    )
    assert stale.status_code == 412 and stale.json()[0]["errorCode"] == "PRECONDITION_FAILED"
    assert client.get(f"sobjects/Incident_Log__c/{rid}").json()["Status__c"] == "New"
    fresh = client.patch(
        f"sobjects/Incident_Log__c/{rid}", json={"Status__c": "Triaged"}, headers={"If-Unmodified-Since": after}
    )
    assert fresh.status_code == 204
    bad = client.patch(
        f"sobjects/Incident_Log__c/{rid}", json={"Status__c": "New"}, headers={"If-Unmodified-Since": "yesterday"}
    )
    assert bad.status_code == 400
