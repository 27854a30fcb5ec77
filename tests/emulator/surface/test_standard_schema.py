"""Standard objects as a real org describes them (issue 13 item 7, issue 19 item 2), through jsforce and
simple-salesforce.

Held to real recorded describes: tests/data/wire/sobject-describe-account.json and
sobject-describe-opportunity.json (CumulusCI cassettes, see tests/data/wire/PROVENANCE.md). Fields of the
recording org's own (custom `__c`) and references to objects the emulator does not model (Campaign,
Pricebook2, DandBCompany...) are out of scope and listed in docs/emulator.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from paths import REPO
from surface_support import run_jsforce, simple_salesforce

from sfops.emulator.testing import RunningEmulator

pytestmark = [pytest.mark.integration, pytest.mark.thirdparty]
WIRE = REPO / "tests" / "data" / "wire"
MODELLED = {
    "Account",
    "Contact",
    "Opportunity",
    "OpportunityContactRole",
    "Case",
    "Lead",
    "User",
    "Task",
    "Event",
    "Profile",
    "UserRole",
    "Group",
    "RecordType",
}
COMPARED = (
    "type",
    "length",
    "nillable",
    "createable",
    "updateable",
    "nameField",
    "relationshipName",
    "precision",
    "scale",
    "digits",
    "restrictedPicklist",
    "defaultedOnCreate",
    "label",
    "soapType",
    "extraTypeInfo",
    "compoundFieldName",
    "idLookup",
    "calculated",
)


def _in_scope(field: dict[str, Any]) -> bool:
    if field["name"].endswith("__c"):
        return False
    return field["type"] != "reference" or any(t in MODELLED for t in field["referenceTo"])


def _mismatches(recorded: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    got = {f["name"]: f for f in ours["fields"]}
    problems = []
    for field in filter(_in_scope, recorded["fields"]):
        mine = got.get(field["name"])
        if mine is None:
            problems.append(f"{field['name']}: missing")
            continue
        problems += [
            f"{field['name']}.{key}: {mine.get(key)!r} != recorded {field[key]!r}"
            for key in COMPARED
            if mine.get(key) != field[key]
        ]
        recorded_values = [(p["value"], p["label"], p["defaultValue"]) for p in field["picklistValues"]]
        if [(p["value"], p["label"], p["defaultValue"]) for p in mine["picklistValues"]] != recorded_values:
            problems.append(f"{field['name']}: picklist values differ")
        targets = [t for t in field["referenceTo"] if t in MODELLED]
        if mine["referenceTo"] != targets:
            problems.append(f"{field['name']}.referenceTo: {mine['referenceTo']} != {targets}")
    return problems


def test_account_describe_has_the_recorded_standard_fields(emulator: RunningEmulator) -> None:
    """simple-salesforce `sf.Account.describe()`: every standard field of the recorded Account describe
    (BillingState, LastActivityDate, Industry as a picklist...) with its recorded properties."""
    recorded = json.loads((WIRE / "sobject-describe-account.json").read_text())
    ours = simple_salesforce(emulator).Account.describe()
    assert _mismatches(recorded, ours) == []
    by_name = {f["name"]: f for f in ours["fields"]}
    assert by_name["Industry"]["type"] == "picklist" and len(by_name["Industry"]["picklistValues"]) == 32
    children = {(c["childSObject"], c["field"]): c["relationshipName"] for c in ours["childRelationships"]}
    assert children[("Opportunity", "AccountId")] == "Opportunities"
    assert children[("Contact", "AccountId")] == "Contacts"
    assert children[("Case", "AccountId")] == "Cases"
    assert children[("Account", "ParentId")] == "ChildAccounts"
    assert children[("Lead", "ConvertedAccountId")] is None  # unnamed in the recording too


def test_opportunity_describe_and_describe_global_through_jsforce(emulator: RunningEmulator, tmp_path: Path) -> None:
    recorded = json.loads((WIRE / "sobject-describe-opportunity.json").read_text())
    out = run_jsforce(
        emulator,
        tmp_path,
        """
  out.opportunity = await conn.sobject('Opportunity').describe();
  const global = await conn.describeGlobal();
  out.global = global.sobjects.map((s) => s.name);
  out.prefixes = Object.fromEntries(global.sobjects.map((s) => [s.name, s.keyPrefix]));
  for (const name of ['Case', 'Lead', 'Task', 'Event', 'User', 'Contact']) {
    const d = await conn.sobject(name).describe();
    out[name] = Object.fromEntries(d.fields.map((f) => [f.name, { type: f.type, ref: f.referenceTo,
      rel: f.relationshipName, values: f.picklistValues.map((p) => p.value) }]));
  }
""",
    )
    assert _mismatches(recorded, out["opportunity"]) == []
    for name, prefix in {
        "Account": "001",
        "Contact": "003",
        "Opportunity": "006",
        "Case": "500",
        "Lead": "00Q",
        "User": "005",
        "Task": "00T",
        "Event": "00U",
    }.items():
        assert name in out["global"] and out["prefixes"][name] == prefix
    assert out["Case"]["Status"]["values"] == ["New", "Working", "Escalated", "Closed"]
    assert out["Lead"]["Status"]["type"] == "picklist" and "Open - Not Contacted" in out["Lead"]["Status"]["values"]
    assert out["Task"]["WhatId"]["ref"][:2] == ["Account", "Case"]
    assert out["Task"]["WhoId"]["ref"] == ["Contact", "Lead"]
    assert out["Task"]["Priority"]["values"] == ["High", "Normal", "Low"]
    assert out["Event"]["ShowAs"]["values"] == ["Busy", "OutOfOffice", "Free"]
    assert "Europe/London" in out["User"]["TimeZoneSidKey"]["values"]
    assert out["Contact"]["ReportsToId"]["rel"] == "ReportsTo"


def test_standard_records_relationships_and_defaults_through_jsforce(emulator: RunningEmulator, tmp_path: Path) -> None:
    """Writes and SOQL across the standard relationships; picklist defaults from the recorded describes
    (Lead.Status "Open - Not Contacted", Case.Status "New"); StageName and CloseDate are required on
    Opportunity (not nillable, not defaulted: recorded describe)."""
    out = run_jsforce(
        emulator,
        tmp_path,
        """
  const acc = await conn.sobject('Account').create({ Name: 'Acme', BillingState: 'CA', Industry: 'Energy',
                                                      Rating: 'Hot' });
  const con = await conn.sobject('Contact').create({ LastName: 'Doe', FirstName: 'Jo', AccountId: acc.id });
  const opp = await conn.sobject('Opportunity').create({ Name: 'Big deal', StageName: 'Prospecting',
                                                          CloseDate: '2026-12-31', AccountId: acc.id, Amount: 1000 });
  await conn.sobject('Case').create({ Subject: 'Broken', AccountId: acc.id, ContactId: con.id });
  await conn.sobject('Task').create({ Subject: 'Call', WhatId: opp.id, WhoId: con.id });
  await conn.sobject('Lead').create({ LastName: 'Lee', Company: 'Lee Ltd' });
  try {
    await conn.sobject('Opportunity').create({ Name: 'No stage', CloseDate: '2026-12-31' });
  } catch (e) { out.missing = { errorCode: e.errorCode, fields: e.fields || null }; }
  out.tree = (await conn.query(
    'SELECT Name, BillingState, (SELECT Name, StageName FROM Opportunities), (SELECT LastName FROM Contacts) '
    + 'FROM Account')).records;
  out.up = (await conn.query('SELECT Name, Account.BillingState, Account.Industry FROM Opportunity')).records;
  out.cases = (await conn.query('SELECT Status, Priority, Account.Name, Contact.Name FROM Case')).records;
  out.tasks = (await conn.query('SELECT Subject, Status, Priority, WhatId, WhoId FROM Task')).records;
  out.leads = (await conn.query('SELECT Name, Status FROM Lead')).records;
  out.taskIds = { opp: opp.id, con: con.id };
""",
    )
    assert out["missing"]["errorCode"] == "REQUIRED_FIELD_MISSING"
    acc = out["tree"][0]
    assert acc["BillingState"] == "CA"
    assert [o["StageName"] for o in acc["Opportunities"]["records"]] == ["Prospecting"]
    assert [c["LastName"] for c in acc["Contacts"]["records"]] == ["Doe"]
    assert out["up"][0]["Account"]["BillingState"] == "CA" and out["up"][0]["Account"]["Industry"] == "Energy"
    case = out["cases"][0]
    assert (case["Status"], case["Priority"], case["Account"]["Name"], case["Contact"]["Name"]) == (
        "New",
        "Medium",
        "Acme",
        "Jo Doe",
    )
    task = out["tasks"][0]
    assert (task["WhatId"], task["WhoId"]) == (out["taskIds"]["opp"], out["taskIds"]["con"])
    assert (task["Status"], task["Priority"]) == ("Not Started", "Normal")
    assert out["leads"][0]["Status"] == "Open - Not Contacted" and out["leads"][0]["Name"] == "Lee"


def test_standard_objects_through_the_sf_cli(emulator: RunningEmulator, tmp_path: Path) -> None:
    """`sf sobject list` (describeGlobal), `sf sobject describe` and `sf data query` over the standard
    relationships (child subquery Opportunities, parent Account.Industry)."""
    from surface_support import SfCli

    sf = SfCli(emulator, tmp_path / "home")
    listed = sf(["sobject", "list", "--sobject", "all", "--target-org", "emu"])
    assert listed["status"] == 0
    assert {"Account", "Contact", "Opportunity", "Case", "Lead", "User", "Task", "Event"} <= set(listed["result"])
    described = sf(["sobject", "describe", "--sobject", "Lead", "--target-org", "emu"])
    fields = {f["name"]: f for f in described["result"]["fields"]}
    assert fields["Status"]["type"] == "picklist" and fields["Company"]["nillable"] is False
    created = sf(
        [
            "data",
            "create",
            "record",
            "--sobject",
            "Account",
            "--values",
            "Name='Acme' Industry='Energy' BillingState='CA'",
            "--target-org",
            "emu",
        ]
    )
    assert created["status"] == 0, created
    opp = sf(
        [
            "data",
            "create",
            "record",
            "--sobject",
            "Opportunity",
            "--values",
            f"Name='Deal' StageName='Prospecting' CloseDate=2026-12-31 AccountId={created['result']['id']}",
            "--target-org",
            "emu",
        ]
    )
    assert opp["status"] == 0, opp
    rows = sf(
        [
            "data",
            "query",
            "--query",
            "SELECT Name, (SELECT Name FROM Opportunities) FROM Account",
            "--target-org",
            "emu",
        ]
    )["result"]["records"]
    assert [(r["Name"], [o["Name"] for o in r["Opportunities"]["records"]]) for r in rows] == [("Acme", ["Deal"])]
    up = sf(["data", "query", "--query", "SELECT Account.Industry FROM Opportunity", "--target-org", "emu"])
    assert up["result"]["records"][0]["Account"]["Industry"] == "Energy"


def test_account_delete_follows_the_recorded_child_relationships(emulator: RunningEmulator, tmp_path: Path) -> None:
    """The recorded Account describe says Contacts and Opportunities are cascadeDelete and Cases
    restrictedDelete: deleting an Account takes its contacts and opportunities to the recycle bin, and is
    refused while a case points at it."""
    recorded = json.loads((WIRE / "sobject-describe-account.json").read_text())
    rels = {(r["childSObject"], r["field"]): r for r in recorded["childRelationships"]}
    assert rels[("Contact", "AccountId")]["cascadeDelete"] and rels[("Opportunity", "AccountId")]["cascadeDelete"]
    assert rels[("Case", "AccountId")]["restrictedDelete"]
    out = run_jsforce(
        emulator,
        tmp_path,
        """
  const a = await conn.sobject('Account').create({ Name: 'Gone' });
  await conn.sobject('Contact').create({ LastName: 'Kid', AccountId: a.id });
  await conn.sobject('Opportunity').create({ Name: 'Deal', StageName: 'Prospecting', CloseDate: '2026-12-31',
                                             AccountId: a.id });
  out.deleted = (await conn.sobject('Account').destroy(a.id)).success;
  out.left = (await conn.query("SELECT COUNT() FROM Contact")).totalSize
           + (await conn.query("SELECT COUNT() FROM Opportunity")).totalSize;
  out.binned = (await conn.query("SELECT Id FROM Contact WHERE IsDeleted = true", { scanAll: true })).totalSize;
  const b = await conn.sobject('Account').create({ Name: 'Kept' });
  await conn.sobject('Case').create({ Subject: 'Open issue', AccountId: b.id });
  try { await conn.sobject('Account').destroy(b.id); out.restricted = 'deleted'; }
  catch (e) { out.restricted = e.errorCode; }
  out.stillThere = (await conn.query("SELECT COUNT() FROM Account WHERE Name = 'Kept'")).totalSize;
""",
    )
    described = {
        (r["childSObject"], r["field"]): r for r in simple_salesforce(emulator).Account.describe()["childRelationships"]
    }
    assert described[("Case", "AccountId")]["restrictedDelete"] is True
    assert described[("Contact", "AccountId")]["cascadeDelete"] is True
    assert out == {"deleted": True, "left": 0, "binned": 1, "restricted": "DELETE_FAILED", "stillThere": 1}
