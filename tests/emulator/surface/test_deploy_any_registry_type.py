"""Every metadata type of Salesforce's registry deploys (issue 19 item 12), through jsforce.

jsforce's integration-test org setup (jsforce/jsforce test/package/JSforceTestSuite) deploys an
ApprovalProcess (approvalProcesses/Account.JSforceApprovalProcess1.approvalProcess), which the emulator
used to refuse as "Unknown type name". The emulator models a few dozen types; the rest of the registry
(source-deploy-retrieve's metadataRegistry.json) is stored as opaque files that retrieve returns
unchanged. The component files below are written for this test.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path

import pytest
from surface_support import run_jsforce

from sfops.emulator.testing import RunningEmulator

pytestmark = [pytest.mark.integration, pytest.mark.thirdparty]

MD = "http://soap.sforce.com/2006/04/metadata"
FILES = {
    "approvalProcesses/Account.Big_Deal_Approval.approvalProcess": f"""<?xml version="1.0" encoding="UTF-8"?>
<ApprovalProcess xmlns="{MD}">
    <active>false</active>
    <allowRecall>true</allowRecall>
    <allowedSubmitters><type>owner</type></allowedSubmitters>
    <approvalStep>
        <allowDelegate>false</allowDelegate>
        <assignedApprover><approver><type>adhoc</type></approver></assignedApprover>
        <label>Step 1</label>
        <name>Step_1</name>
    </approvalStep>
    <enableMobileDeviceAccess>false</enableMobileDeviceAccess>
    <label>Big Deal Approval</label>
    <recordEditability>AdminOnly</recordEditability>
    <showApprovalHistory>false</showApprovalHistory>
</ApprovalProcess>
""",
    "contentassets/logo.asset": "not really a png\x00\x01",
    "contentassets/logo.asset-meta.xml": f"""<?xml version="1.0" encoding="UTF-8"?>
<ContentAsset xmlns="{MD}">
    <isVisibleByExternalUsers>false</isVisibleByExternalUsers>
    <language>en_US</language>
    <masterLabel>logo</masterLabel>
    <relationships><organization><access>VIEWER</access></organization></relationships>
    <versions><version><number>1</number><pathOnClient>logo.png</pathOnClient></version></versions>
</ContentAsset>
""",
    "queueRoutingConfigs/Support_Routing.queueRoutingConfig": f"""<?xml version="1.0" encoding="UTF-8"?>
<QueueRoutingConfig xmlns="{MD}">
    <capacityType>Percentage</capacityType>
    <label>Support Routing</label>
    <routingModel>MostAvailable</routingModel>
    <routingPriority>1</routingPriority>
</QueueRoutingConfig>
""",
}
PACKAGE = f"""<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="{MD}">
    <types><members>Account.Big_Deal_Approval</members><name>ApprovalProcess</name></types>
    <types><members>logo</members><name>ContentAsset</name></types>
    <types><members>Support_Routing</members><name>QueueRoutingConfig</name></types>
    <version>64.0</version>
</Package>
"""


def test_unmodelled_registry_types_deploy_and_retrieve_unchanged(emulator: RunningEmulator, tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("package.xml", PACKAGE)
        for name, content in FILES.items():
            zf.writestr(name, content.encode("latin-1"))
    (tmp_path / "deploy.zip").write_bytes(buf.getvalue())
    out = run_jsforce(
        emulator,
        tmp_path,
        """
  conn.metadata.pollInterval = 50;
  conn.metadata.pollTimeout = 60000;
  const zip = require('fs').readFileSync(process.env.ZIP);
  const r = await conn.metadata.deploy(zip, { singlePackage: true, testLevel: 'NoTestRun' }).complete(true);
  out.deploy = { status: r.status, deployed: r.numberComponentsDeployed, errors: r.numberComponentErrors,
    failures: [].concat((r.details && r.details.componentFailures) || []).map((f) => f.problem) };
  out.list = (await conn.metadata.list([{ type: 'ApprovalProcess' }, { type: 'QueueRoutingConfig' }]))
    .map((p) => p.type + ':' + p.fullName).sort();
  const types = JSON.parse(process.env.TYPES);
  const ret = await conn.metadata.retrieve({ apiVersion: '64.0', singlePackage: true,
    unpackaged: { types, version: '64.0' } }).complete();
  out.retrieve = { status: ret.status, zip: ret.zipFile };
""",
        env={
            "ZIP": str(tmp_path / "deploy.zip"),
            "TYPES": json.dumps(
                [
                    {"name": "ApprovalProcess", "members": ["Account.Big_Deal_Approval"]},
                    {"name": "ContentAsset", "members": ["logo"]},
                    {"name": "QueueRoutingConfig", "members": ["Support_Routing"]},
                ]
            ),
        },
    )
    assert out["deploy"] == {"status": "Succeeded", "deployed": 3, "errors": 0, "failures": []}
    assert out["list"] == ["ApprovalProcess:Account.Big_Deal_Approval", "QueueRoutingConfig:Support_Routing"]
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(out["retrieve"]["zip"]))) as zf:
        got = {n: zf.read(n) for n in zf.namelist() if not n.endswith("package.xml")}
    assert got == {name: content.encode("latin-1") for name, content in FILES.items()}
