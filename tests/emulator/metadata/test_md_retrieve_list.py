"""retrieve / checkRetrieveStatus, listMetadata and readMetadata, compared with the recorded shapes."""

from __future__ import annotations

import base64

import pytest
from md_support import (
    NS,
    Client,
    MemoryHost,
    apex_class,
    custom_object,
    field,
    package_xml,
    read_zip,
    result_of,
    soap_call,
    soap_check_retrieve,
    soap_retrieve,
    text_field,
)
from paths import WIRE

from sfops.emulator.metadata import MetadataService


@pytest.fixture
def client(host: MemoryHost) -> Client:
    c = Client(MetadataService(host))
    labels = (
        '<?xml version="1.0"?><CustomLabels xmlns="http://soap.sforce.com/2006/04/metadata">'
        "<labels><fullName>Greeting</fullName><language>en_US</language><protected>false</protected>"
        "<shortDescription>G</shortDescription><value>Hello</value></labels>"
        "<labels><fullName>Farewell</fullName><language>en_US</language><protected>false</protected>"
        "<shortDescription>F</shortDescription><value>Bye</value></labels></CustomLabels>"
    )
    done = c.deploy_and_wait(
        {
            "package.xml": package_xml(
                {"ApexClass": ["Hello"], "CustomObject": ["Thing__c"], "CustomLabels": ["CustomLabels"]}
            ),
            **apex_class("Hello"),
            "objects/Thing__c.object": custom_object("Thing__c", text_field("Color__c")),
            "labels/CustomLabels.labels": labels,
        },
        testLevel="NoTestRun",
    )
    assert field(done, "mt:status") == "Succeeded"
    return c


def _names(elem: object) -> list[str]:
    return [c.tag.split("}")[1] for c in elem]  # type: ignore[attr-defined]


def _retrieve(client: Client, types: dict[str, list[str]], single: bool = True) -> object:
    status, body = client.post(soap_retrieve(types, single))
    assert status == 200
    started = result_of(body, "retrieve")
    assert _names(started) == _names(
        result_of((WIRE / "mdapi-retrieve-response-inprogress.xml").read_bytes(), "retrieve")
    )
    status, body = client.post(soap_check_retrieve(field(started, "mt:id")))
    assert status == 200
    return result_of(body, "checkRetrieveStatus")


def test_retrieve_returns_the_deployed_files_and_recorded_file_properties(client: Client) -> None:
    res = _retrieve(client, {"ApexClass": ["Hello"], "CustomObject": ["Thing__c"]})
    assert field(res, "mt:status") == "Succeeded" and field(res, "mt:done") == "true"
    files = read_zip(base64.b64decode(field(res, "mt:zipFile")))
    assert set(files) == {"package.xml", "classes/Hello.cls", "classes/Hello.cls-meta.xml", "objects/Thing__c.object"}
    assert "class Hello" in files["classes/Hello.cls"]
    assert "<fullName>Color__c</fullName>" in files["objects/Thing__c.object"]  # fields recomposed
    assert "<members>Hello</members>" in files["package.xml"]
    real = result_of((WIRE / "mdapi-checkretrievestatus-succeeded.xml").read_bytes(), "checkRetrieveStatus")
    real_props = _names(real.find("mt:fileProperties", NS))
    for props in res.findall("mt:fileProperties", NS):
        assert _names(props) == real_props
    by_file = {field(p, "mt:fileName"): p for p in res.findall("mt:fileProperties", NS)}
    assert field(by_file["classes/Hello.cls"], "mt:type") == "ApexClass"
    assert field(by_file["package.xml"], "mt:type") == "Package"


def test_retrieve_single_field_and_single_label(client: Client) -> None:
    res = _retrieve(client, {"CustomField": ["Thing__c.Color__c"], "CustomLabel": ["Farewell"]}, single=False)
    files = read_zip(base64.b64decode(field(res, "mt:zipFile")))
    assert set(files) == {
        "unpackaged/package.xml",
        "unpackaged/objects/Thing__c.object",
        "unpackaged/labels/CustomLabels.labels",
    }
    assert "Farewell" in files["unpackaged/labels/CustomLabels.labels"]
    assert "Greeting" not in files["unpackaged/labels/CustomLabels.labels"]
    assert "<label>Thing</label>" not in files["unpackaged/objects/Thing__c.object"]


def test_retrieve_of_unknown_members_reports_messages(client: Client) -> None:
    res = _retrieve(client, {"ApexClass": ["Nope"]})
    msg = res.find("mt:messages", NS)
    assert field(msg, "mt:problem") == "Entity of type 'ApexClass' named 'Nope' cannot be found"


def test_retrieve_wildcard_includes_core_seeded_apex(client: Client, host: MemoryHost) -> None:
    host.insert_record(
        "ApexClass", {"Name": "Seeded", "Body": "public class Seeded {}", "Status": "Active", "ApiVersion": 61.0}
    )
    res = _retrieve(client, {"ApexClass": ["*"]})
    files = read_zip(base64.b64decode(field(res, "mt:zipFile")))
    assert files["classes/Seeded.cls"] == "public class Seeded {}"
    assert {"classes/Hello.cls", "classes/Seeded.cls-meta.xml"} <= set(files)


def test_list_metadata_has_the_recorded_shape(client: Client) -> None:
    inner = "<queries><type>CustomObject</type></queries><queries><type>ApexClass</type></queries>"
    status, body = client.post(soap_call("listMetadata", inner + "<asOfVersion>62.0</asOfVersion>"))
    assert status == 200
    from defusedxml import ElementTree

    results = ElementTree.fromstring(body).findall("soapenv:Body/mt:listMetadataResponse/mt:result", NS)
    real = result_of((WIRE / "mdapi-listmetadata-response.xml").read_bytes(), "listMetadata")
    for r in results:
        # the recording lists standard objects (no manageableState); the org's own components are
        # "unmanaged" (FileProperties in the Metadata API guide), in WSDL order before namespacePrefix
        custom = "__" in field(r, "mt:fullName") or field(r, "mt:type") != "CustomObject"
        expected = _names(real)
        if custom:
            expected.insert(expected.index("namespacePrefix"), "manageableState")
        assert _names(r) == expected
        if custom:
            assert field(r, "mt:manageableState") == "unmanaged"
    listed = {(field(r, "mt:type"), field(r, "mt:fullName")) for r in results}
    assert {("CustomObject", "Thing__c"), ("CustomObject", "Account"), ("ApexClass", "Hello")} <= listed
    hello = next(r for r in results if field(r, "mt:fullName") == "Hello")
    assert field(hello, "mt:fileName") == "classes/Hello.cls" and field(hello, "mt:id").startswith("01p")


def test_list_metadata_custom_fields(client: Client) -> None:
    status, body = client.post(soap_call("listMetadata", "<queries><type>CustomField</type></queries>"))
    assert status == 200
    assert b"<fullName>Thing__c.Color__c</fullName>" in body


def test_read_metadata_returns_stored_content(client: Client) -> None:
    status, body = client.post(soap_call("readMetadata", "<type>CustomObject</type><fullNames>Thing__c</fullNames>"))
    assert status == 200
    rec = result_of(body, "readMetadata").find("mt:records", NS)
    assert rec.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "CustomObject"
    assert field(rec, "mt:fullName") == "Thing__c" and field(rec, "mt:label") == "Thing"
    status, body = client.post(soap_call("readMetadata", "<type>CustomLabel</type><fullNames>Greeting</fullNames>"))
    assert field(result_of(body, "readMetadata").find("mt:records", NS), "mt:value") == "Hello"
