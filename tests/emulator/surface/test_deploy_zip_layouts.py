"""Deploy zips in the layouts real tools produce (issue 19 item 4), through jsforce's Metadata API.

jsforce's own integration test (jsforce/jsforce test/metadata.test.ts, "file based call" and "REST API
deploy") deploys test/data/MyPackage.zip, whose package.xml sits under a top folder with spaces
("My Test Package/package.xml"), with no singlePackage option, and expects Succeeded with one test run.
An omitted singlePackage is false on a real org (Tooling API DeployRequest: SinglePackage defaults to
false), which lets package.xml sit one folder down; with singlePackage true it must be at the root, and a
zip without it fails with "No package.xml found". `sf` (source-deploy-retrieve) zips at the root and sends
singlePackage true. The zips below are built here with the same layout (no third-party files copied).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from surface_support import run_jsforce

from sfops.emulator.testing import RunningEmulator

pytestmark = [pytest.mark.integration, pytest.mark.thirdparty]

PACKAGE = """<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="http://soap.sforce.com/2006/04/metadata">
    <fullName>My Test Package</fullName>
    <types><members>MyApexTriggerTest</members><name>ApexClass</name></types>
    <types><members>MyTestObjectTrigger</members><name>ApexTrigger</name></types>
    <types><members>MyTestObject__c</members><name>CustomObject</name></types>
    <version>45.0</version>
</Package>
"""
OBJECT = """<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <deploymentStatus>Deployed</deploymentStatus>
    <label>My Test Object</label>
    <nameField><label>Name</label><type>Text</type></nameField>
    <pluralLabel>My Test Objects</pluralLabel>
    <sharingModel>ReadWrite</sharingModel>
</CustomObject>
"""
TEST_CLASS = """@isTest
public class MyApexTriggerTest {
    @isTest
    public static void testInsertRecord() {
        MyTestObject__c obj = new MyTestObject__c();
        insert obj;
    }
}
"""
TRIGGER = """trigger MyTestObjectTrigger on MyTestObject__c (before insert) {
    for (MyTestObject__c rec : Trigger.new) { rec.Name = String.valueOf(System.now()); }
}
"""


def _meta(kind: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{kind} xmlns="http://soap.sforce.com/2006/04/metadata">'
        f"<apiVersion>45.0</apiVersion><status>Active</status></{kind}>\n"
    )


def package_zip(path: Path, root: str) -> Path:
    """The MyPackage layout under `root` ("" = at the zip root), with folder entries like a zip tool."""
    files = {
        "package.xml": PACKAGE,
        "objects/MyTestObject__c.object": OBJECT,
        "classes/MyApexTriggerTest.cls": TEST_CLASS,
        "classes/MyApexTriggerTest.cls-meta.xml": _meta("ApexClass"),
        "triggers/MyTestObjectTrigger.trigger": TRIGGER,
        "triggers/MyTestObjectTrigger.trigger-meta.xml": _meta("ApexTrigger"),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        folders = sorted({root + name.rsplit("/", 1)[0] + "/" for name in files if "/" in name})
        for folder in ([root] if root else []) + folders:
            zf.writestr(folder, b"")
        for name, content in files.items():
            zf.writestr(root + name, content)
    path.write_bytes(buf.getvalue())
    return path


SCRIPT = """
  conn.version = '45.0';
  conn.metadata.pollInterval = 50;
  conn.metadata.pollTimeout = 60000;
  const fs = require('fs');
  const summary = (r) => ({ status: r.status, success: r.success, done: r.done,
    errors: r.numberComponentErrors, deployed: r.numberComponentsDeployed, total: r.numberComponentsTotal,
    tests: r.numberTestsCompleted, problem: r.errorMessage || null,
    failures: [].concat((r.details && r.details.componentFailures) || []).map((f) => f.problem) });
  const cases = JSON.parse(process.env.CASES);
  for (const c of cases) {
    const zip = fs.readFileSync(c.zip);
    const opts = Object.assign({ testLevel: 'RunSpecifiedTests', runTests: ['MyApexTriggerTest'] }, c.options);
    const r = c.rest ? await conn.metadata.deployRest(zip, opts).complete(true)
                     : await conn.metadata.deploy(zip, opts).complete(true);
    out[c.name] = summary(r);
  }
"""


def test_package_under_a_top_folder_with_spaces_deploys_like_jsforce_expects(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    spaced = package_zip(tmp_path / "spaced.zip", "My Test Package/")
    unpackaged = package_zip(tmp_path / "unpackaged.zip", "unpackaged/")
    flat = package_zip(tmp_path / "flat.zip", "")
    cases = [
        {"name": "soap_spaced_default", "zip": str(spaced), "options": {}},
        {"name": "rest_spaced_default", "zip": str(spaced), "options": {}, "rest": True},
        {"name": "soap_unpackaged_false", "zip": str(unpackaged), "options": {"singlePackage": False}},
        {"name": "soap_flat_true", "zip": str(flat), "options": {"singlePackage": True}},
        {"name": "rest_flat_default", "zip": str(flat), "options": {}, "rest": True},
        {"name": "soap_spaced_true", "zip": str(spaced), "options": {"singlePackage": True}},
    ]
    out = run_jsforce(emulator, tmp_path, SCRIPT, env={"CASES": json.dumps(cases)})
    for name in (
        "soap_spaced_default",
        "rest_spaced_default",
        "soap_unpackaged_false",
        "soap_flat_true",
        "rest_flat_default",
    ):
        got = out[name]
        assert (got["status"], got["success"], got["done"]) == ("Succeeded", True, True), (name, got)
        assert got["errors"] == 0 and got["deployed"] == got["total"] == 3, (name, got)
        assert got["tests"] == 1, (name, got)
    failed = out["soap_spaced_true"]
    assert (failed["status"], failed["success"]) == ("Failed", False)
    assert "No package.xml found" in (failed["problem"] or "") + " ".join(failed["failures"])


def test_sf_cli_deploys_a_zip_with_a_spaced_top_folder(emulator: RunningEmulator, tmp_path: Path) -> None:
    """`sf project deploy start --metadata-dir X.zip` sends the zip as it is; without --single-package the
    package may sit under one top folder, as jsforce's MyPackage.zip has it."""
    from surface_support import SfCli

    sf = SfCli(emulator, tmp_path / "home")
    spaced = package_zip(tmp_path / "spaced.zip", "My Test Package/")
    result = sf(
        [
            "project",
            "deploy",
            "start",
            "--metadata-dir",
            str(spaced),
            "--target-org",
            "emu",
            "--wait",
            "5",
            "--test-level",
            "RunSpecifiedTests",
            "--tests",
            "MyApexTriggerTest",
        ]
    )
    assert result["status"] == 0, result
    assert result["result"]["status"] == "Succeeded" and result["result"]["numberComponentsDeployed"] == 3
    described = sf(["sobject", "describe", "--sobject", "MyTestObject__c", "--target-org", "emu"])
    assert described["status"] == 0 and described["result"]["label"] == "My Test Object"
