"""simple-salesforce, unmodified, against the emulator over HTTPS (session-id mode, CA trusted)."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession, SalesforceMalformedRequest

pytestmark = pytest.mark.integration


@pytest.fixture
def sf(emulator) -> Salesforce:
    token = emulator.login()["access_token"]
    return Salesforce(instance_url=emulator.url, session_id=token, session=emulator.session(), version="64.0")


def test_query_and_query_all_with_paging(sf, emulator) -> None:
    for i in range(5):
        sf.Account.create({"Name": f"Paged {i}"})
    first = sf.query("SELECT Id, Name FROM Account ORDER BY Name", headers={"Sforce-Query-Options": "batchSize=2"})
    assert first["totalSize"] == 5 and first["done"] is False and len(first["records"]) == 2
    everything = sf.query_all("SELECT Name FROM Account ORDER BY Name", headers={"Sforce-Query-Options": "batchSize=2"})
    assert [r["Name"] for r in everything["records"]] == [f"Paged {i}" for i in range(5)]
    pages = [e for e in emulator.requests_journal("rest.query") if e["path"].count("/query/")]
    assert len(pages) >= 2  # query_all followed nextRecordsUrl


def test_crud_round_trip_and_case_insensitive_fields(sf) -> None:
    created = sf.Account.create({"name": "Lower Case Keys"})
    assert created["success"] is True and created["id"].startswith("001")
    record = sf.Account.get(created["id"])
    assert record["Name"] == "Lower Case Keys" and record["attributes"]["type"] == "Account"
    assert sf.Account.get(created["id"][:15])["Id"] == created["id"]  # 15-char id accepted
    assert sf.Account.update(created["id"], {"NAME": "Renamed"}) == 204
    assert sf.Account.get(created["id"])["Name"] == "Renamed"
    assert sf.Account.delete(created["id"]) == 204
    assert sf.query("SELECT Id FROM Account")["totalSize"] == 0
    assert sf.query_all("SELECT Id, IsDeleted FROM Account", include_deleted=True)["records"][0]["IsDeleted"] is True


def test_upsert_by_external_id_semantics(sf, emulator) -> None:
    assert sf.Incident_Log__c.upsert("Dedup_Key__c/db-down", {"Severity__c": "P1"}) == 201
    status = sf.Incident_Log__c.upsert("Dedup_Key__c/db-down", {"Severity__c": "P2"})
    assert status in (200, 204)
    rows = sf.query("SELECT Severity__c FROM Incident_Log__c WHERE Dedup_Key__c = 'db-down'")
    assert rows["totalSize"] == 1 and rows["records"][0]["Severity__c"] == "P2"
    got = sf.Incident_Log__c.get_by_custom_id("Dedup_Key__c", "db-down")
    assert got["Dedup_Key__c"] == "db-down"


def test_describe_limits_and_api_usage(sf) -> None:
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert {"Kill_Switch__c", "Circuit_Breaker__c", "Incident_Log__c", "Error_Log__c"} <= names
    desc = sf.Kill_Switch__c.describe()
    assert desc["customSetting"] is True
    limits = sf.limits()
    used = limits["DailyApiRequests"]["Max"] - limits["DailyApiRequests"]["Remaining"]
    assert sf.api_usage["api-usage"].used == used
    assert sf.api_usage["api-usage"].total == limits["DailyApiRequests"]["Max"]


def test_toolingexecute_query(sf) -> None:
    result = sf.toolingexecute("query/?q=SELECT+Id,+Name+FROM+ApexClass+ORDER+BY+Name")
    names = [r["Name"] for r in result["records"]]
    assert "FeatureKillSwitch" in names and result["entityTypeName"] == "ApexClass"
    assert result["size"] == len(names)


def test_expired_session_raises_expired_session(sf, emulator) -> None:
    emulator.faults(expire_sessions=True)
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Account")
    fresh = Salesforce(
        instance_url=emulator.url,
        session_id=emulator.login()["access_token"],
        session=emulator.session(),
        version="64.0",
    )
    assert fresh.query("SELECT Id FROM Account")["totalSize"] == 0


def test_malformed_query_error_shape(sf) -> None:
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Nope__c FROM Account")
    assert err.value.content[0]["errorCode"] == "INVALID_FIELD"


def _package_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(
            "package.xml",
            '<?xml version="1.0" encoding="UTF-8"?><Package xmlns="http://soap.sforce.com/'
            '2006/04/metadata"><types><members>Widget__c</members><name>CustomObject</name></types>'
            "<version>64.0</version></Package>",
        )
        zf.writestr(
            "objects/Widget__c.object",
            '<?xml version="1.0" encoding="UTF-8"?><CustomObject xmlns='
            '"http://soap.sforce.com/2006/04/metadata"><label>Widget</label><pluralLabel>Widgets'
            "</pluralLabel><nameField><label>Widget Name</label><type>Text</type></nameField>"
            "<deploymentStatus>Deployed</deploymentStatus><sharingModel>ReadWrite</sharingModel>"
            "<fields><fullName>Size__c</fullName><label>Size</label><type>Number</type>"
            "<precision>18</precision><scale>0</scale></fields></CustomObject>",
        )
    return buf.getvalue()


def test_deploy_and_check_deploy_status_change_the_schema(sf, emulator, tmp_path) -> None:
    if emulator.emulator.metadata_service() is None:
        pytest.fail("the Metadata API service is not importable")
    path = tmp_path / "deploy.zip"
    path.write_bytes(_package_zip())
    started = sf.deploy(str(path), sandbox=False)
    assert started["asyncId"].startswith("0Af")
    status = {}
    for _ in range(20):
        status = sf.checkDeployStatus(started["asyncId"])
        if status["state"] in ("Succeeded", "Failed", "SucceededPartial", "Canceled"):
            break
        time.sleep(0.05)
    assert status["state"] == "Succeeded", status
    assert sf.Widget__c.describe()["fields"][-1]["name"] in {f["name"] for f in sf.Widget__c.describe()["fields"]}
    assert sf.Widget__c.create({"Name": "w1", "Size__c": 3})["success"] is True
    kinds = {e["kind"] for e in emulator.requests_journal("soap")}
    assert "soap.metadata" in kinds


def test_upsert_with_two_matches_is_300_more_than_one_record(sf) -> None:
    from simple_salesforce.exceptions import SalesforceMoreThanOneRecord

    for _ in range(2):
        sf.Error_Log__c.create({"Fingerprint__c": "abc123"})
    with pytest.raises(SalesforceMoreThanOneRecord) as err:
        sf.Error_Log__c.upsert("Fingerprint__c/abc123", {"Class_Name__c": "X"})
    urls = err.value.content
    assert len(urls) == 2 and all(u.startswith("/services/data/v64.0/sobjects/Error_Log__c/") for u in urls)
