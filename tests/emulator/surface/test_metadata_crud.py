"""Metadata CRUD calls (issue 19 item 3) through jsforce: createMetadata, readMetadata, updateMetadata,
upsertMetadata, renameMetadata, listMetadata, deleteMetadata.

The sequence and its expectations follow jsforce's own integration test (jsforce/jsforce
test/metadata.test.ts, "CRUD based call"): SaveResult success + fullName per component, read returns
the nameField, update clears a description, upsert reports created only for the new object, rename's
SaveResult carries the old name and the object reads under the new one. Error cases follow the Metadata
API guide's result types (SaveResult/DeleteResult errors with statusCode and message).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from surface_support import run_jsforce

from sfops.emulator.testing import RunningEmulator

pytestmark = [pytest.mark.integration, pytest.mark.thirdparty]

SCRIPT = """
  conn.version = '45.0';
  const md = conn.metadata;
  const metadata = [
    { fullName: 'JSforceTestObjectSync1__c', label: 'Test Object Sync 1', pluralLabel: 'Test Object Sync 1',
      nameField: { type: 'Text', label: 'Test Object Name' }, description: 'This is a test #1 object',
      deploymentStatus: 'Deployed', sharingModel: 'ReadWrite' },
    { fullName: 'JSforceTestObjectSync2__c', label: 'Test Object Sync 2', pluralLabel: 'Test Object 2',
      nameField: { type: 'AutoNumber', label: 'Test Object #' }, description: 'This is a test #2 object',
      deploymentStatus: 'InDevelopment', sharingModel: 'Private' },
  ];
  const names = metadata.map((m) => m.fullName);
  out.create = await md.create('CustomObject', metadata);
  out.createAgain = await md.create('CustomObject', metadata[0]);
  const read = await md.read('CustomObject', names);
  out.read = read.map((r) => ({ fullName: r.fullName, nameLabel: r.nameField && r.nameField.label,
                                description: r.description || null, status: r.deploymentStatus }));
  read[0].label = 'Updated Test Object Sync 2';
  read[0].description = null;
  read[1].deploymentStatus = 'Deployed';
  out.update = await md.update('CustomObject', read);
  const reread = await md.read('CustomObject', names);
  out.afterUpdate = reread.map((r) => ({ label: r.label, description: r.description || null,
                                         status: r.deploymentStatus }));
  out.updateMissing = await md.update('CustomObject', { fullName: 'Nope__c', label: 'Nope',
    pluralLabel: 'Nopes', nameField: { type: 'Text', label: 'Name' }, deploymentStatus: 'Deployed',
    sharingModel: 'ReadWrite' });
  out.upsert = await md.upsert('CustomObject', [
    { fullName: 'JSforceTestObjectSync2__c', label: 'Upserted Object Sync 2', pluralLabel: 'Upserted Object Sync 2',
      nameField: { type: 'Text', label: 'Test Object Name' }, deploymentStatus: 'Deployed', sharingModel: 'ReadWrite' },
    { fullName: 'JSforceTestObjectSync3__c', label: 'Upserted Object Sync 3', pluralLabel: 'Upserted Object Sync 3',
      nameField: { type: 'Text', label: 'Test Object Name' }, deploymentStatus: 'Deployed', sharingModel: 'ReadWrite' },
  ]);
  out.rename = await md.rename('CustomObject', 'JSforceTestObjectSync1__c', 'JSforceTestObjectSync1Updated__c');
  const renamed = await md.read('CustomObject', 'JSforceTestObjectSync1Updated__c');
  out.renamedRead = renamed.fullName;
  out.field = await md.create('CustomField', { fullName: 'JSforceTestObjectSync3__c.Score__c', label: 'Score',
    type: 'Number', precision: 5, scale: 0 });
  const described = await conn.sobject('JSforceTestObjectSync3__c').describe();
  out.describedFields = described.fields.map((f) => f.name);
  const list = await md.list({ type: 'CustomObject' });
  out.list = list.filter((m) => /^JSforceTestObject.+__c$/.test(m.fullName))
    .map((m) => ({ type: m.type, fullName: m.fullName, hasId: typeof m.id === 'string' })).sort((a, b) =>
      a.fullName.localeCompare(b.fullName));
  out.delete = await md.delete('CustomObject', out.list.map((m) => m.fullName));
  out.deleteMissing = await md.delete('CustomObject', 'JSforceTestObjectSync1__c');
  const global = await conn.describeGlobal();
  out.left = global.sobjects.map((s) => s.name).filter((n) => n.startsWith('JSforceTestObject'));
"""


def test_crud_based_calls_like_jsforce_integration_test(emulator: RunningEmulator, tmp_path: Path) -> None:
    out = run_jsforce(emulator, tmp_path, SCRIPT)
    assert [(r["success"], r["fullName"]) for r in out["create"]] == [
        (True, "JSforceTestObjectSync1__c"),
        (True, "JSforceTestObjectSync2__c"),
    ]
    again = out["createAgain"]  # jsforce turns a single <errors> element into a list
    assert again["success"] is False and again["errors"][0]["statusCode"] == "DUPLICATE_DEVELOPER_NAME"
    assert out["read"] == [
        {
            "fullName": "JSforceTestObjectSync1__c",
            "nameLabel": "Test Object Name",
            "description": "This is a test #1 object",
            "status": "Deployed",
        },
        {
            "fullName": "JSforceTestObjectSync2__c",
            "nameLabel": "Test Object #",
            "description": "This is a test #2 object",
            "status": "InDevelopment",
        },
    ]
    assert [r["success"] for r in out["update"]] == [True, True]
    assert out["afterUpdate"][0] == {"label": "Updated Test Object Sync 2", "description": None, "status": "Deployed"}
    assert out["afterUpdate"][1]["status"] == "Deployed"
    missing = out["updateMissing"]
    assert missing["success"] is False and missing["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    assert [(r["success"], r["created"], r["fullName"]) for r in out["upsert"]] == [
        (True, False, "JSforceTestObjectSync2__c"),
        (True, True, "JSforceTestObjectSync3__c"),
    ]
    assert out["rename"] == {"fullName": "JSforceTestObjectSync1__c", "success": True, "errors": []}
    assert out["renamedRead"] == "JSforceTestObjectSync1Updated__c"
    assert out["field"]["success"] is True and "Score__c" in out["describedFields"]
    assert [m["fullName"] for m in out["list"]] == [
        "JSforceTestObjectSync1Updated__c",
        "JSforceTestObjectSync2__c",
        "JSforceTestObjectSync3__c",
    ]
    assert all(m["type"] == "CustomObject" and m["hasId"] for m in out["list"])
    assert [(r["success"], r["fullName"]) for r in out["delete"]] == [
        (True, "JSforceTestObjectSync1Updated__c"),
        (True, "JSforceTestObjectSync2__c"),
        (True, "JSforceTestObjectSync3__c"),
    ]
    assert out["deleteMissing"]["success"] is False
    assert out["deleteMissing"]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    assert out["left"] == []


def test_crud_calls_through_simple_salesforce_zeep(emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """simple-salesforce's mdapi builds the requests from Salesforce's metadata WSDL with zeep and parses the
    answers against it: createMetadata/updateMetadata/upsertMetadata/renameMetadata/deleteMetadata results
    must be WSDL-valid SaveResult/UpsertResult/DeleteResult."""
    from surface_support import simple_salesforce

    # ss's zeep transport ignores the session's CA bundle; the environment variable keeps TLS verified
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_bundle)
    md = simple_salesforce(emulator).mdapi
    custom_object = md.CustomObject(
        fullName="ZeepObject__c",
        label="Zeep Object",
        pluralLabel="Zeep Objects",
        nameField=md.CustomField(label="Name", type=md.FieldType("Text")),
        deploymentStatus=md.DeploymentStatus("Deployed"),
        sharingModel=md.SharingModel("ReadWrite"),
    )
    md.CustomObject.create(custom_object)  # raises on success=false
    assert md.CustomObject.read("ZeepObject__c").label == "Zeep Object"
    custom_object.label = "Zeep Object Updated"
    md.CustomObject.update(custom_object)
    assert md.CustomObject.read("ZeepObject__c").label == "Zeep Object Updated"
    md.CustomObject.upsert(custom_object)
    md.CustomObject.rename("ZeepObject__c", "ZeepRenamed__c")
    assert md.CustomObject.read("ZeepRenamed__c").fullName == "ZeepRenamed__c"
    md.CustomObject.delete("ZeepRenamed__c")
    names = {p.fullName for p in md.list_metadata([{"type": "CustomObject"}])}
    assert not names & {"ZeepObject__c", "ZeepRenamed__c"}
