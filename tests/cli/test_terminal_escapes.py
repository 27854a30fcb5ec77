"""No terminal control characters from org data or echoed arguments reach the terminal (issue 15 item 15)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from emulator_cli_support import emulator_cli_env

from sfops.cli.app import invoke

ESCAPES = "\x1b[2J\x1b]0;pwned\x07\x9b31m\r\x08"


def test_printable_keeps_text_and_replaces_controls() -> None:
    from sfops.cli.output import printable

    assert printable("ERP down\tline 2\nline 3") == "ERP down\tline 2\nline 3"
    assert printable(f"a{ESCAPES}b") == "a\ufffd[2J\ufffd]0;pwned\ufffd\ufffd31m\ufffd\ufffdb"


@pytest.mark.integration
def test_a_breakers_last_error_with_escapes_is_shown_without_them(emu: Any, org: Any, tmp_path: Path) -> None:
    org.create(
        "Circuit_Breaker__c",
        {
            "Name": "ERP_Orders",
            "State__c": "Open",
            "Max_Failures__c": 3,
            "Last_Error__c": f"HTTP 500{ESCAPES} from ERP",
        },
    )
    env = emulator_cli_env(emu, tmp_path)
    for args in (["breaker", "show", "ERP_Orders"], ["breaker", "list"], ["breaker", "list", "--csv"]):
        code, out, err = invoke(args, env)
        assert code == 0, err
        shown = (out + err).replace("\r\n", "\n")  # CSV rows end in CRLF by definition
        assert not any(c in shown for c in "\x1b\x07\x9b\r\x08"), (args, out)
    code, out, _ = invoke(["--json", "breaker", "show", "ERP_Orders"], env)
    assert json.loads(out)["result"]["last_error"] == f"HTTP 500{ESCAPES} from ERP"  # JSON keeps the data, escaped
    assert "\x1b" not in out


def test_an_echoed_argument_with_escapes_is_shown_without_them(tmp_path: Path) -> None:
    import subprocess
    import sys

    # a subprocess: click caches the help option of a command that printed a usage error, which would
    # change what the CLI reference generator sees later in this process
    done = subprocess.run(
        [sys.executable, "-m", "sfops", "switch", "list", f"--bogus{ESCAPES}"],
        cwd=tmp_path,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        timeout=60,
    )
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 2 and "--bogus" in err
    assert not any(c in out + err for c in "\x1b\x07\x9b\r\x08")
