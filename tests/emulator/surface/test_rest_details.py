"""Smaller REST/Tooling behaviours real orgs show to jsforce (issue 19 items 9, 10, 11).

Written from jsforce's own integration tests (jsforce/jsforce test/connection-crud.test.ts "upsert 5
records ... with allOrNone=true", test/tooling.test.ts "should delete debuglevel") and the REST API guide
("List Available REST Resources": the identity entry is `https://MyDomainName.my.salesforce.com/id/00D.../005...`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from surface_support import run_jsforce

from sfops.emulator.testing import RunningEmulator

pytestmark = [pytest.mark.integration, pytest.mark.thirdparty]


def test_identity_url_of_the_version_resource_is_absolute_and_answers(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """jsforce `conn.identity()` (access-token login: no userInfo) reads `identity` from
    GET /services/data/vNN.0 and then GETs that URL."""
    out = run_jsforce(
        emulator,
        tmp_path,
        """
  const res = await conn.request('/services/data/v' + conn.version);
  out.identityUrl = res.identity;
  const who = await conn.identity();
  out.who = { user_id: who.user_id, organization_id: who.organization_id, username: who.username };
""",
    )
    admin = emulator.emulator.admin_user_id()
    assert out["identityUrl"] == f"{emulator.url}/id/{emulator.emulator.org_id}/{admin}"
    assert out["who"] == {"user_id": admin, "organization_id": emulator.emulator.org_id, "username": "admin@sfops.demo"}


def test_collection_upsert_all_or_none_reports_created_on_rolled_back_rows(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """jsforce's test: 5 new rows, one with OwnerId 'INVALID_OWNER', allOrNone -> every result has
    success=false and created=true; the bad row MALFORMED_ID, the others ALL_OR_NONE_OPERATION_ROLLED_BACK;
    nothing is stored. A row that matched an existing record would have been updated: created=false."""
    out = run_jsforce(
        emulator,
        tmp_path,
        """
  conn.version = '50.0';
  const existing = await conn.sobject('Error_Log__c').create({ Message__c: 'old', Fingerprint__c: 'fp-old' });
  const records = [0, 1, 2, 3].map((i) => ({ Message__c: 'row ' + i, Fingerprint__c: 'fp-' + i }));
  records.push({ Message__c: 'again', Fingerprint__c: 'fp-old' });
  records[2].OwnerId = 'INVALID_OWNER';
  out.results = await conn.sobject('Error_Log__c').upsert(records, 'Fingerprint__c', { allOrNone: true });
  const keys = records.map((r) => r.Fingerprint__c);
  out.found = (await conn.sobject('Error_Log__c').find({ Fingerprint__c: { $in: keys } }, ['Message__c']))
    .map((r) => r.Message__c);
  out.existing = existing.id;
""",
    )
    results = out["results"]
    assert [r["success"] for r in results] == [False] * 5
    assert [r["created"] for r in results] == [True, True, True, True, False]
    codes = [r["errors"][0]["statusCode"] for r in results]
    assert (
        codes
        == ["ALL_OR_NONE_OPERATION_ROLLED_BACK"] * 2 + ["MALFORMED_ID"] + ["ALL_OR_NONE_OPERATION_ROLLED_BACK"] * 2
    )
    assert out["found"] == ["old"]  # nothing created, the existing row not updated


def test_deleted_debug_level_reads_as_not_found(emulator: RunningEmulator, tmp_path: Path) -> None:
    out = run_jsforce(
        emulator,
        tmp_path,
        """
  const levels = ['ApexCode', 'ApexProfiling', 'Callout', 'Database', 'Nba', 'System', 'Validation',
                  'Visualforce', 'Wave', 'Workflow'];
  const ret = await conn.tooling.sobject('DebugLevel').create(Object.assign(
    { DeveloperName: 'jsforce_testing', MasterLabel: 'jsforce Testing' },
    Object.fromEntries(levels.map((l) => [l, 'ERROR']))));
  await conn.tooling.sobject('DebugLevel').record(ret.id).update({ ApexCode: 'WARN' });
  out.updated = (await conn.tooling.sobject('DebugLevel').retrieve(ret.id)).ApexCode;
  out.deleted = (await conn.tooling.sobject('DebugLevel').record(ret.id).destroy()).success;
  try { await conn.tooling.sobject('DebugLevel').retrieve(ret.id); out.after = 'found'; }
  catch (e) { out.after = e.name; }
  const acc = await conn.sobject('Account').create({ Name: 'Recycled' });
  await conn.sobject('Account').destroy(acc.id);
  try { await conn.sobject('Account').retrieve(acc.id); out.account = 'found'; }
  catch (e) { out.account = e.name; }
""",
    )
    assert out["updated"] == "WARN" and out["deleted"] is True
    assert out["after"] == "NOT_FOUND"
    # data records go to the recycle bin instead; reading one stays ENTITY_IS_DELETED
    assert out["account"] == "ENTITY_IS_DELETED"
