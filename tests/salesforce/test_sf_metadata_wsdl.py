"""Every Metadata SOAP request sfops sends matches the Metadata WSDL (the copy simple-salesforce ships):
operation parameter names and their order, DeployOptions and RetrieveRequest field order."""

from __future__ import annotations

from importlib import resources

import pytest
import responses
from defusedxml import ElementTree
from sf_fixtures import INSTANCE

from sfops.errors import SfopsError
from sfops.salesforce import DeployOptions

XSD = "{http://www.w3.org/2001/XMLSchema}"
MD = f"{INSTANCE}/services/Soap/m/64.0"


@pytest.fixture(scope="module")
def wsdl() -> dict[str, list[str]]:
    """{element or complexType name: [child element names in sequence order]} from the WSDL."""
    text = resources.files("simple_salesforce").joinpath("metadata.wsdl").read_bytes()
    root = ElementTree.fromstring(text)
    shapes: dict[str, list[str]] = {}
    for node in root.iter():
        if node.tag in (f"{XSD}element", f"{XSD}complexType") and node.get("name"):
            sequence = node.find(f".//{XSD}sequence")
            if sequence is not None and node.get("name") not in shapes:
                shapes[node.get("name")] = [e.get("name") for e in sequence.findall(f"{XSD}element")]
    return shapes


def _is_subsequence(sent: list[str], allowed: list[str]) -> bool:
    it = iter(allowed)
    return all(any(name == a for a in it) for name in sent)


def _sent_operation(call):
    body = ElementTree.fromstring(call.request.body).find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    return next(iter(body))


def _names(element) -> list[str]:
    names: list[str] = []
    for child in element:
        name = child.tag.split("}")[1]
        if not names or names[-1] != name:  # repeated elements (runTests, types, members) count once
            names.append(name)
    return names


def test_requests_follow_the_wsdl(org, rsps: responses.RequestsMock, wsdl: dict[str, list[str]]) -> None:
    rsps.post(MD, status=500, body="stop")  # the answer does not matter here
    calls = [
        lambda: org.metadata.deploy(
            b"zip", DeployOptions(check_only=True, test_level="RunSpecifiedTests", run_tests=("T1", "T2"))
        ),
        lambda: org.metadata.check_deploy_status("0Af"),
        lambda: org.metadata.quick_deploy("0Af"),
        lambda: org.metadata.cancel_deploy("0Af"),
        lambda: org.metadata.retrieve({"ApexClass": ["A", "B"], "CustomObject": ["X__c"]}),
        lambda: org.metadata.check_retrieve_status("09S"),
        lambda: org.metadata.list_metadata("Report", folder="Ops"),
        lambda: org.metadata.describe_metadata(),
    ]
    for call in calls:
        with pytest.raises(SfopsError):  # the fake 500 answer
            call()
    assert len(rsps.calls) == len(calls)
    for call in rsps.calls:
        operation = _sent_operation(call)
        name = operation.tag.split("}")[1]
        assert call.request.headers["SOAPAction"] == name
        assert _names(operation) == wsdl[name], name
        for child in operation:
            field = child.tag.split("}")[1]
            kind = {
                "DeployOptions": "DeployOptions",
                "retrieveRequest": "RetrieveRequest",
                "queries": "ListMetadataQuery",
            }.get(field)
            if kind:
                assert _is_subsequence(_names(child), wsdl[kind]), (name, field, _names(child), wsdl[kind])
        if name == "retrieve":
            unpackaged = operation.find(".//{http://soap.sforce.com/2006/04/metadata}unpackaged")
            assert _is_subsequence(_names(unpackaged), wsdl["Package"])
            types = unpackaged.find("{http://soap.sforce.com/2006/04/metadata}types")
            assert _names(types) == wsdl["PackageTypeMembers"]
