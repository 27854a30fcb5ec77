"""`/recent`, `/tabs`, `/theme` (issue 19 item 7) and Tooling `completions?type=apex` (item 8), through
jsforce.

jsforce's own integration tests (jsforce/jsforce test/connection-meta.test.ts "recent records", "misc
metadata"; test/tooling.test.ts "should get completions") expect: after `SELECT ... FROM Account ...
FOR VIEW`, `conn.recent()` and `sobject('Account').recent()` list those accounts (attributes.type, Id,
Name); `conn.tabs()` is a list of {label, name, url}; `conn.theme()` has themeItems with a name, colors
({color, context, theme}) and icons ({url, width, height, contentType}). The SOQL guide ("FOR VIEW")
says FOR VIEW updates the records' LastViewedDate and the recently viewed list. The completions shape
is publicDeclarations -> namespace -> class -> {constructors, methods, properties} (Tooling API guide,
"Completions").
"""

from __future__ import annotations

from pathlib import Path

import pytest
from surface_support import run_jsforce

from sfops.emulator.testing import RunningEmulator

pytestmark = [pytest.mark.integration, pytest.mark.thirdparty]


def test_recent_tabs_theme_like_jsforce_integration_tests(emulator: RunningEmulator, tmp_path: Path) -> None:
    out = run_jsforce(
        emulator,
        tmp_path,
        """
  const acc = await conn.sobject('Account').create([{ Name: 'Old' }, { Name: 'Newer' }, { Name: 'Unseen' }]);
  await conn.sobject('Contact').create({ LastName: 'Viewed' });
  out.before = (await conn.recent()).length;
  await conn.query("SELECT Id, Name FROM Account WHERE Name = 'Old' FOR VIEW");
  await conn.query("SELECT Id, Name FROM Contact FOR VIEW");
  await conn.query("SELECT Id, Name FROM Account WHERE Name = 'Newer' FOR VIEW");
  out.recent = (await conn.recent()).map((r) => [r.attributes.type, r.Name, typeof r.Id]);
  out.recent2 = (await conn.recent(2)).map((r) => r.Name);
  out.accounts = (await conn.sobject('Account').recent()).map((r) => [r.attributes.type, r.Name]);
  out.lastViewed = (await conn.query("SELECT Name, LastViewedDate FROM Account ORDER BY Name")).records
    .map((r) => [r.Name, r.LastViewedDate !== null]);
  const tabs = await conn.tabs();
  out.tabs = tabs.map((t) => ({ label: t.label, name: t.name, url: typeof t.url, sobjectName: t.sobjectName }));
  const theme = await conn.theme();
  out.theme = theme.themeItems.map((t) => ({ name: t.name,
    colors: (t.colors || []).every((c) => [c.color, c.context, c.theme].every((x) => typeof x === 'string')),
    icons: (t.icons || []).every((i) => typeof i.url === 'string' && typeof i.width === 'number'
      && typeof i.height === 'number' && typeof i.contentType === 'string') }));
""",
    )
    assert out["before"] == 0
    assert out["recent"] == [
        ["Account", "Newer", "string"],
        ["Contact", "Viewed", "string"],
        ["Account", "Old", "string"],
    ]
    assert out["recent2"] == ["Newer", "Viewed"]
    assert out["accounts"] == [["Account", "Newer"], ["Account", "Old"]]
    assert out["lastViewed"] == [["Newer", True], ["Old", True], ["Unseen", False]]
    by_name = {t["name"]: t for t in out["tabs"]}
    assert by_name["standard-Account"] == {
        "label": "Accounts",
        "name": "standard-Account",
        "url": "string",
        "sobjectName": "Account",
    }
    assert {"standard-home", "standard-Contact", "standard-Opportunity", "standard-Case", "standard-Lead"} <= set(
        by_name
    )
    assert "Incident_Log__c" in by_name  # custom objects get tabs too
    names = {t["name"] for t in out["theme"]}
    assert {"Account", "Contact", "Opportunity", "Incident_Log__c"} <= names
    assert all(t["colors"] and t["icons"] for t in out["theme"])


def test_tooling_completions_apex(emulator: RunningEmulator, tmp_path: Path) -> None:
    out = run_jsforce(
        emulator,
        tmp_path,
        """
  const res = await conn.tooling.completions('apex');
  const system = res.publicDeclarations.System;
  out.classes = Object.keys(system).sort();
  out.isBlank = system.String.methods.find((m) => m.name === 'isBlank');
  out.debug = system.System.methods.filter((m) => m.name === 'debug').map((m) => m.argTypes);
  out.pi = system.Math.properties.map((p) => p.name);
  out.http = system.HttpRequest.constructors.length;
  try { await conn.tooling.completions('nonsense'); out.bad = 'ok'; } catch (e) { out.bad = e.errorCode; }
""",
    )
    assert {"String", "Math", "Database", "System", "Test", "Limits", "JSON", "Date", "Datetime"} <= set(out["classes"])
    assert out["isBlank"] == {
        "argTypes": ["String"],
        "isStatic": True,
        "methodDoc": None,
        "name": "isBlank",
        "parameters": [{"name": "inputString", "type": "String"}],
        "references": [],
        "returnType": "Boolean",
    }
    assert out["debug"] == [["Object"], ["LoggingLevel", "Object"]]
    assert out["pi"] == ["PI", "E"]
    assert out["http"] == 1
    assert out["bad"] == "INVALID_TYPE"
