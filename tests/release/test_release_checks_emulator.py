"""Single checks against the emulator (domain calls, real HTTPS): org state, kill switches with delegated
guards and unknown switch names, data volumes with a sandbox comparison."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from release_support import apex_class, apex_trigger, commit

from sfops.release.checks import kill_switches, org_state, volumes
from sfops.release.config import parse_release
from sfops.release.context import GateContext
from sfops.release.model import Status

pytestmark = pytest.mark.integration


def _ctx(org: Any, store: Any, repo: Path, release: dict[str, Any] | None = None, **kw: Any) -> GateContext:
    return GateContext(
        org=org,
        store=store,
        alias="emu",
        repo=str(repo),
        from_ref="c1",
        to_ref="c2",
        config=parse_release(release or {}),
        **kw,
    )


def test_org_state_fails_on_open_p1_and_open_breaker(org: Any, store: Any, tmp_path: Path) -> None:
    ctx = _ctx(org, store, tmp_path)
    first = org_state.check(ctx)
    assert first.status is not Status.FAIL, first
    org.create(
        "Incident_Log__c",
        {
            "Severity__c": "P1",
            "Status__c": "Investigating",
            "Message__c": "checkout down",
            "Detected_At__c": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    )
    org.create("Incident_Log__c", {"Severity__c": "P3", "Status__c": "New", "Message__c": "typo on a page"})
    org.create("Circuit_Breaker__c", {"Name": "ERP_Orders", "State__c": "Open", "Last_Error__c": "timeout"})

    result = org_state.check(_ctx(org, store, tmp_path))

    assert result.status is Status.FAIL
    messages = [f.message for f in result.findings]
    assert any(m.startswith("open P1 incident") and "checkout down" in m for m in messages), messages
    assert not any("typo" in m for m in messages)
    assert "circuit breaker ERP_Orders is open (last error: timeout)" in messages


def test_limits_at_their_threshold_fail(org: Any, store: Any, tmp_path: Path, emu: Any) -> None:
    emu.faults(limits={"DataStorageMB": {"Max": 100, "Remaining": 5}})
    result = org_state.check(_ctx(org, store, tmp_path))
    assert result.status is Status.FAIL
    assert "limit DataStorageMB at 95 % (95/100), threshold 80 %" in [f.message for f in result.findings]


def test_guard_in_the_called_handler_counts_and_unknown_switches_fail(org: Any, store: Any, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    commit(repo, apex_class("Old", "public class Old {\n    @AuraEnabled public static void kept() { }\n}\n"), "c1")
    commit(
        repo,
        {
            **apex_class(
                "Old",
                "public class Old {\n    @AuraEnabled public static void kept() { }\n"
                "    @AuraEnabled public static void added() {\n"
                "        FeatureKillSwitch.isEnabled('No_Such_Switch__c');\n    }\n}\n",
            ),
            **apex_trigger(
                "CaseTrigger", "trigger CaseTrigger on Case (after insert) {\n    CaseHandler.route(Trigger.new);\n}\n"
            ),
            **apex_class(
                "CaseHandler",
                "public class CaseHandler {\n    public static void route(List<Case> cs) {\n"
                "        if (!FeatureKillSwitch.isEnabled('auto_escalation')) { return; }\n"
                "    }\n}\n",
            ),
            **apex_class(
                "Nightly",
                "public class Nightly implements Schedulable {\n    public void execute(SchedulableContext c) { }\n}\n",
            ),
        },
        "c2",
    )

    result = kill_switches.check(_ctx(org, store, repo, {"kill_switches": {"exempt": ["Nightly"]}}))

    assert result.status is Status.FAIL
    assert result.facts["new_entry_points"] == 3 and result.facts["guarded"] == 1  # kept() is not new
    [finding] = result.findings
    assert finding.message == "new aura Old.added checks 'No_Such_Switch__c', which is not a switch in emu"
    assert (finding.file, finding.line) == ("force-app/main/default/classes/Old.cls", 4)


def test_sandbox_with_far_fewer_records_warns(org: Any, store: Any, tmp_path: Path, emu: Any) -> None:
    from sfops.salesforce import connect

    repo = tmp_path / "repo"
    commit(repo, apex_class("A", "public class A { }\n"), "c1")
    query = "        return [SELECT COUNT() FROM Contact WHERE AccountId = :acc];\n"
    body = "public class Q {\n    public static Integer n(Id acc) {\n" + query + "    }\n}\n"
    commit(repo, apex_class("Q", body), "c2")
    account = org.create("Account", {"Name": "Acme"})
    org.composite_sobjects(
        "POST", [{"attributes": {"type": "Contact"}, "LastName": f"C{i}", "AccountId": account} for i in range(120)]
    )

    class Sandbox:  # the same emulator answering as a sandbox with one Contact: only recordCount is read
        session = connect(emu.org_config(alias="sandbox"), env={}).session

        def request(self, method: str, path: str, **kw: Any) -> Any:
            return {"sObjects": [{"count": 1, "name": "Contact"}]}

    result = volumes.check(_ctx(org, store, repo, sandbox=Sandbox()))

    assert result.status is Status.WARN
    [growth] = result.findings
    assert growth.message.startswith("contact: 120 records in production vs 1 in the sandbox")
    assert result.facts["record_counts"] == {"contact": 120}


def test_tests_check_can_read_the_latest_run_instead_of_starting_one(
    org: Any, store: Any, tmp_path: Path, emu: Any
) -> None:
    from sfops.release.checks import tests

    repo = tmp_path / "repo"
    commit(repo, apex_class("A", "public class A { }\n"), "c1")
    commit(repo, apex_class("A", "public class A { Integer x; }\n"), "c2")
    ctx = _ctx(org, store, repo, {"tests": {"run": False}})
    assert tests.check(ctx).status is Status.FAIL  # no run yet: says how to get one
    emu.faults(deploy={"failing_tests": ["ErrorLoggerTest"]})
    job = org.tooling_request("POST", "runTestsAsynchronous", json={"testLevel": "RunLocalTests"})
    before = len(emu.requests_journal())

    result = tests.check(_ctx(org, store, repo, {"tests": {"run": False}}))

    assert result.facts["job_id"][:15] == str(job)[:15]
    assert not [e for e in emu.requests_journal()[before:] if e["kind"] == "tooling.runTestsAsynchronous"]
    assert result.status is Status.FAIL
    assert {f.data.get("class") for f in result.findings if f.data} == {"ErrorLoggerTest"}


def test_a_deploy_after_the_validation_makes_the_rollback_not_ready(store: Any, tmp_path: Path) -> None:
    from release_support import release_history

    from sfops.release.checks import rollback
    from sfops.rollback.package import plan_and_package

    repo = tmp_path / "repo"
    release_history(repo)
    package = plan_and_package(repo, "c2", "c1", None, write=True)
    store.set_state(
        "rollback.validation.emu",
        {
            "id": "0Af000000000001AAA",
            "from_sha": package.from_sha,
            "to_sha": package.to_sha,
            "package": "x",
            "at": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=5)).isoformat(),
            "status": "Succeeded",
        },
    )

    class Org:  # answers the DeployRequest query with one deploy since the validation
        metadata = None

        def tooling_query(self, soql: str) -> list[dict[str, Any]]:
            if "WHERE Id = '0Af000000000001AAA'" in soql:
                return []  # the org no longer lists the validation: the stored time is the bound
            assert "FROM DeployRequest WHERE CheckOnly = false" in soql
            return [
                {"Id": "0Af000000000002AAA", "Status": "Succeeded", "CompletedDate": "2026-03-06T12:00:00.000+0000"}
            ]

    result = rollback.check(_ctx(Org(), store, repo))

    assert result.status is Status.FAIL
    assert "1 deploy(s) to emu completed after the rollback validation 0Af000000000001AAA" in result.reason
    assert result.findings[0].message == "deploy 0Af000000000002AAA completed 2026-03-06T12:00:00.000+0000"


def _validate_b(org: Any, tmp_path: Path) -> str:
    """A check-only deploy of Existing + ExistingTest with RunSpecifiedTests; returns its id."""
    from release_support import EXISTING, EXISTING_TEST

    from sfops.rollback.deploy import zip_folder
    from sfops.salesforce.metadata import DeployOptions

    folder = tmp_path / "b"
    for rel, text in {**EXISTING, **EXISTING_TEST}.items():
        target = folder / "classes" / Path(rel).name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    (folder / "package.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><Package xmlns="http://soap.sforce.com/2006/04/metadata">'
        "<types><members>*</members><name>ApexClass</name></types><version>62.0</version></Package>"
    )
    options = DeployOptions(
        check_only=True, test_level="RunSpecifiedTests", run_tests=("ExistingTest",), single_package=True
    )
    return org.metadata.poll(org.metadata.deploy(zip_folder(folder), options), timeout=60).id


def test_tests_check_reads_bs_own_validation(org: Any, store: Any, tmp_path: Path, emu: Any) -> None:
    from sfops.release.checks import tests

    repo = tmp_path / "repo"
    commit(repo, apex_class("A", "public class A { }\n"), "c1")
    commit(repo, apex_class("A", "public class A { Integer x; }\n"), "c2")
    good = _validate_b(org, tmp_path)
    emu.faults(deploy={"failing_tests": ["ExistingTest.one"], "test_message": "expected 1, got 2"})
    bad = _validate_b(org, tmp_path)

    passed = tests.check(_ctx(org, store, repo, validation_id=good))
    failed = tests.check(_ctx(org, store, repo, validation_id=bad))

    assert passed.status is Status.PASS and passed.facts["tests_run"] == 1
    assert failed.status is Status.FAIL
    assert [f.message for f in failed.findings] == ["test ExistingTest.one failed: expected 1, got 2"]
