"""MetadataClient against the recorded Metadata SOAP answers in tests/data/wire."""

from __future__ import annotations

import base64
import io
import zipfile

import pytest
from defusedxml import ElementTree
from sf_fixtures import INSTANCE, LOGIN, wire_bytes

from sfops.errors import SessionExpiredError, StillRunning, UsageError
from sfops.salesforce import DeployOptions
from sfops.salesforce.metadata import MetadataClient, package_members

MD = f"{INSTANCE}/services/Soap/m/64.0"
XML = "text/xml"
NS = {"s": "http://schemas.xmlsoap.org/soap/envelope/", "m": "http://soap.sforce.com/2006/04/metadata"}


def _sent(call) -> ElementTree:
    return ElementTree.fromstring(call.request.body)


def _operation(call):
    return next(iter(_sent(call).find("s:Body", NS)))


def test_deploy_envelope(org, rsps) -> None:
    rsps.post(MD, body=wire_bytes("mdapi-deploy-response-queued.xml"), content_type=XML)
    options = DeployOptions(
        check_only=True, test_level="RunSpecifiedTests", run_tests=("A_Test", "B<&>Test"), purge_on_delete=True
    )
    assert org.metadata.deploy(b"PK\x03\x04zip", options) == "0Af3B00001CMyfASAT"
    call = rsps.calls[0]
    assert call.request.headers["SOAPAction"] == "deploy"
    assert _sent(call).findtext("s:Header/m:SessionHeader/m:sessionId", namespaces=NS).startswith("00D5e000000AbCd!")
    op = _operation(call)
    assert op.tag == f"{{{NS['m']}}}deploy"
    assert base64.b64decode(op.findtext("m:ZipFile", namespaces=NS)) == b"PK\x03\x04zip"
    names = [el.tag.split("}")[1] for el in op.find("m:DeployOptions", NS)]
    assert names == [
        "allowMissingFiles",
        "autoUpdatePackage",
        "checkOnly",
        "ignoreWarnings",
        "performRetrieve",
        "purgeOnDelete",
        "rollbackOnError",
        "runTests",
        "runTests",
        "singlePackage",
        "testLevel",
    ]
    values = {el.tag.split("}")[1]: el.text for el in op.find("m:DeployOptions", NS)}
    assert values["checkOnly"] == "true" and values["allowMissingFiles"] == "false"
    assert values["rollbackOnError"] == "true" and values["testLevel"] == "RunSpecifiedTests"
    assert [el.text for el in op.findall("m:DeployOptions/m:runTests", NS)] == ["A_Test", "B<&>Test"]
    assert b"B&lt;&amp;&gt;Test" in call.request.body


@pytest.mark.parametrize(
    "options",
    [
        DeployOptions(test_level="RunSomeTests"),
        DeployOptions(run_tests=("A",), test_level="RunLocalTests"),
        DeployOptions(test_level="RunSpecifiedTests"),
    ],
)
def test_bad_deploy_options_are_refused(options) -> None:
    with pytest.raises(UsageError):
        options.to_xml()


def test_check_deploy_status_succeeded(org, rsps) -> None:
    rsps.post(MD, body=wire_bytes("mdapi-checkdeploystatus-succeeded.xml"), content_type=XML)
    result = org.metadata.check_deploy_status("0Af3D00001NVCnwSAH")
    op = _operation(rsps.calls[0])
    assert op.findtext("m:asyncProcessId", namespaces=NS) == "0Af3D00001NVCnwSAH"
    assert op.findtext("m:includeDetails", namespaces=NS) == "true"
    assert (result.id, result.status, result.done, result.success) == ("0Af3D00001NVCnwSAH", "Succeeded", True, True)
    assert result.number_components_deployed == 4 and result.number_components_total == 4
    assert len(result.component_successes) == 5 and result.component_failures == []
    assert result.component_successes[0].type == "ApexSettings"
    assert result.component_successes[0].file == "shape/settings/Apex.settings"
    assert result.check_only is False


def test_check_deploy_status_failed_with_zero_component_errors(org, rsps) -> None:
    rsps.post(MD, body=wire_bytes("mdapi-checkdeploystatus-failed.xml"), content_type=XML)
    result = org.metadata.check_deploy_status("0Af3D00001NVD0TSAX")
    assert (result.status, result.done, result.success, result.check_only) == ("Failed", True, False, True)
    assert result.number_component_errors == 0  # judge by status, not counts
    [failure] = result.component_failures
    assert (failure.type, failure.full_name, failure.file, failure.problem_type, failure.problem) == (
        "",
        "package.xml",
        "package.xml",
        "Error",
        "No package.xml found",
    )


@pytest.mark.parametrize(
    ("fixture", "status", "deployed"),
    [
        ("mdapi-checkdeploystatus-pending.xml", "Pending", 0),
        ("mdapi-checkdeploystatus-inprogress.xml", "InProgress", 2),
    ],
)
def test_check_deploy_status_running(org, rsps, fixture: str, status: str, deployed: int) -> None:
    rsps.post(MD, body=wire_bytes(fixture), content_type=XML)
    result = org.metadata.check_deploy_status("0Af")
    assert (result.status, result.done, result.success) == (status, False, False)
    assert result.number_components_deployed == deployed


def test_legacy_api23_messages_shape(org, rsps) -> None:
    rsps.post(MD, body=wire_bytes("mdapi-checkdeploystatus-legacy-api23.xml"), content_type=XML)
    result = org.metadata.check_deploy_status("04sU0000000WRCXIA4")
    assert (result.status, result.done, result.success) == ("Succeeded", True, True)
    assert [c.full_name for c in result.component_successes] == ["TestClass", "package.xml"]
    assert result.component_successes[0].created is True


def test_component_and_test_failures_single_and_many(org, rsps) -> None:
    """One failure arrives as a single element, several as repeated ones: both become lists."""
    body = (
        wire_bytes("mdapi-checkdeploystatus-failed.xml")
        .replace(
            b"<runTestResult><numFailures>0</numFailures>",
            b"<runTestResult><failures><message>System.AssertException: boom</message><methodName>testIt</methodName>"
            b"<name>FeatureKillSwitchTest</name><stackTrace>Class.FeatureKillSwitchTest.testIt: line 9</stackTrace>"
            b"</failures><failures><message>second</message><methodName>t2</methodName><name>CircuitBreakerTest</name>"
            b"</failures><codeCoverageWarnings><message>Average test coverage across all Apex Classes is 12%</message>"
            b'<name xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/></codeCoverageWarnings>'
            b"<numFailures>2</numFailures>",
        )
        .replace(
            b"<problemType>Error</problemType>",
            b"<problemType>Error</problemType><lineNumber>12</lineNumber><columnNumber>5</columnNumber>",
        )
    )
    rsps.post(MD, body=body, content_type=XML)
    result = org.metadata.check_deploy_status("0Af")
    assert [(f.class_name, f.method) for f in result.test_failures] == [
        ("FeatureKillSwitchTest", "testIt"),
        ("CircuitBreakerTest", "t2"),
    ]
    assert result.test_failures[0].stack == "Class.FeatureKillSwitchTest.testIt: line 9"
    assert result.test_failures[1].stack is None
    assert (result.component_failures[0].line, result.component_failures[0].column) == (12, 5)
    assert "12%" in result.code_coverage_warnings[0].message


def test_whole_deploy_error_status(org, rsps) -> None:
    body = wire_bytes("mdapi-checkdeploystatus-failed.xml").replace(
        b"<status>Failed</status>",
        b"<errorMessage>UNKNOWN_EXCEPTION: An unexpected error occurred</errorMessage>"
        b"<errorStatusCode>UNKNOWN_EXCEPTION</errorStatusCode><status>Failed</status>",
    )
    rsps.post(MD, body=body, content_type=XML)
    result = org.metadata.check_deploy_status("0Af")
    assert result.error_status_code == "UNKNOWN_EXCEPTION"
    assert result.error_message.startswith("UNKNOWN_EXCEPTION")


def _envelope(operation: str, result: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/'
        f'soap/envelope/" xmlns="http://soap.sforce.com/2006/04/metadata"><soapenv:Body><{operation}Response>'
        f"<result>{result}</result></{operation}Response></soapenv:Body></soapenv:Envelope>"
    ).encode()


def test_quick_deploy_and_cancel(org, rsps) -> None:
    # No recorded answers exist for these two: bodies follow the WSDL (result = id string / CancelDeployResult).
    rsps.post(MD, body=_envelope("deployRecentValidation", "0Af3D00001NEWIDSAX"), content_type=XML)
    rsps.post(MD, body=_envelope("cancelDeploy", "<done>false</done><id>0Af3D00001NEWIDSAX</id>"), content_type=XML)
    assert org.metadata.quick_deploy("0Af3D00001NVD0TSAX") == "0Af3D00001NEWIDSAX"
    assert _operation(rsps.calls[0]).findtext("m:validationId", namespaces=NS) == "0Af3D00001NVD0TSAX"
    cancel = org.metadata.cancel_deploy("0Af3D00001NEWIDSAX")
    assert (cancel.id, cancel.done) == ("0Af3D00001NEWIDSAX", False)
    assert rsps.calls[1].request.headers["SOAPAction"] == "cancelDeploy"


PACKAGE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="http://soap.sforce.com/2006/04/metadata">
    <types><members>FeatureKillSwitch</members><members>CircuitBreaker</members><name>ApexClass</name></types>
    <types><members>Kill_Switch__c</members><name>CustomObject</name></types>
    <version>64.0</version>
</Package>"""


def test_retrieve_from_package_xml_and_check_status(org, rsps) -> None:
    rsps.post(MD, body=wire_bytes("mdapi-retrieve-response-inprogress.xml"), content_type=XML)
    rsps.post(MD, body=wire_bytes("mdapi-checkretrievestatus-succeeded.xml"), content_type=XML)
    assert package_members(PACKAGE_XML) == {
        "ApexClass": ["FeatureKillSwitch", "CircuitBreaker"],
        "CustomObject": ["Kill_Switch__c"],
    }
    assert org.metadata.retrieve(PACKAGE_XML) == "04sU0000000WkdIIAS"
    request = _operation(rsps.calls[0]).find("m:retrieveRequest", NS)
    assert request.findtext("m:apiVersion", namespaces=NS) == "64.0"
    types = request.findall("m:unpackaged/m:types", NS)
    assert [t.findtext("m:name", namespaces=NS) for t in types] == ["ApexClass", "CustomObject"]
    result = org.metadata.check_retrieve_status("04sU0000000WkdIIAS")
    assert (result.status, result.done, result.success) == ("Succeeded", True, True)
    assert zipfile.ZipFile(io.BytesIO(result.zip_bytes)).namelist() == [
        "classes/TestClass.cls",
        "classes/TestClass.cls-meta.xml",
        "package.xml",
    ]
    assert [(p.type, p.full_name) for p in result.file_properties] == [
        ("ApexClass", "TestClass"),
        ("Package", "package.xml"),
    ]


def test_retrieve_in_progress_status(org, rsps) -> None:
    rsps.post(
        MD,
        body=wire_bytes("mdapi-retrieve-response-inprogress.xml").replace(
            b"retrieveResponse", b"checkRetrieveStatusResponse"
        ),
        content_type=XML,
    )
    result = org.metadata.check_retrieve_status("04sU0000000WkdIIAS")
    assert (result.status, result.done, result.zip_bytes) == ("InProgress", False, None)


def test_list_and_describe_metadata(org, rsps) -> None:
    rsps.post(MD, body=wire_bytes("mdapi-listmetadata-response.xml"), content_type=XML)
    rsps.post(MD, body=wire_bytes("mdapi-describemetadata-response.xml"), content_type=XML)
    listed = org.metadata.list_metadata("CustomObject")
    assert [(p.full_name, p.file_name, p.id) for p in listed] == [
        ("ContractContactRole", "objects/ContractContactRole.object", None),
        ("Site", "objects/Site.object", None),
    ]
    query = _operation(rsps.calls[0]).find("m:queries", NS)
    assert query.findtext("m:type", namespaces=NS) == "CustomObject" and query.find("m:folder", NS) is None
    described = org.metadata.describe_metadata()
    custom_object = next(o for o in described.metadata_objects if o.xml_name == "CustomObject")
    assert custom_object.directory_name == "objects" and "CustomField" in custom_object.child_xml_names
    assert described.partial_save_allowed is True and described.test_required is False


def test_invalid_session_fault_relogs_once_and_sends_the_new_session(make_org, rsps) -> None:
    org = make_org(auth="client_credentials", client_id="k", secrets={"client_secret": "s"})
    for n in (1, 2):
        rsps.post(
            f"{LOGIN}/services/oauth2/token",
            json={"access_token": f"00Dx0000000BV7z!TOKEN{n}", "instance_url": INSTANCE},
        )
    rsps.post(MD, body=wire_bytes("soap-fault-invalid-session-id.xml"), status=500, content_type=XML)
    rsps.post(MD, body=wire_bytes("mdapi-checkdeploystatus-succeeded.xml"), content_type=XML)
    assert org.metadata.check_deploy_status("0Af").success
    soap = [c for c in rsps.calls if "/Soap/m/" in c.request.url]
    sessions = [_sent(c).findtext("s:Header/m:SessionHeader/m:sessionId", namespaces=NS) for c in soap]
    assert sessions == ["00Dx0000000BV7z!TOKEN1", "00Dx0000000BV7z!TOKEN2"]


def test_persistent_invalid_session_fault_is_a_typed_error(make_org, rsps) -> None:
    org = make_org(auth="client_credentials", client_id="k", secrets={"client_secret": "s"})
    rsps.post(f"{LOGIN}/services/oauth2/token", json={"access_token": "00Dx0000000BV7z!T", "instance_url": INSTANCE})
    rsps.post(MD, body=wire_bytes("soap-fault-invalid-session-id.xml"), status=500, content_type=XML)
    with pytest.raises(SessionExpiredError) as info:
        org.metadata.deploy(b"zip")
    assert info.value.status == 500
    assert len([c for c in rsps.calls if "/Soap/m/" in c.request.url]) == 2


def test_poll_backs_off_until_done(org, rsps) -> None:
    for name in ("pending", "inprogress", "inprogress", "succeeded"):
        rsps.post(MD, body=wire_bytes(f"mdapi-checkdeploystatus-{name}.xml"), content_type=XML)
    now, waits, seen = [0.0], [], []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    client = MetadataClient(org, sleep=sleep, clock=lambda: now[0])
    result = client.poll("0Af", timeout=600, on_progress=lambda r: seen.append(r.status))
    assert result.status == "Succeeded"
    assert seen == ["Pending", "InProgress", "InProgress", "Succeeded"]
    assert waits == [1.0, 2.0, 4.0]


def test_poll_timeout_raises_still_running(org, rsps) -> None:
    rsps.post(MD, body=wire_bytes("mdapi-checkdeploystatus-inprogress.xml"), content_type=XML)
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    client = MetadataClient(org, sleep=sleep, clock=lambda: now[0])
    with pytest.raises(StillRunning) as info:
        client.poll("0Af3D00001NW8mnSAD", timeout=5)
    assert info.value.data == {"id": "0Af3D00001NW8mnSAD", "status": "InProgress"}
    assert info.value.exit_code == 69
