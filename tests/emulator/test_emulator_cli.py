"""`sfops emulator start --background / status / faults / stop`, run in-process like a user would."""

from __future__ import annotations

import dataclasses
import json
import socket
import subprocess
import sys

import pytest
import requests
from cli_support import CliResult, run_cli

pytestmark = pytest.mark.e2e


def _run(argv: list[str], env: dict[str, str]) -> CliResult:
    return run_cli(argv, env)


def test_background_lifecycle(tmp_path) -> None:
    env = {
        "HOME": str(tmp_path),
        "SFOPS_HOME": str(tmp_path / "home"),
        "PATH": "/usr/bin:/bin",
        "SFOPS_EMULATOR_ADMIN_PASSWORD": "custom-pass-123",
    }
    data = str(tmp_path / "emu")
    result = _run(["emulator", "start", "--background", "--port", "0", "--data", data, "--memory", "--json"], env)
    assert result.exit_code == 0, result.stderr
    try:
        started = result.json["result"]
        url, ca = started["instance_url"], started["ca_cert"]
        assert url.startswith("https://localhost:") and ca.endswith("ca.pem")
        assert 'auth = "password"' in started["sfops_toml"] and f'ca_bundle = "{ca}"' in started["sfops_toml"]
        # the custom secret is referenced, never printed
        assert started["env"]["SFOPS_ORG_EMULATOR_PASSWORD"] == "$SFOPS_EMULATOR_ADMIN_PASSWORD"
        assert "custom-pass-123" not in result.stdout
        s = requests.Session()
        s.trust_env = False
        token = s.post(
            f"{url}/services/oauth2/token",
            verify=ca,
            timeout=10,
            data={
                "grant_type": "password",
                "client_id": "sfops-emulator-demo",
                "client_secret": "sfops-demo-client-secret",
                "username": "admin@sfops.demo",
                "password": "custom-pass-123",
            },
        )
        assert token.status_code == 200
        result = _run(["emulator", "status", "--data", data, "--json"], env)
        assert result.exit_code == 0 and result.json["result"]["running"] is True
        result = _run(["emulator", "faults", "--data", data, "--set", '{"fail": {"count": 1}}', "--json"], env)
        assert result.exit_code == 0 and result.json["result"]["fail"][0]["count"] == 1
        # a misspelt knob is refused in one line, not ignored
        result = _run(["emulator", "faults", "--data", data, "--set", '{"latency_ms": 5}'], env)
        assert result.exit_code == 1
        assert "unknown fault knob(s): latency_ms" in result.stderr
        assert "Traceback" not in result.stderr
        result = _run(["emulator", "start", "--background", "--port", "0", "--data", data], env)
        assert result.exit_code == 2 and "already running" in result.stderr
        result = _run(["emulator", "reset", "--data", data, "--json"], env)
        assert result.exit_code == 0 and result.json["result"]["status"] == "reset"
        result = _run(["emulator", "faults", "--data", data, "--json"], env)
        assert result.json["result"]["fail"] == []  # reset cleared the fault
    finally:
        result = _run(["emulator", "stop", "--data", data], env)
    assert result.exit_code == 0, result.stderr
    result = _run(["emulator", "status", "--data", data, "--json"], env)
    assert result.json["result"]["running"] is False
    result = _run(["emulator", "stop", "--data", data], env)
    assert result.exit_code == 2 and "No running emulator" in result.stderr
    for args in (["faults"], ["reset"]):
        result = _run(["emulator", *args, "--data", data], env)
        assert result.exit_code == 2 and "No running emulator" in result.stderr, result.stderr


def test_faults_spec_must_be_a_json_object(tmp_path) -> None:
    result = _run(
        ["emulator", "faults", "--data", str(tmp_path), "--set", "[1]", "--expire-sessions"], {"HOME": str(tmp_path)}
    )
    assert result.exit_code == 2 and "--set must be a JSON object" in result.stderr and "Traceback" not in result.stderr


def test_a_dead_emulator_process_is_not_running(tmp_path) -> None:
    from sfops.emulator import runner

    data = tmp_path / "emu"
    data.mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    gone = runner.Instance(
        url="https://localhost:9",
        ca_cert=None,
        pid=int(dead.stdout),
        data_dir=str(data),
        memory=True,
        org_id="00D000000000001AAA",
        admin_username="a@b.c",
        client_id="x",
    )
    (data / runner.STATE_FILE).write_text(json.dumps(dataclasses.asdict(gone)))
    result = _run(["emulator", "reset", "--data", str(data)], {"HOME": str(tmp_path)})
    assert result.exit_code == 2 and "No running emulator" in result.stderr and "Cannot reach" not in result.stderr
    assert not (data / runner.STATE_FILE).exists()  # the stale record is removed


def test_bad_port_is_a_usage_error(tmp_path) -> None:
    result = _run(["emulator", "start", "--port", "70000", "--data", str(tmp_path)], {"HOME": str(tmp_path)})
    assert result.exit_code == 2 and "--port" in result.stderr


def test_background_start_on_a_busy_port_says_why(tmp_path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _run(
            ["emulator", "start", "--background", "--port", str(port), "--data", str(tmp_path)],
            {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )
    assert result.exit_code == 1
    assert f"Cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
