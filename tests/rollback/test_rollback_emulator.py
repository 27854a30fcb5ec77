"""End to end against the emulator's Metadata API over real HTTPS: release B is deployed, the rollback
to A is validated, quick-deployed (or falls back), and the org's metadata and schema are back at A."""

from __future__ import annotations

import functools
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cli_support import run_cli

from sfops.config import load_settings
from sfops.errors import ExitCode, UsageError
from sfops.rollback.convert import convert
from sfops.rollback.delta import compute_delta
from sfops.rollback.deploy import RollbackDeployer, RollbackDeployError, drift_check, load_package
from sfops.rollback.gitio import EMPTY_TREE
from sfops.rollback.package import plan_and_package
from sfops.rollback.registry import load_registry
from sfops.rollback.xmlutil import package_xml
from sfops.salesforce import Org, connect
from sfops.salesforce.metadata import DeployOptions, MetadataClient
from sfops.store import Store

pytestmark = pytest.mark.integration


def release_zip(repo: Path, tag: str) -> bytes:
    """Every component of the sample at `tag`, in Metadata API format (what deploying the release sends)."""
    registry = load_registry()
    delta = compute_delta(repo, EMPTY_TREE, tag, registry)
    converted = convert(delta, delta.changes, registry)
    files = {**converted.files, "package.xml": package_xml(converted.members, "62.0")}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in sorted(files.items()):
            zf.writestr(name, data)
    return buf.getvalue()


def fresh(emu: Any) -> Org:
    """A new connection (describe answers are cached per Org)."""
    return connect(emu.org_config(alias="check"), env={})


def classes(client: MetadataClient) -> set[str]:
    return {p.full_name for p in client.list_metadata("ApexClass")}


def fields(emu: Any, sobject: str) -> set[str]:
    return {f["name"] for f in fresh(emu).describe(sobject)["fields"]}


@pytest.fixture
def at_b(emu: Any, sample_repo: Path, tmp_path: Path) -> dict[str, Any]:
    """The emulator org running release B (v1.1), a client that does not sleep between polls, a store
    and the rollback package v1.1 -> v1.0."""
    org = connect(emu.org_config(alias="emu"), env={})
    client = MetadataClient(org, sleep=lambda _s: None)
    result = client.poll(
        client.deploy(release_zip(sample_repo, "v1.1"), DeployOptions(test_level="NoTestRun")), timeout=60
    )
    assert result.status == "Succeeded", result.component_failures
    out = tmp_path / "pkg"
    plan_and_package(sample_repo, "v1.1", "v1.0", out)
    store = Store.open(f"sqlite:///{tmp_path / 'sfops.db'}")
    deployer = RollbackDeployer(client, store, "emu", actor="release-manager")
    return {"client": client, "store": store, "deployer": deployer, "package": load_package(out), "dir": out}


def assert_org_at_a(emu: Any, client: MetadataClient) -> None:
    names = classes(client)
    assert {"StringUtil", "LegacyNotifier", "IncidentService", "KillSwitchService"} <= names
    assert not names & {"CircuitBreaker", "CircuitBreakerTest", "StringUtils", "KillSwitchAudit"}
    incident = fields(emu, "Incident__c")
    assert "Description__c" in incident and "Breaker_State__c" not in incident
    assert "Disabled_Reason__c" not in fields(emu, "Kill_Switch__c")


def assert_org_at_b(emu: Any, client: MetadataClient) -> None:
    assert {"CircuitBreaker", "StringUtils", "KillSwitchAudit"} <= classes(client)
    assert "Breaker_State__c" in fields(emu, "Incident__c")


def test_validate_then_quick_deploy_brings_the_org_back_to_a(emu: Any, at_b: dict[str, Any]) -> None:
    deployer, package, client = at_b["deployer"], at_b["package"], at_b["client"]
    assert drift_check(client, package) == []
    before = deployer.quick_plan(package)
    assert before["would"] == "full deploy with tests" and before["stale"] == "no stored validation"
    validation = deployer.validate(package, reason="pre-validated at release time")
    assert validation.status == "Succeeded" and validation.check_only and validation.exit_code == ExitCode.OK
    # sample: LegacyNotifier/StringUtil/IncidentTrigger have no test naming them -> RunLocalTests
    assert validation.test_level == "RunLocalTests" and validation.tests_total > 0
    assert_org_at_b(emu, client)  # check-only changed nothing
    planned = deployer.quick_plan(package)
    assert (planned["would"], planned["validation_id"], planned["stale"]) == ("quick deploy", validation.id, None)
    assert_org_at_b(emu, client)  # planning asked nothing of the org

    quick = deployer.quick(package, reason="INC-42 breaker storm")
    assert quick.status == "Succeeded" and not quick.fell_back and quick.validation_id == validation.id
    assert quick.tests_total == 0  # no test re-run
    assert_org_at_a(emu, client)
    audit = at_b["store"].audit_history(action_prefix="rollback.")
    assert [a.action for a in audit] == ["rollback.quick", "rollback.validate"]
    assert audit[0].before == {"sha": package.from_sha} and audit[0].after == {"sha": package.to_sha}
    assert audit[0].reason == "INC-42 breaker storm" and audit[0].actor == "release-manager"
    assert audit[0].details["validation_id"] == validation.id


def test_failing_validation_reports_test_failures_and_changes_nothing(
    emu: Any, at_b: dict[str, Any], tmp_path: Path
) -> None:
    emu.faults(deploy={"failing_tests": ["KillSwitchServiceTest"]})
    outcome = at_b["deployer"].validate(at_b["package"])
    assert outcome.status == "Failed" and outcome.exit_code == ExitCode.FAILED
    assert {f["class_name"] for f in outcome.test_failures} == {"KillSwitchServiceTest"}
    assert any(r["kind"] == "test" and r["name"].startswith("KillSwitchServiceTest.") for r in outcome.rows())
    assert_org_at_b(emu, at_b["client"])
    from sfops.rollback.deploy import write_junit

    junit = write_junit(outcome, tmp_path / "junit.xml").read_text()
    assert 'classname="KillSwitchServiceTest"' in junit and "<failure" in junit


def test_component_failure_is_listed_per_component(emu: Any, at_b: dict[str, Any]) -> None:
    emu.faults(deploy={"component_problem": "Injected: field in use", "deploys": 1})
    outcome = at_b["deployer"].validate(at_b["package"])
    assert outcome.status == "Failed"
    assert [f["problem"] for f in outcome.component_failures] == ["Injected: field in use"]
    assert outcome.rows()[0]["kind"] == "component"


def test_stale_validation_falls_back_to_a_full_deploy(emu: Any, at_b: dict[str, Any], sample_repo: Path) -> None:
    deployer, client = at_b["deployer"], at_b["client"]
    assert deployer.validate(at_b["package"]).status == "Succeeded"
    # any later deploy invalidates every pending validation
    later = client.poll(
        client.deploy(release_zip(sample_repo, "v1.1"), DeployOptions(test_level="NoTestRun")), timeout=60
    )
    assert later.status == "Succeeded"
    outcome = deployer.quick(at_b["package"])
    assert outcome.fell_back and outcome.status == "Succeeded" and outcome.action == "quick-fallback"
    assert (
        outcome.notes[0].startswith("QUICK DEPLOY NOT POSSIBLE")
        and "FULL deploy with tests instead" in outcome.notes[0]
        and outcome.tests_total > 0
    )
    assert_org_at_a(emu, client)


def test_quick_without_validation_and_without_fallback_fails_clearly(at_b: dict[str, Any]) -> None:
    with pytest.raises(RollbackDeployError, match="no stored validation"):
        at_b["deployer"].quick(at_b["package"], fallback=False)


def test_drift_check_warns_when_the_org_is_not_at_b(emu: Any, sample_repo: Path, tmp_path: Path) -> None:
    client = MetadataClient(connect(emu.org_config(alias="emu"), env={}), sleep=lambda _s: None)
    plan_and_package(sample_repo, "v1.1", "v1.0", tmp_path / "pkg")
    notes = drift_check(client, load_package(tmp_path / "pkg"))
    assert any("ApexClass KillSwitchAudit is not in the org" in n for n in notes)
    assert not any("IncidentService " in n for n in notes)


def test_cli_validate_status_quick_and_guards(
    emu: Any, at_b: dict[str, Any], rollback_cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # same polling, shorter pauses (the emulator finishes a deploy after a few status checks)
    monkeypatch.setattr(
        MetadataClient, "poll", functools.partialmethod(MetadataClient.poll, interval=0.02, max_interval=0.05)
    )
    pkg = str(at_b["dir"])
    result = run_cli(["rollback", "deploy", "--package", pkg, "-o", "prod", "--dry-run", "--json"], rollback_cli_env)
    dry = result.json
    assert result.exit_code == 0
    assert dry["result"]["check_only"] is True  # a validation: no confirmation needed, no change
    assert_org_at_b(emu, at_b["client"])
    result = run_cli(["rollback", "validate", "--package", pkg, "-o", "emu", "--json"], rollback_cli_env)
    body = result.json
    assert result.exit_code == 0 and body["result"]["status"] == "Succeeded" and body["result"]["check_only"] is True
    job = body["result"]["id"]

    result = run_cli(["rollback", "status", "--job-id", job, "-o", "emu", "--wait", "1"], rollback_cli_env)
    assert result.exit_code == 0
    assert "Succeeded" in result.stdout
    assert f"{job} Succeeded: components" in result.stderr  # progress on stderr

    result = run_cli(["rollback", "quick", "--package", pkg, "-o", "prod"], rollback_cli_env)
    assert result.exit_code == ExitCode.FAILED
    assert "production org" in result.stdout + result.stderr  # no terminal to confirm on

    frozen = dict(rollback_cli_env)
    config = Path(frozen["SFOPS_CONFIG"])
    config.write_text(
        config.read_text() + '\n[rollback]\nfreeze = [{ start = "2000-01-01T00:00:00Z", '
        'end = "2100-01-01T00:00:00Z", reason = "year-end freeze" }]\n'
    )
    result = run_cli(["rollback", "quick", "--package", pkg, "-o", "emu"], frozen)
    assert result.exit_code == ExitCode.FAILED
    assert "year-end freeze" in result.stdout + result.stderr
    assert "--override-freeze" in result.stdout + result.stderr

    result = run_cli(
        [
            "rollback",
            "quick",
            "--package",
            pkg,
            "-o",
            "emu",
            "--override-freeze",
            "--reason",
            "INC-7",
            "--incident",
            "INC-7",
            "--json",
            "--junit",
            str(tmp_path / "j.xml"),
        ],
        frozen,
    )
    body = result.json
    assert result.exit_code == 0 and body["result"]["status"] == "Succeeded" and not body["result"]["fell_back"]
    assert any("change freeze overridden" in w for w in body["warnings"])
    assert (tmp_path / "j.xml").is_file()
    assert_org_at_a(emu, at_b["client"])
    # the incident's timeline reads the audit by incident id: the quick deploy must be there
    store = Store.open(load_settings(frozen).store_url)
    actions = [r.action for r in store.audit_history(incident_id="INC-7")]
    assert actions and all(a.startswith("rollback.") for a in actions) and "rollback.quick" in actions


def test_two_phase_rollback_quick_deploys_phase_one_then_deploys_phase_two(
    emu: Any, make_repo: Any, tmp_path: Path
) -> None:
    p = "force-app/main/default/classes"
    meta = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">'
        "<apiVersion>62.0</apiVersion><status>Active</status></ApexClass>\n"
    )

    def cls(name: str, body: str) -> dict[str, str]:
        return {f"{p}/{name}.cls": body, f"{p}/{name}.cls-meta.xml": meta}

    test = cls(
        "CtlTest",
        "@IsTest\nprivate class CtlTest {\n    @IsTest static void runs() {\n"
        "        System.assertNotEquals(null, Ctl.x());\n    }\n}\n",
    )
    repo = make_repo(
        [
            {
                **cls("Svc", "public class Svc {\n    public static Boolean on() { return true; }\n}\n"),
                **cls("Ctl", "public class Ctl {\n    public static Boolean x() { return Svc.on(); }\n}\n"),
                **test,
            },
            {
                **cls(
                    "Svc",
                    "public class Svc {\n    public static Boolean on() { return true; }\n"
                    "    public static String why() { return 'b'; }\n}\n",
                ),
                **cls("Audit", "public class Audit {\n    public static String d() { return Svc.why(); }\n}\n"),
                **cls("Ctl", "public class Ctl {\n    public static String x() { return Audit.d(); }\n}\n"),
            },
        ]
    )
    org = connect(emu.org_config(alias="emu"), env={})
    client = MetadataClient(org, sleep=lambda _s: None)
    assert (
        client.poll(client.deploy(release_zip(repo, "c2"), DeployOptions(test_level="NoTestRun")), timeout=60).status
        == "Succeeded"
    )
    plan = plan_and_package(repo, "c2", "c1", tmp_path / "pkg")
    assert plan.phases == 2
    package = load_package(tmp_path / "pkg")
    deployer = RollbackDeployer(client, Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}"), "emu", actor="rm")
    validation = deployer.validate(package)
    assert validation.status == "Succeeded", (validation.component_failures, validation.test_failures)
    assert any("phase 1" in n for n in validation.notes)
    outcome = deployer.quick(package)
    assert outcome.status == "Succeeded" and outcome.action == "deploy", outcome.component_failures
    assert "phase 1 quick-deployed" in outcome.notes[0]
    names = classes(client)
    assert {"Svc", "Ctl", "CtlTest"} <= names and "Audit" not in names
    body = fresh(emu).tooling_query("SELECT Body FROM ApexClass WHERE Name = 'Svc'")[0]["Body"]
    assert "on()" in body and "why()" not in body  # phase 2 reverted Svc to A


def test_drift_check_sees_a_hotfix_made_in_production_after_b(emu: Any, at_b: dict[str, Any]) -> None:
    client, package = at_b["client"], at_b["package"]
    hotfix = (
        "public with sharing class KillSwitchService {\n    public static Boolean isEnabled() { return false; }\n"
        "    public static String reason() { return 'hotfix'; }\n}\n"
    )
    meta = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">'
        "<apiVersion>62.0</apiVersion><status>Active</status></ApexClass>\n"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("package.xml", package_xml({"ApexClass": ["KillSwitchService"]}, "62.0"))
        zf.writestr("classes/KillSwitchService.cls", hotfix)
        zf.writestr("classes/KillSwitchService.cls-meta.xml", meta)
    assert client.poll(client.deploy(buf.getvalue(), DeployOptions(test_level="NoTestRun")), timeout=60).success
    notes = drift_check(client, package)
    assert [n for n in notes if "differs from release B" in n] == [
        "drift: classes/KillSwitchService.cls in the org differs from release B (bad) (changed in production "
        "after it?);"
        " the rollback overwrites it"
    ]


# ---------------------------------------------------------------- deploy safety (issue 10)


def test_quick_asks_the_org_for_a_validation_stored_as_pending(emu: Any, at_b: dict[str, Any]) -> None:
    deployer, package, store = at_b["deployer"], at_b["package"], at_b["store"]
    validation = deployer.validate(package, reason="release time")
    assert validation.status == "Succeeded"
    # what `validate --wait 0` stores: the validation had not finished when sfops last asked
    key = "rollback.validation.emu"
    store.set_state(key, {**store.get_state(key), "status": "Pending"})
    outcome = deployer.quick(package, fallback=False, reason="INC-9")
    assert outcome.action == "quick" and not outcome.fell_back and outcome.validation_id == validation.id
    assert outcome.status == "Succeeded"
    assert store.get_state(key)["status"] == "Succeeded"
    assert_org_at_a(emu, at_b["client"])


def hotfix_in_production(client: MetadataClient) -> None:
    hotfix = (
        "public with sharing class KillSwitchService {\n    public static Boolean isEnabled() { return false; }\n"
        "    public static String reason() { return 'hotfix'; }\n}\n"
    )
    meta = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">'
        "<apiVersion>62.0</apiVersion><status>Active</status></ApexClass>\n"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("package.xml", package_xml({"ApexClass": ["KillSwitchService"]}, "62.0"))
        zf.writestr("classes/KillSwitchService.cls", hotfix)
        zf.writestr("classes/KillSwitchService.cls-meta.xml", meta)
    assert client.poll(client.deploy(buf.getvalue(), DeployOptions(test_level="NoTestRun")), timeout=60).success


def test_drift_blocks_a_production_deploy_before_anything_is_sent(emu: Any, at_b: dict[str, Any]) -> None:
    from sfops.rollback.deploy import DriftError

    client, package, store = at_b["client"], at_b["package"], at_b["store"]
    hotfix_in_production(client)
    prod = RollbackDeployer(client, store, "emu", actor="rm", production=True)
    with pytest.raises(DriftError, match=r"KillSwitchService\.cls in the org differs"):
        prod.deploy(package, reason="INC-1")
    with pytest.raises(UsageError, match="not skipped"):
        prod.deploy(package, skip_drift=True, reason="INC-1")
    assert_org_at_b(emu, client)  # nothing was deployed
    refused = [r for r in store.audit_history() if r.outcome == "Refused"]
    assert refused and refused[0].action == "rollback.deploy"
    with pytest.raises(UsageError, match="--overwrite-drift needs --reason"):
        prod.deploy(package, overwrite_drift=True)
    outcome = prod.deploy(package, overwrite_drift=True, reason="INC-1: the hot-fix is part of the incident")
    assert outcome.status == "Succeeded" and any("drift overwritten on purpose" in n for n in outcome.notes)
    assert_org_at_a(emu, client)


def test_the_freeze_guard_lives_in_the_library(emu: Any, at_b: dict[str, Any]) -> None:
    from sfops.rollback.guard import ChangeFreezeError

    freeze = {"freeze": [{"start": "2000-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z", "reason": "always"}]}
    guarded = RollbackDeployer(at_b["client"], at_b["store"], "emu", actor="rm", freeze=freeze)
    with pytest.raises(ChangeFreezeError):
        guarded.deploy(at_b["package"])
    with pytest.raises(ChangeFreezeError):
        guarded.quick(at_b["package"])
    assert [r.outcome for r in at_b["store"].audit_history()] == ["Refused", "Refused"]
    assert_org_at_b(emu, at_b["client"])


def test_a_missing_or_edited_phase_folder_is_refused(make_repo: Any, tmp_path: Path) -> None:
    import shutil

    p = "force-app/main/default/classes"
    meta = '<?xml version="1.0"?><ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"/>'
    repo = make_repo(
        [
            {
                f"{p}/Svc.cls": "public class Svc { public static Boolean on() { return true; } }",
                f"{p}/Svc.cls-meta.xml": meta,
                f"{p}/Ctl.cls": "public class Ctl { public static Boolean x() { return Svc.on(); } }",
                f"{p}/Ctl.cls-meta.xml": meta,
            },
            {
                f"{p}/Svc.cls": "public class Svc { public static Boolean on() { return true; } "
                "public static String why() { return ''; } }",
                f"{p}/Audit.cls": "public class Audit { public static String d() { return Svc.why(); } }",
                f"{p}/Audit.cls-meta.xml": meta,
                f"{p}/Ctl.cls": "public class Ctl { public static String x() { return Audit.d(); } }",
            },
        ]
    )
    out = tmp_path / "pkg"
    assert plan_and_package(repo, "c2", "c1", out).phases == 2
    load_package(out)
    post = out / "phase-1" / "destructiveChangesPost.xml"
    post.write_text(post.read_text().replace("<members>Audit</members>", ""))
    with pytest.raises(UsageError, match=r"phase-1/destructiveChangesPost\.xml does not match plan\.json"):
        load_package(out)
    plan_and_package(repo, "c2", "c1", out)
    shutil.rmtree(out / "phase-2")
    with pytest.raises(UsageError, match=r"phase-2/package\.xml is missing"):
        load_package(out)


def test_the_emulator_proves_the_second_phase_and_the_cli_deploys_both(
    emu: Any, make_repo: Any, tmp_path: Path, rollback_cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Svc's revert removes why(), which Audit (deleted) still calls, and B's Ctl still calls Audit: in one
    deploy, Audit PRE is refused (Ctl uses it) and Audit POST is refused (Audit no longer compiles)."""
    monkeypatch.setattr(
        MetadataClient, "poll", functools.partialmethod(MetadataClient.poll, interval=0.02, max_interval=0.05)
    )
    p = "force-app/main/default/classes"
    meta = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">'
        "<apiVersion>62.0</apiVersion><status>Active</status></ApexClass>\n"
    )

    def cls(name: str, body: str) -> dict[str, str]:
        return {f"{p}/{name}.cls": body, f"{p}/{name}.cls-meta.xml": meta}

    repo = make_repo(
        [
            {
                **cls("Svc", "public class Svc {\n    public static Boolean on() { return true; }\n}\n"),
                **cls("Ctl", "public class Ctl {\n    public static Boolean x() { return Svc.on(); }\n}\n"),
            },
            {
                **cls(
                    "Svc",
                    "public class Svc {\n    public static Boolean on() { return true; }\n"
                    "    public static String why() { return 'b'; }\n}\n",
                ),
                **cls("Audit", "public class Audit {\n    public static String d() { return Svc.why(); }\n}\n"),
                **cls("Ctl", "public class Ctl {\n    public static String x() { return Audit.d(); }\n}\n"),
            },
        ]
    )
    client = MetadataClient(connect(emu.org_config(alias="emu"), env={}), sleep=lambda _s: None)
    assert (
        client.poll(client.deploy(release_zip(repo, "c2"), DeployOptions(test_level="NoTestRun")), timeout=60).status
        == "Succeeded"
    )
    out = tmp_path / "pkg"
    assert plan_and_package(repo, "c2", "c1", out).phases == 2

    def one_deploy(step: str) -> list[str]:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("package.xml", package_xml({"ApexClass": ["Ctl", "Svc"]}, "62.0"))
            for folder in ("phase-1", "phase-2"):
                for f in (out / folder / "classes").glob("*"):
                    zf.writestr(f"classes/{f.name}", f.read_bytes())
            zf.writestr(f"destructiveChanges{step}.xml", package_xml({"ApexClass": ["Audit"]}, "62.0"))
        result = client.poll(client.deploy(buf.getvalue(), DeployOptions(test_level="NoTestRun")), timeout=60)
        assert result.status == "Failed"
        return [f.problem or "" for f in result.component_failures]

    assert any("referenced elsewhere" in p and "Ctl" in p for p in one_deploy("Pre"))
    assert any("Dependent class is invalid" in p and "why()" in p for p in one_deploy("Post"))
    assert {"Audit", "Svc", "Ctl"} <= classes(client)  # both attempts changed nothing

    result = run_cli(
        ["rollback", "deploy", "--package", str(out), "-o", "emu", "-l", "NoTestRun", "--json"], rollback_cli_env
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    body = result.json
    assert body["result"]["status"] == "Succeeded" and "phase 2 of 2" in body["result"]["notes"]
    names = classes(client)
    assert {"Svc", "Ctl"} <= names and "Audit" not in names


def test_cli_quick_on_production_asks_before_a_fallback_full_deploy(
    emu: Any, at_b: dict[str, Any], rollback_cli_env: dict[str, str]
) -> None:
    result = run_cli(["rollback", "quick", "--package", str(at_b["dir"]), "-o", "prod"], rollback_cli_env)
    assert result.exit_code == ExitCode.FAILED
    said = result.stdout + result.stderr
    assert "is NOT possible (no stored validation" in said and "FULL deploy with tests instead?" in said
    assert_org_at_b(emu, at_b["client"])
