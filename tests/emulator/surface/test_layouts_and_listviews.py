"""Describe layouts and list views (issue 19 items 1 and 6), through jsforce.

The checks are those of jsforce's own integration tests (jsforce/jsforce test/sobject.test.ts: "should
list layout for SObject", "should list named layout ... User ... UserAlt", "should list compact layout",
"should list approval layout", "should listup list views", "should describe list view", "should get
result of list view") plus what the REST API guide documents for these resources ("Describe Layouts",
"Describe Named Layouts", "Describe Compact Layouts", "Describe Approval Layouts", "List Views",
"Describe List Views", "List View Results"): each layout has buttonLayoutSection, detail and edit
sections, a quickActionList and relatedLists; record types map to layouts; approval layouts exist per
approval process; list views carry describe/results URLs and the results hold the object's rows.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from surface_support import run_jsforce

from sfops.emulator.testing import RunningEmulator

pytestmark = [pytest.mark.integration, pytest.mark.thirdparty]

APPROVAL = """<?xml version="1.0" encoding="UTF-8"?>
<ApprovalProcess xmlns="http://soap.sforce.com/2006/04/metadata">
    <active>true</active>
    <approvalStep><allowDelegate>false</allowDelegate>
        <assignedApprover><approver><type>adhoc</type></approver></assignedApprover>
        <label>Step 1</label><name>Step_1</name></approvalStep>
    <label>Big Deal Approval</label>
</ApprovalProcess>
"""
PACKAGE = """<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="http://soap.sforce.com/2006/04/metadata">
    <types><members>Account.Big_Deal_Approval</members><name>ApprovalProcess</name></types>
    <version>64.0</version>
</Package>
"""


def _approval_zip(path: Path) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("package.xml", PACKAGE)
        zf.writestr("approvalProcesses/Account.Big_Deal_Approval.approvalProcess", APPROVAL)
    path.write_bytes(buf.getvalue())
    return path


SCRIPT = """
  conn.metadata.pollInterval = 50;
  const zip = require('fs').readFileSync(process.env.ZIP);
  const dep = await conn.metadata.deploy(zip, { singlePackage: true }).complete(true);
  out.deployed = dep.status;
  const Account = conn.sobject('Account');
  await Account.create([{ Name: 'Zeta' }, { Name: 'Acme' }]);
  const shape = (l) => ({ id: l.id, button: typeof l.buttonLayoutSection,
    detail: l.detailLayoutSections.map((s) => s.heading),
    edit: Array.isArray(l.editLayoutSections), quick: Array.isArray(l.quickActionList.quickActionListItems),
    related: l.relatedLists.map((r) => r.name),
    fields: [].concat(...l.detailLayoutSections.map((s) => [].concat(...s.layoutRows.map((r) =>
      r.layoutItems.map((i) => i.layoutComponents.map((c) => c.value).join(',')))))) });
  const layouts = await Account.layouts();
  out.layouts = { layouts: layouts.layouts.map(shape), mappings: layouts.recordTypeMappings.map((m) =>
    ({ layoutId: m.layoutId, master: m.master, name: m.name })), selector: layouts.recordTypeSelectorRequired };
  out.namedInfos = (await conn.sobject('User').describe()).namedLayoutInfos.map((i) => i.name);
  const named = await conn.sobject('User').layouts('UserAlt');
  out.named = named.layouts.map(shape).map((l) => l.detail);
  try { await conn.sobject('User').layouts('NoSuchLayout'); out.unknownNamed = 'found'; }
  catch (e) { out.unknownNamed = e.errorCode || e.name; }
  const compact = await Account.compactLayouts();
  out.compact = compact.compactLayouts.map((c) => ({ id: c.id, objectType: c.objectType, name: c.name,
    actions: Array.isArray(c.actions), fields: c.fieldItems.map((i) => i.label) }));
  out.compactMappings = compact.recordTypeCompactLayoutMappings.length;
  const approval = await Account.approvalLayouts();
  out.approval = approval.approvalLayouts.map((a) => ({ name: a.name, label: a.label,
    items: Array.isArray(a.layoutItems), idOk: a.id === null || typeof a.id === 'string' }));
  out.contactApproval = (await conn.sobject('Contact').approvalLayouts()).approvalLayouts.length;
  const views = await Account.listviews();
  out.views = views.listviews.map((v) => ({ label: v.label, developerName: v.developerName,
    urls: typeof v.describeUrl === 'string' && typeof v.resultsUrl === 'string', soql: v.soqlCompatible }));
  const all = views.listviews.find((v) => v.developerName === 'AllAccounts');
  const described = await Account.listview(all.id).describe();
  out.describe = { id: described.id === all.id, sobjectType: described.sobjectType, query: described.query,
    columns: described.columns.filter((c) => !c.hidden).map((c) => c.fieldNameOrPath),
    sortable: described.columns.every((c) => typeof c.sortable === 'boolean'),
    orderBy: described.orderBy.map((o) => o.fieldNameOrPath) };
  const results = await Account.listview(all.id).results();
  out.results = { done: results.done, size: results.size, label: results.label,
    names: results.records.map((r) => r.columns.find((c) => c.fieldNameOrPath === 'Name').value) };
  const mine = views.listviews.find((v) => v.developerName === 'MyAccounts');
  out.mine = (await Account.listview(mine.id).results()).size;
"""


def test_layouts_and_list_views_like_jsforce_integration_tests(emulator: RunningEmulator, tmp_path: Path) -> None:
    out = run_jsforce(emulator, tmp_path, SCRIPT, env={"ZIP": str(_approval_zip(tmp_path / "ap.zip"))})
    assert out["deployed"] == "Succeeded"
    (layout,) = out["layouts"]["layouts"]
    assert layout["id"].startswith("00h") and layout["button"] == "object" and layout["edit"] and layout["quick"]
    assert layout["detail"] == ["Account Information", "System Information"]
    assert {"Contacts", "Opportunities", "Cases", "ChildAccounts"} <= set(layout["related"])
    assert layout["fields"][0] == "Name" and "BillingState" in layout["fields"]
    assert out["layouts"]["mappings"] == [{"layoutId": layout["id"], "master": True, "name": "Master"}]
    assert out["layouts"]["selector"] == [False]
    assert out["namedInfos"] == ["UserAlt"]
    assert out["named"] == [["User Information", "System Information"]]
    assert out["unknownNamed"] == "NOT_FOUND"
    assert out["compact"] == [
        {
            "id": None,
            "objectType": "Account",
            "name": "SYSTEM",
            "actions": True,
            "fields": ["Account Name", "Account Type", "Parent Account ID", "Billing Street"],
        }
    ]
    assert out["compactMappings"] == 1
    assert out["approval"] == [{"name": "Big_Deal_Approval", "label": "Big Deal Approval", "items": True, "idOk": True}]
    assert out["contactApproval"] == 0
    assert [v["developerName"] for v in out["views"]] == [
        "AllAccounts",
        "MyAccounts",
        "NewThisWeek",
        "RecentlyViewedAccounts",
    ]
    assert all(v["urls"] and v["soql"] is True for v in out["views"])
    described = out["describe"]
    assert described["id"] and described["sobjectType"] == "Account"
    assert described["columns"] == ["Name", "BillingState", "Phone", "Type", "Owner.Alias"]
    assert described["query"].startswith("SELECT Name, BillingState, Phone, toLabel(Type), Owner.Alias")
    assert "FROM Account USING SCOPE everything ORDER BY Name ASC NULLS FIRST" in described["query"]
    assert described["sortable"] and described["orderBy"] == ["Name", "Id"]
    assert out["results"] == {"done": True, "size": 2, "label": "All Accounts", "names": ["Acme", "Zeta"]}
    assert out["mine"] == 2  # created by this user
