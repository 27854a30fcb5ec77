"""Metadata SOAP wire format: dispatch, sessions, faults, and the shape of every response compared
with the real recorded ones in tests/data/wire."""

from __future__ import annotations

import base64

from defusedxml import ElementTree
from md_support import (
    NS,
    TOKEN,
    Client,
    MemoryHost,
    apex_class,
    custom_object,
    field,
    make_zip,
    package_xml,
    result_of,
    soap_call,
    soap_deploy,
    text_field,
)
from paths import WIRE


def _names(elem: ElementTree.Element) -> list[str]:
    return [c.tag.split("}")[1] for c in elem]


def _runs(names: list[str]) -> list[str]:
    """Names with repeated neighbours collapsed (a list of 5 successes vs 2 is the same shape)."""
    return [n for i, n in enumerate(names) if i == 0 or names[i - 1] != n]


def _fixture_result(name: str, operation: str) -> ElementTree.Element:
    return result_of((WIRE / name).read_bytes(), operation)


def _assert_same_shape(ours: ElementTree.Element, real: ElementTree.Element, optional: set[str] = frozenset()) -> None:
    """Same child element names in the same order (ignoring names listed as optional), recursively for
    the children both sides have exactly once."""
    ours_names = _runs([n for n in _names(ours) if n not in optional])
    real_names = _runs([n for n in _names(real) if n not in optional])
    assert ours_names == real_names
    for name in set(real_names):
        mine, theirs = ours.findall(f"mt:{name}", NS), real.findall(f"mt:{name}", NS)
        if len(theirs) >= 1 and len(mine) >= 1 and len(theirs[0]) and len(mine[0]):
            _assert_same_shape(mine[0], theirs[0], optional)


SETTINGS_FILES = {
    "package.xml": package_xml({"Settings": ["Apex", "Chatter"]}),
    "settings/Apex.settings": '<?xml version="1.0"?><ApexSettings xmlns="http://soap.sforce.com/2006/04/metadata">'
    "<enableAggregateCodeCoverageOnly>false</enableAggregateCodeCoverageOnly></ApexSettings>",
    "settings/Chatter.settings": '<?xml version="1.0"?><ChatterSettings xmlns="http://soap.sforce.com/2006/04/'
    'metadata"><enableChatter>true</enableChatter></ChatterSettings>',
}


def test_deploy_response_matches_the_recorded_queued_response(client: Client) -> None:
    status, body = client.post(soap_deploy(make_zip(SETTINGS_FILES)))
    assert status == 200
    ours = result_of(body, "deploy")
    real = _fixture_result("mdapi-deploy-response-queued.xml", "deploy")
    assert _names(ours) == _names(real) == ["done", "id", "state"]
    assert field(ours, "mt:id").startswith("0Af") and len(field(ours, "mt:id")) == 18
    # the same envelope framing as the recording: default namespace, no prefixes on the result
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv=')


def test_status_moves_pending_inprogress_succeeded_with_recorded_shapes(client: Client) -> None:
    deploy_id = client.deploy(SETTINGS_FILES)
    pending = client.check(deploy_id)
    assert field(pending, "mt:status") == "Pending"
    _assert_same_shape(pending, _fixture_result("mdapi-checkdeploystatus-pending.xml", "checkDeployStatus"))
    in_progress = client.check(deploy_id)
    assert field(in_progress, "mt:status") == "InProgress"
    _assert_same_shape(
        in_progress,
        _fixture_result("mdapi-checkdeploystatus-inprogress.xml", "checkDeployStatus"),
        optional={"stateDetail"},
    )
    done = client.check(deploy_id)
    assert field(done, "mt:status") == "Succeeded" and field(done, "mt:done") == "true"
    real = _fixture_result("mdapi-checkdeploystatus-succeeded.xml", "checkDeployStatus")
    _assert_same_shape(done, real)
    types = sorted(field(s, "mt:componentType") or "" for s in done.findall("mt:details/mt:componentSuccesses", NS))
    assert types == ["", "ApexSettings", "ChatterSettings"]
    assert field(done, "mt:numberComponentsDeployed") == "2" == field(done, "mt:numberComponentsTotal")
    # createdBy is the 15-character user id, like the recording
    assert field(done, "mt:createdBy") == "0055g0000000001"


def test_no_package_xml_fails_like_the_recorded_payload_error(client: Client) -> None:
    done = client.deploy_and_wait({"classes/Foo.cls": "public class Foo {}"})
    real = _fixture_result("mdapi-checkdeploystatus-failed.xml", "checkDeployStatus")
    _assert_same_shape(done, real, optional={"checkOnly"})
    assert field(done, "mt:status") == "Failed"
    assert field(done, "mt:numberComponentErrors") == "0"  # pitfall 8: judge by status, not counts
    failure = done.find("mt:details/mt:componentFailures", NS)
    assert field(failure, "mt:problem") == "No package.xml found"
    assert _names(failure) == _names(real.find("mt:details/mt:componentFailures", NS))


def test_booleans_are_parsed_case_insensitively(client: Client, host: MemoryHost) -> None:
    files = {
        "package.xml": package_xml({"CustomObject": ["Thing__c"]}),
        "objects/Thing__c.object": custom_object("Thing__c", text_field("Color__c")),
    }
    # simple-salesforce renders Python booleans: <met:checkOnly>True</met:checkOnly>
    done = client.deploy_and_wait(files, checkOnly=True)
    assert field(done, "mt:checkOnly") == "true"
    assert field(done, "mt:status") == "Succeeded"
    assert host.schema.get("Thing__c") is None  # validated, not committed


def test_dispatch_uses_the_body_element_not_soapaction(client: Client) -> None:
    deploy_id = client.deploy(SETTINGS_FILES)
    inner = f"<asyncProcessId>{deploy_id}</asyncProcessId><includeDetails>true</includeDetails>"
    # jsforce: bare path, SOAPAction "", default-namespace envelope
    status, body = client.post(soap_call("checkDeployStatus", inner), SOAPAction="deploy")
    assert status == 200
    assert field(result_of(body, "checkDeployStatus"), "mt:id") == deploy_id


def test_bearer_header_is_accepted_when_the_envelope_has_no_session(client: Client) -> None:
    body = soap_call("describeMetadata", "<asOfVersion>62.0</asOfVersion>", session="")
    status, _, out = client.service.handle_soap(
        body.replace(b"<sessionId></sessionId>", b""), {"Authorization": f"Bearer {TOKEN}"}
    )
    assert status == 200
    assert result_of(out, "describeMetadata").find("mt:metadataObjects", NS) is not None


def test_invalid_session_is_a_500_fault_like_the_recording(client: Client) -> None:
    status, body = client.post(soap_call("describeMetadata", "", session="nope"))
    assert status == 500
    real = ElementTree.fromstring((WIRE / "soap-fault-invalid-session-id.xml").read_bytes())
    ours = ElementTree.fromstring(body)
    path = "soapenv:Body/soapenv:Fault/"
    for tag in ("faultcode", "faultstring"):
        assert ours.findtext(path + tag, None, NS) == real.findtext(path + tag, None, NS)
    sf = {**NS, "sf": "urn:fault.partner.soap.sforce.com"}
    assert ours.findtext(path + "detail/sf:UnexpectedErrorFault/sf:exceptionCode", None, sf) == "INVALID_SESSION_ID"


def test_unknown_operation_and_garbage_are_client_faults(client: Client) -> None:
    status, body = client.post(soap_call("launchRockets", ""))
    assert status == 500 and b"soapenv:Client" in body and b"launchRockets" in body
    status, body = client.post(b"<not-xml")
    assert status == 500 and b"soapenv:Client" in body


def test_xml_entity_expansion_is_refused(client: Client) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
        b"<x>&b;</x></soapenv:Body></soapenv:Envelope>"
    )
    status, body = client.post(bomb)
    assert status == 500 and b"soapenv:Client" in body


def test_unknown_deploy_id_is_a_fault(client: Client) -> None:
    status, body = client.post(soap_call("checkDeployStatus", "<asyncProcessId>0Af000000000000AAA</asyncProcessId>"))
    assert status == 500 and b"INVALID_CROSS_REFERENCE_KEY" in body


def test_describe_metadata_has_the_recorded_shape(client: Client) -> None:
    status, body = client.post(soap_call("describeMetadata", "<asOfVersion>62.0</asOfVersion>"))
    assert status == 200
    ours = result_of(body, "describeMetadata")
    real = _fixture_result("mdapi-describemetadata-response.xml", "describeMetadata")
    assert [n for n in _names(ours) if n != "metadataObjects"] == [
        "organizationNamespace",
        "partialSaveAllowed",
        "testRequired",
    ]
    by_name = {field(m, "mt:xmlName"): m for m in ours.findall("mt:metadataObjects", NS)}
    for real_obj in real.findall("mt:metadataObjects", NS):
        name = field(real_obj, "mt:xmlName")
        if name in by_name:  # every type both know is described identically
            mine = by_name[name]
            for tag in ("directoryName", "inFolder", "metaFile", "suffix"):
                assert field(mine, f"mt:{tag}") == field(real_obj, f"mt:{tag}"), (name, tag)
    assert {"ApexClass", "CustomObject", "LightningComponentBundle", "Flow"} <= set(by_name)
    assert field(by_name["CustomObject"], "mt:childXmlNames") == "CustomField"


def test_apex_deploy_creates_records_and_the_zip_is_base64_in_the_envelope(client: Client, host: MemoryHost) -> None:
    files = {"package.xml": package_xml({"ApexClass": ["Hello"]}), **apex_class("Hello")}
    raw = make_zip(files)
    body = soap_deploy(raw, testLevel="NoTestRun")
    assert base64.b64encode(raw) in body
    _status, out = client.post(body)
    done = client.wait(field(result_of(out, "deploy"), "mt:id"))
    assert field(done, "mt:status") == "Succeeded"
    assert host.class_names() == {"Hello"}
    success = [s for s in done.findall("mt:details/mt:componentSuccesses", NS) if field(s, "mt:fullName") == "Hello"]
    record_id = next(iter(host.records["ApexClass"]))
    assert field(success[0], "mt:id") == record_id and field(success[0], "mt:created") == "true"


def test_single_package_false_accepts_a_root_folder_like_the_recording(client: Client) -> None:
    files = {f"shape/{p}": c for p, c in SETTINGS_FILES.items()}
    done = client.deploy_and_wait(files, singlePackage=False)
    assert field(done, "mt:status") == "Succeeded"
    names = {field(s, "mt:fileName") for s in done.findall("mt:details/mt:componentSuccesses", NS)}
    real = _fixture_result("mdapi-checkdeploystatus-succeeded.xml", "checkDeployStatus")
    real_names = {field(s, "mt:fileName") for s in real.findall("mt:details/mt:componentSuccesses", NS)}
    assert names == {"shape/package.xml", "shape/settings/Apex.settings", "shape/settings/Chatter.settings"}
    assert names <= real_names
    # with singlePackage=true the same zip has no package.xml at its root
    done = client.deploy_and_wait(files, singlePackage=True)
    assert field(done, "mt:status") == "Failed"
