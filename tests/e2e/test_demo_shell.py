"""`make demo-shell`: restarts the emulator on the demo's state and points sfops at it."""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from paths import REPO

pytestmark = pytest.mark.e2e
SFOPS = [sys.executable, "-m", "sfops"]


def _load_demo_shell(work: Path):
    spec = importlib.util.spec_from_file_location("demo_shell", REPO / "scripts" / "demo_shell.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.WORK = work
    return module


def test_without_demo_state_it_says_run_make_demo_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _load_demo_shell(tmp_path / "demo").main() == 1
    assert "run `make demo` first" in capsys.readouterr().err


def test_it_restarts_the_demo_org_and_prints_how_to_point_sfops_at_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SFOPS_")}
    env["SFOPS_HOME"] = str(work / "home")
    started = subprocess.run(
        [
            *SFOPS,
            "emulator",
            "start",
            "--background",
            "--data",
            str(work / "emulator"),
            "--seed",
            "demo",
            "--port",
            "0",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    info = json.loads(started.stdout)["result"]
    (work / "sfops.toml").write_text(info["sfops_toml_file"] + "\n", encoding="utf-8")
    subprocess.run(
        [*SFOPS, "emulator", "stop", "--data", str(work / "emulator")],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    monkeypatch.setattr(sys, "stdin", open(os.devnull))  # no terminal: it prints the commands  # noqa: SIM115
    shell = _load_demo_shell(work)
    try:
        assert shell.main() == 0
        out = capsys.readouterr().out
        exports = dict(item.split("=", 1) for item in shlex.split(out.split("export ", 1)[1].splitlines()[0]))
        assert exports["SFOPS_CONFIG"] == str(work / "sfops.toml")
        assert Path(exports["PATH"].split(os.pathsep)[0]) == Path(sys.executable).parent
        check = subprocess.run(
            [*SFOPS, "org", "check", "--json"],
            env={**env, **exports},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        assert json.loads(check.stdout)["result"]["instance_url"] in out
    finally:
        subprocess.run(
            [*SFOPS, "emulator", "stop", "--data", str(work / "emulator")],
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )
