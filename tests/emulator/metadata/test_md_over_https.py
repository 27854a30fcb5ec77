"""The Metadata API end to end over real HTTPS: unmodified simple-salesforce deploys and polls, the
schema REST describes changes, deployed Apex is queryable, the fault knob fails tests."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from md_support import apex_class, apex_test_class, custom_object, package_xml, text_field
from simple_salesforce import Salesforce

from sfops.emulator.testing import RunningEmulator

pytestmark = pytest.mark.integration


def _sf(emulator: RunningEmulator) -> Salesforce:
    token = emulator.login()["access_token"]
    return Salesforce(instance_url=emulator.url, session_id=token, session=emulator.session(), version="62.0")


def _zip(tmp_path: Path, files: dict[str, str]) -> str:
    path = tmp_path / "deploy.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return str(path)


def _deploy(sf: Salesforce, zip_path: str, **opts: object) -> dict:
    result = sf.deploy(zip_path, sandbox=False, **opts)
    assert result["state"] == "Queued" and result["asyncId"].startswith("0Af")
    states = []
    for _ in range(10):
        status = sf.checkDeployStatus(result["asyncId"])
        states.append(status["state"])
        if status["state"] in ("Succeeded", "Failed", "SucceededPartial", "Canceled"):
            status["states"] = states
            return status
    raise AssertionError(states)


def test_simple_salesforce_deploy_changes_describe_and_tooling(emulator: RunningEmulator, tmp_path: Path) -> None:
    sf = _sf(emulator)
    files = {
        "package.xml": package_xml({"CustomObject": ["Gadget__c"], "ApexClass": ["Gadget", "GadgetTest"]}),
        "objects/Gadget__c.object": custom_object("Gadget__c", text_field("Shade__c"), label="Gadget"),
        **apex_class("Gadget"),
        **apex_test_class("GadgetTest", "Gadget"),
    }
    status = _deploy(sf, _zip(tmp_path, files), testLevel="RunSpecifiedTests", tests=["GadgetTest"])
    assert status["states"] == ["Pending", "InProgress", "Succeeded"]
    assert int(status["deployment_detail"]["deployed_count"]) == 4  # ss keeps the XML text
    assert int(status["unit_test_detail"]["completed_count"]) == 1
    describe = sf.Gadget__c.describe()
    assert "Shade__c" in {f["name"] for f in describe["fields"]}
    rows = sf.toolingexecute("query/?q=SELECT+Id,Name+FROM+ApexClass+WHERE+Name='Gadget'")["records"]
    assert [r["Name"] for r in rows] == ["Gadget"]


def test_fault_knob_fails_a_deploy_with_test_failures(emulator: RunningEmulator, tmp_path: Path) -> None:
    emulator.faults(deploy={"failing_tests": ["GadgetTest"]})
    sf = _sf(emulator)
    files = {
        "package.xml": package_xml({"ApexClass": ["Gadget", "GadgetTest"]}),
        **apex_class("Gadget"),
        **apex_test_class("GadgetTest", "Gadget"),
    }
    status = _deploy(sf, _zip(tmp_path, files), testLevel="RunLocalTests")
    assert status["state"] == "Failed"
    assert int(status["unit_test_detail"]["failed_count"]) == 1
    [error] = status["unit_test_detail"]["errors"]
    assert error["class"] == "GadgetTest" and error["method"] == "itWorks"
    rows = sf.toolingexecute("query/?q=SELECT+Id+FROM+ApexClass+WHERE+Name='Gadget'")["records"]
    assert rows == []


def test_destructive_post_change_removes_a_field_from_describe(emulator: RunningEmulator, tmp_path: Path) -> None:
    sf = _sf(emulator)
    files = {
        "package.xml": package_xml({"CustomObject": ["Gadget__c"]}),
        "objects/Gadget__c.object": custom_object(
            "Gadget__c", text_field("Shade__c") + text_field("Size__c"), label="Gadget"
        ),
    }
    assert _deploy(sf, _zip(tmp_path, files))["state"] == "Succeeded"
    files = {
        "package.xml": package_xml({}),
        "destructiveChangesPost.xml": package_xml({"CustomField": ["Gadget__c.Size__c"]}),
    }
    assert _deploy(sf, _zip(tmp_path, files))["state"] == "Succeeded"
    names = {f["name"] for f in sf.Gadget__c.describe()["fields"]}
    assert "Shade__c" in names and "Size__c" not in names


def test_rest_deploy_request_over_https(emulator: RunningEmulator) -> None:
    token = emulator.login()["access_token"]
    session = emulator.session()
    session.headers["Authorization"] = f"Bearer {token}"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("package.xml", package_xml({"CustomObject": ["Gizmo__c"]}))
        zf.writestr("objects/Gizmo__c.object", custom_object("Gizmo__c", text_field("Hue__c"), label="Gizmo"))
    base = f"{emulator.url}/services/data/v62.0/metadata/deployRequest"
    resp = session.post(
        base,
        files={
            "entity_content": (None, json.dumps({"deployOptions": {"testLevel": "NoTestRun"}}), "application/json"),
            "file": ("deploy.zip", buf.getvalue(), "application/zip"),
        },
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    deploy_id = resp.json()["id"]
    for _ in range(5):
        result = session.get(f"{base}/{deploy_id}", params={"includeDetails": "true"}, timeout=30).json()
        if result["deployResult"]["done"]:
            break
    assert result["deployResult"]["status"] == "Succeeded"
    describe = session.get(f"{emulator.url}/services/data/v62.0/sobjects/Gizmo__c/describe", timeout=30)
    assert describe.status_code == 200 and "Hue__c" in {f["name"] for f in describe.json()["fields"]}
