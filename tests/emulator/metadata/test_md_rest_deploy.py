"""The REST deployRequest resource: multipart deploy, status with details, quick deploy, cancel."""

from __future__ import annotations

import json
from typing import Any

import pytest
from md_support import TOKEN, MemoryHost, apex_class, apex_test_class, custom_object, make_zip, package_xml, text_field
from requests import Request

from sfops.emulator.metadata import MetadataService

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def service(host: MemoryHost) -> MetadataService:
    return MetadataService(host)


def multipart(zip_bytes: bytes, options: dict[str, Any]) -> tuple[bytes, str]:
    """The body jsforce's deployRest sends: parts entity_content (JSON) and file (zip)."""
    req = Request(
        "POST",
        "https://x/",
        files={
            "entity_content": (None, json.dumps({"deployOptions": options}), "application/json"),
            "file": ("deploy.zip", zip_bytes, "application/zip"),
        },
    ).prepare()
    return req.body, req.headers["Content-Type"]  # type: ignore[return-value]


def call(
    service: MetadataService,
    method: str,
    subpath: str,
    body: bytes = b"",
    ctype: str = "application/json",
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    status, out_headers, out = service.handle_rest(
        method, subpath, query or {}, {**AUTH, "Content-Type": ctype, **(headers or {})}, body
    )
    assert out_headers["Content-Type"].startswith("application/json")
    return status, json.loads(out)


def files() -> dict[str, str]:
    return {
        "package.xml": package_xml({"ApexClass": ["Calc", "CalcTest"], "CustomObject": ["Thing__c"]}),
        **apex_class("Calc"),
        **apex_test_class("CalcTest", "Calc"),
        "objects/Thing__c.object": custom_object("Thing__c", text_field("Color__c")),
    }


def deploy(service: MetadataService, options: dict[str, Any]) -> str:
    body, ctype = multipart(make_zip(files()), options)
    status, data = call(service, "POST", "deployRequest", body, ctype)
    assert status == 201
    assert set(data) == {"id", "validatedDeployRequestId", "deployOptions", "deployResult"}
    assert data["deployResult"]["status"] == "Pending" and data["deployResult"]["done"] is False
    return data["id"]


def wait(service: MetadataService, deploy_id: str) -> dict[str, Any]:
    for _ in range(10):
        status, data = call(service, "GET", f"deployRequest/{deploy_id}", query={"includeDetails": "true"})
        assert status == 200
        if data["deployResult"]["done"]:
            return data
    raise AssertionError("not done")


def test_multipart_deploy_and_json_typed_result(service: MetadataService, host: MemoryHost) -> None:
    deploy_id = deploy(service, {"checkOnly": False, "testLevel": "RunLocalTests", "rollbackOnError": True})
    data = wait(service, deploy_id)
    result = data["deployResult"]
    assert result["status"] == "Succeeded" and result["success"] is True
    assert isinstance(result["numberComponentsDeployed"], int) and result["numberComponentsDeployed"] == 4
    assert result["numberTestsCompleted"] == 1
    assert result["createdDate"].endswith("+0000")
    details = result["details"]
    assert isinstance(details["componentFailures"], list) and details["componentFailures"] == []
    assert {s["fullName"] for s in details["componentSuccesses"]} >= {"Calc", "Thing__c", "Thing__c.Color__c"}
    assert details["runTestResult"]["successes"][0]["name"] == "CalcTest"
    assert data["deployOptions"]["testLevel"] == "RunLocalTests"
    assert host.schema.get("Thing__c") is not None and host.class_names() == {"Calc", "CalcTest"}


def test_quick_deploy_by_validated_id(service: MetadataService, host: MemoryHost) -> None:
    validation = deploy(service, {"checkOnly": True, "testLevel": "RunLocalTests"})
    assert wait(service, validation)["deployResult"]["checkOnly"] is True
    assert host.schema.get("Thing__c") is None
    status, data = call(service, "POST", "deployRequest", json.dumps({"validatedDeployRequestId": validation}).encode())
    assert status == 201 and data["validatedDeployRequestId"] == validation
    assert wait(service, data["id"])["deployResult"]["status"] == "Succeeded"
    assert host.schema.get("Thing__c") is not None
    status, errors = call(service, "POST", f"deployRequest/{validation}")
    assert status == 400 and errors[0]["errorCode"] == "INVALID_ID_FIELD"


def test_patch_canceling_returns_202_and_the_deploy_ends_canceled(service: MetadataService, host: MemoryHost) -> None:
    deploy_id = deploy(service, {})
    status, data = call(
        service, "PATCH", f"deployRequest/{deploy_id}", json.dumps({"deployResult": {"status": "Canceling"}}).encode()
    )
    assert status == 202 and data["deployResult"]["status"] == "Canceling"
    assert wait(service, deploy_id)["deployResult"]["status"] == "Canceled"
    assert host.schema.get("Thing__c") is None


def test_errors_use_the_rest_error_shape(service: MetadataService) -> None:
    status, data = call(service, "GET", "deployRequest/0Af5g0000000999AAA")
    assert status == 404 and data[0]["errorCode"] == "NOT_FOUND"
    status, data = call(service, "GET", "deployRequest/x", headers={"Authorization": "Bearer expired"})
    assert status == 401 and data == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    body, ctype = multipart(make_zip(files()), {"testLevel": "RunEverything"})
    status, data = call(service, "POST", "deployRequest", body, ctype)
    assert status == 400 and "TestLevel" in data[0]["message"]
    status, data = call(service, "POST", "deployRequest", b"{}")
    assert status == 400
