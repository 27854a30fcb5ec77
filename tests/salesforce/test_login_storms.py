"""One login attempt per command after a failed or timed-out login (issue 15 item 8), against the
emulator over HTTPS; the emulator's request journal counts the logins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from emulator_cli_support import emulator_cli_env
from fault_proxy import assert_one_error_line

from sfops.cli.app import invoke
from sfops.errors import AuthError, SfopsError
from sfops.salesforce import connect

pytestmark = pytest.mark.integration


def logins(emu: Any) -> list[dict[str, Any]]:
    return [e for e in emu.requests_journal() if e["path"].startswith("/services/Soap/u/")]


def test_a_rejected_password_is_tried_once_however_many_requests_follow(emu: Any) -> None:
    s = emu.settings
    org = connect(
        emu.org_config(alias="emu", secrets={"password": "rotated!", "client_secret": s.client_secret}), env={}
    )
    emu.control("DELETE", "requests")
    errors = []
    for _ in range(5):
        with pytest.raises(AuthError) as caught:
            org.query("SELECT Id FROM Organization")
        errors.append(caught.value.message)
    assert len(logins(emu)) == 1
    assert "not tried again" in errors[-1] and "not tried again" not in errors[0]


def test_a_login_that_times_out_is_not_retried_by_every_later_request(emu: Any) -> None:
    org = connect(emu.org_config(alias="emu", max_retries=1), env={})
    emu.control("DELETE", "requests")
    emu.faults(drop_connections={"count": 100, "path": "/services/Soap/u/*"})  # the login never answers
    for _ in range(4):
        with pytest.raises(SfopsError):
            org.query("SELECT Id FROM Organization")
    assert len(logins(emu)) == 2  # the first login and its one retry, then never again in this run


def test_cli_with_a_rotated_password_logs_in_once_and_says_why(emu: Any, tmp_path: Path) -> None:
    env = {**emulator_cli_env(emu, tmp_path), "SFOPS_ORG_EMU_PASSWORD": "rotated!"}
    emu.control("DELETE", "requests")
    code, out, err = invoke(["switch", "list"], env)
    line = assert_one_error_line(code, out, err)
    assert "AuthError" in line and "rotated!" not in out + err
    assert len(logins(emu)) == 1
