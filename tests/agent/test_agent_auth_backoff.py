"""The agent backs off per org after a failed login and says so (issue 15 item 8)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from clock_support import Clock
from emulator_cli_support import emulator_cli_env

from sfops.agent import Agent, load_agent_config
from sfops.config import load_settings
from sfops.salesforce import connect
from sfops.store import Store

pytestmark = pytest.mark.integration


def logins(emu: Any) -> int:
    return sum(1 for e in emu.requests_journal() if e["path"].startswith("/services/Soap/u/"))


def test_a_rotated_password_backs_the_org_off_and_a_good_login_clears_it(emu: Any, tmp_path: Path) -> None:
    env = {**emulator_cli_env(emu, tmp_path, max_retries=1), "SFOPS_ORG_EMU_PASSWORD": "rotated!"}
    settings = load_settings(env)
    store = Store.open(env["SFOPS_STORE_URL"])
    clock = Clock(dt.datetime.now(dt.UTC))
    password = {"value": "rotated!"}

    def get_org(alias: str) -> Any:  # a new connection per cron run, like `agent run --once`
        current = {**env, "SFOPS_ORG_EMU_PASSWORD": password["value"]}
        return connect(load_settings(current).org(alias), env=current)

    agent = Agent(load_agent_config(settings), store, settings, get_org=get_org, actor="agent", clock=clock)
    emu.control("DELETE", "requests")
    first = agent.run_once(force=True)
    assert first[0].outcome == "failed" and "INVALID_LOGIN" in (first[0].error or "")
    assert {a.outcome for a in first[1:]} == {"auth-backoff"}
    assert "login failed 1 time(s)" in (first[1].summary or "")
    assert logins(emu) == 1
    clock.advance(minutes=4)
    assert {a.outcome for a in agent.run_once(force=True)} == {"auth-backoff"} and logins(emu) == 1
    planned = agent.plan()
    assert all(p.backoff and not p.due for p in planned)
    clock.advance(minutes=2)  # 5 minutes are up: one more try, then 10 minutes
    second = agent.run_once(force=True)
    assert second[0].outcome == "failed" and logins(emu) == 2
    assert "login failed 2 time(s)" in (second[1].summary or "")
    clock.advance(minutes=11)
    password["value"] = emu.settings.admin_password  # the operator updated the secret
    third = agent.run_once(force=True)
    assert {a.outcome for a in third} <= {"ok", "partial"}, third
    assert all(p.backoff is None for p in agent.plan())
