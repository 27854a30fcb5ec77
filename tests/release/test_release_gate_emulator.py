"""The release gate end to end against the emulator (the `sfops` CLI in-process, real HTTPS, git history).

Issue 16's done-when: a release with an unguarded new trigger, a non-selective query on a large
object and a stale validation fails the gate with exactly those reasons; after fixing them it passes;
--junit output parses. Plus overrides (audited) and the history.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from defusedxml import ElementTree as ET
from release_support import age_validation, plan_and_validate

from sfops.cli.app import invoke

pytestmark = pytest.mark.integration


def _check(g: dict[str, Any], b: str, *extra: str) -> tuple[int, dict[str, Any], Path]:
    junit = g["tmp"] / f"gate-{b}.xml"
    code, out, err = invoke(
        [
            "release",
            "check",
            "--from",
            "c1",
            "--to",
            b,
            "-o",
            "prod",
            "--repo",
            str(g["repo"]),
            "--enforce",
            "--junit",
            str(junit),
            "--json",
            *extra,
        ],
        g["env"],
    )
    assert out, err
    return code, json.loads(out)["result"], junit


def _by_name(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in result["checks"]}


def test_three_problems_fail_the_gate_then_fixed_release_passes(gate: dict[str, Any]) -> None:
    plan_and_validate(gate, "c2")
    age_validation(gate, days=11)

    code, result, junit = _check(gate, "c2")

    assert code == 1
    checks = _by_name(result)
    failed = {name for name, c in checks.items() if c["status"] == "fail"}
    assert failed == {"rollback", "kill_switches", "data_volumes"}
    assert "older than 10 days" in checks["rollback"]["reason"]
    [unguarded] = checks["kill_switches"]["findings"]
    assert unguarded["file"] == "force-app/main/default/triggers/OrderTrigger.trigger" and unguarded["line"] == 1
    assert "trigger OrderTrigger has no kill-switch guard" in unguarded["message"]
    [scan] = [f for f in checks["data_volumes"]["findings"] if f["status"] == "fail"]
    assert (scan["file"], scan["line"]) == ("force-app/main/default/classes/OrderService.cls", 6)
    assert scan["data"]["leadingOperationType"] == "TableScan"
    assert scan["data"]["sobjectCardinality"] == 2_000_000
    assert (scan["data"]["standard_threshold"], scan["data"]["custom_threshold"]) == (450_000, 150_000)
    assert scan["data"]["notes"][0]["fields"] == ["Description"]
    assert scan["data"]["explained"] == "SELECT Id, Name FROM Account WHERE Description = 'sfops'"
    suites = ET.parse(junit).getroot()
    assert suites.get("failures") == "3"
    assert {c.get("name") for c in suites.iter("testcase") if c.find("failure") is not None} == failed

    plan_and_validate(gate, "c3")
    code, result, junit = _check(gate, "c3")

    assert code == 0, result
    checks = _by_name(result)
    assert not [n for n, c in checks.items() if c["status"] == "fail"]
    assert checks["kill_switches"]["status"] == "pass"
    assert checks["rollback"]["status"] == "pass", checks["rollback"]  # the org lists no deploy since
    assert "no deploy since; quick-deployable" in checks["rollback"]["reason"]
    assert checks["data_volumes"]["status"] == "pass"
    assert ET.parse(junit).getroot().get("failures") == "0"

    # later, rolling B back names the gate run that let it through (B never landed here: its drift is expected)
    code, out, _ = invoke(
        [
            "rollback",
            "quick",
            "--package",
            str(gate["repo"] / "metadata/rollbacks/c3-to-c1"),
            "-o",
            "prod",
            "--yes",
            "--reason",
            "INC-9 (B never landed here)",
            "--overwrite-drift",
            "--json",
        ],
        gate["env"],
    )
    assert code == 0, out
    warnings = json.loads(out)["warnings"]
    assert any(f"allowed on prod by gate run #{result['run_id']} (warn" in w for w in warnings), warnings


def test_override_lets_a_failing_check_through_and_is_audited(gate: dict[str, Any]) -> None:
    plan_and_validate(gate, "c3")
    age_validation(gate, days=11)

    code, result, _ = _check(gate, "c3", "--override", "rollback", "--reason", "hot-fix for INC-7")

    assert code == 0
    assert _by_name(result)["rollback"]["status"] == "fail"  # what the check found ...
    code, out, _ = invoke(["release", "history", "-o", "prod", "--json"], gate["env"])
    [run] = json.loads(out)["result"]
    assert run["overridden"] == "rollback" and run["status"] == "warn" and run["by"] == "rm"
    from sfops.store import Store

    [audit] = Store.open(gate["env"]["SFOPS_STORE_URL"]).audit_history(action_prefix="release.override")
    assert audit.reason == "hot-fix for INC-7" and audit.outcome == "applied"
    assert audit.details["run_id"] == run["run"]


def test_override_without_reason_is_a_usage_error(gate: dict[str, Any]) -> None:
    code, out, err = invoke(
        [
            "release",
            "check",
            "--from",
            "c1",
            "--to",
            "c3",
            "-o",
            "prod",
            "--repo",
            str(gate["repo"]),
            "--override",
            "timing",
        ],
        gate["env"],
    )
    assert code == 2 and "--override needs --reason" in out + err


def test_unknown_ref_is_one_clear_line(gate: dict[str, Any]) -> None:
    code, out, err = invoke(
        ["release", "check", "--from", "c1", "--to", "nope", "-o", "prod", "--repo", str(gate["repo"])], gate["env"]
    )
    assert code == 2 and "Unknown git ref 'nope'" in out + err and "Traceback" not in out + err


def test_failing_test_from_the_outcome_knob_fails_the_tests_check(gate: dict[str, Any], emu: Any) -> None:
    # deploy Existing + its test so the org has them (the emulator seeds only the companion's classes)
    from sfops.salesforce import connect
    from sfops.salesforce.metadata import DeployOptions, MetadataClient

    folder = gate["tmp"] / "deploy"
    (folder / "classes").mkdir(parents=True)
    for name in ("Existing", "ExistingTest"):
        src = gate["repo"] / f"force-app/main/default/classes/{name}.cls"
        (folder / "classes" / f"{name}.cls").write_text(src.read_text())
        (folder / "classes" / f"{name}.cls-meta.xml").write_text(Path(str(src) + "-meta.xml").read_text())
    (folder / "package.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><Package xmlns="http://soap.sforce.com/2006/04/metadata">'
        "<types><members>*</members><name>ApexClass</name></types><version>62.0</version></Package>"
    )
    from sfops.rollback.deploy import zip_folder

    client = MetadataClient(connect(emu.org_config(alias="x"), env={}))
    result = client.poll(
        client.deploy(zip_folder(folder), DeployOptions(test_level="NoTestRun", single_package=True)), timeout=60
    )
    assert result.success, result
    emu.faults(deploy={"failing_tests": ["ExistingTest.one"]})

    _, result, _ = _check(gate, "c3")

    tests = _by_name(result)["tests"]
    assert tests["status"] == "fail"
    [failure] = tests["findings"]
    assert failure["data"]["class"] == "ExistingTest" and failure["data"]["method"] == "one"
    assert "injected by the emulator" in failure["message"]


def test_a_deploy_after_the_validation_fails_the_rollback_check_as_the_org_refuses_the_quick_deploy(
    gate: dict[str, Any], emu: Any
) -> None:
    from sfops.errors import SalesforceError
    from sfops.rollback.deploy import zip_folder
    from sfops.salesforce import connect
    from sfops.salesforce.metadata import DeployOptions, MetadataClient
    from sfops.store import Store

    plan_and_validate(gate, "c3")
    validation = Store.open(gate["env"]["SFOPS_STORE_URL"]).get_state("rollback.validation.prod")["id"]
    _, result, _ = _check(gate, "c3")
    assert _by_name(result)["rollback"]["status"] == "pass"

    # a hot-fix deployed after the validation: first running, then completed
    folder = gate["tmp"] / "hotfix"
    (folder / "classes").mkdir(parents=True)
    (folder / "classes" / "HotFix.cls").write_text("public class HotFix { }\n")
    (folder / "classes" / "HotFix.cls-meta.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">'
        "<apiVersion>62.0</apiVersion><status>Active</status></ApexClass>"
    )
    (folder / "package.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><Package xmlns="http://soap.sforce.com/2006/04/metadata">'
        "<types><members>HotFix</members><name>ApexClass</name></types><version>62.0</version></Package>"
    )
    client = MetadataClient(connect(emu.org_config(alias="x"), env={}), sleep=lambda _s: None)
    hotfix = client.deploy(zip_folder(folder), DeployOptions(test_level="NoTestRun", single_package=True))

    _, result, _ = _check(gate, "c3")
    rollback = _by_name(result)["rollback"]
    assert rollback["status"] == "warn" and "1 deploy(s) to prod are running" in rollback["reason"]
    assert rollback["findings"][0]["message"].startswith(f"deploy {hotfix}")

    assert client.poll(hotfix, timeout=60).success
    code, result, junit = _check(gate, "c3")
    rollback = _by_name(result)["rollback"]
    assert code == 1 and rollback["status"] == "fail"
    assert f"1 deploy(s) to prod completed after the rollback validation {validation}" in rollback["reason"]
    assert rollback["findings"][0]["message"].startswith(f"deploy {hotfix} completed ")
    assert ET.parse(junit).getroot().get("failures") == "1"
    # the gate says what the org would answer: Salesforce refuses the quick deploy of that validation now
    with pytest.raises(SalesforceError, match="later deployment changed the organization"):
        client.quick_deploy(validation)
