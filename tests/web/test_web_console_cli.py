"""`sfops console --listen` as a process, and the one-line errors of the new options."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from emulator_cli_support import emulator_cli_env
from paths import REPO

from sfops.cli.app import invoke

pytestmark = pytest.mark.integration


def test_console_serves_until_interrupted(emulator: Any, tmp_path: Path) -> None:
    env = emulator_cli_env(emulator, tmp_path, actor="alice")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sfops", "console", "--listen", "127.0.0.1:0"],
        cwd=REPO,
        env={**os.environ, **env},
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        # the address line, after any warnings the process prints first (stderr is also where they go)
        lines: list[str] = []
        found = None
        while proc.stderr and found is None and len(lines) < 20:
            lines.append(proc.stderr.readline())
            found = re.search(r"http://127\.0\.0\.1:(\d+)/", lines[-1])
            if not lines[-1]:
                break
        assert found, "".join(lines)
        base = f"http://127.0.0.1:{found.group(1)}"
        page = requests.get(base + "/org/emu", timeout=30)
        assert page.status_code == 200 and "Kill switches" in page.text
        assert requests.post(base + "/login", data={"token": "x"}, timeout=30).status_code == 403  # read-only
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Console stopped." in out and "Traceback" not in err


def test_option_errors_are_one_line(emulator: Any, tmp_path: Path) -> None:
    env = emulator_cli_env(emulator, tmp_path)
    code, _, err = invoke(["agent", "run", "--once", "--listen", "127.0.0.1:0"], env)
    assert code == 2 and "--listen and --grace apply to a running agent" in err
    code, _, err = invoke(["console", "--listen", "localhost:http"], env)
    assert code == 2 and "expected HOST:PORT" in err and "Traceback" not in err
    code, _, err = invoke(["agent", "run", "--grace", "-1"], env)
    assert code == 2 and "-1 is not in the range" in err
    config = Path(env["SFOPS_CONFIG"])
    config.write_text(config.read_text(encoding="utf-8") + "\n[console]\nwrite = true\n", encoding="utf-8")
    code, _, err = invoke(["console", "--listen", "127.0.0.1:0"], env)
    assert code == 2 and "[console]" in err and "unknown key(s) write" in err
