"""Everyday incident output at a fixed terminal width: the notification outbox names incidents by number,
a P1 nobody was paged for says so, and switch list shows each switch's own last change."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_support import run_cli
from emulator_cli_support import emulator_cli_env
from incidents_support import Receiver

from sfops.emulator.testing import RunningEmulator

pytestmark = pytest.mark.integration


@pytest.fixture
def hook_env(emu: RunningEmulator, tmp_path: Path, receiver: Receiver) -> dict[str, str]:
    env = emulator_cli_env(
        emu,
        tmp_path,
        extra_toml="""
[alerts.routes]
P1 = ["hook", "slack"]
[alerts.channels.hook]
type = "webhook"
[alerts.channels.slack]
type = "slack"
""",
    )
    return {**env, "SFOPS_ALERT_HOOK_URL": f"{receiver.url}/hook", "SFOPS_ALERT_SLACK_URL": f"{receiver.url}/slack"}


@pytest.mark.parametrize("width", ["80", "120"])
def test_notifications_show_the_incident_number_and_fit_the_terminal(hook_env: dict[str, str], width: str) -> None:
    raised = run_cli(["incident", "raise", "-s", "P1", "-m", "Quotes fail", "--json"], hook_env).json["result"]
    ref, record_id = raised["incident"]["name"], raised["incident"]["id"]
    env = {**hook_env, "COLUMNS": width}
    result = run_cli(["incident", "notifications"], env)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= int(width)
    assert sum(ref in line for line in lines) == 2 and record_id not in result.stdout
    for channel in ("hook", "slack"):
        assert any(channel in line and "sent" in line and ref in line for line in lines)
    assert run_cli(["incident", "notifications", "--incident", ref, "--json"], env).json["result"][0]["incident"] == ref
    assert len(run_cli(["incident", "notifications", "--incident", record_id, "--json"], env).json["result"]) == 2


def test_a_p1_nobody_was_paged_for_says_so(emu: RunningEmulator, tmp_path: Path) -> None:
    env = emulator_cli_env(emu, tmp_path)  # no [alerts] at all
    result = run_cli(["incident", "raise", "-s", "P1", "-m", "Quotes fail"], env)
    assert result.exit_code == 0
    assert "Warning: Nobody was paged: no alert channel is routed for P1" in result.stdout
    body = run_cli(["incident", "raise", "-s", "P1", "-m", "Orders fail", "--json"], env).json
    assert any(w.startswith("Nobody was paged") for w in body["warnings"])
    quiet = run_cli(["incident", "raise", "-s", "P3", "-m", "Slow report"], env)
    assert "Nobody was paged" not in quiet.stdout  # a P3 pages nobody by design


def test_a_p1_that_reached_a_channel_warns_nothing(hook_env: dict[str, str]) -> None:
    result = run_cli(["incident", "raise", "-s", "P1", "-m", "Quotes fail"], hook_env)
    assert "Nobody was paged" not in result.stdout and "Warning" not in result.stdout


@pytest.mark.parametrize("width", ["80", "120"])
def test_switch_list_shows_each_switchs_own_last_change(emu: RunningEmulator, tmp_path: Path, width: str) -> None:
    env = {**emulator_cli_env(emu, tmp_path, actor="carol"), "COLUMNS": width}
    flipped = run_cli(["switch", "off", "New_Pricing__c", "--reason", "P1", "--yes"], env)
    assert flipped.exit_code == 0, flipped.stderr
    result = run_cli(["switch", "list"], env)
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= int(width)
    pricing = next(line for line in lines if "New_Pricing__c" in line)
    assert re.search(r"│ \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC │", pricing)  # a whole timestamp, on one line
    others = [line for line in lines if "__c" in line and "New_Pricing__c" not in line]
    assert others and all(" UTC" not in line for line in others)  # never flipped: no borrowed timestamp
    rows = {r["name"]: r for r in run_cli(["switch", "list", "--json"], env).json["result"]}
    assert rows["New_Pricing__c"]["last_changed_by"] == "carol"
    assert rows["External_Sync__c"]["last_changed_at"] is None


def test_a_missing_channel_secret_is_a_configuration_error_not_retried(
    emu: RunningEmulator, tmp_path: Path, receiver: Receiver
) -> None:
    env = emulator_cli_env(
        emu,
        tmp_path,
        extra_toml="""
[alerts.routes]
P1 = ["hook", "slack"]
[alerts.channels.hook]
type = "webhook"
[alerts.channels.slack]
type = "slack"
""",
    )
    env["SFOPS_ALERT_SLACK_URL"] = f"{receiver.url}/slack"  # SFOPS_ALERT_HOOK_URL is missing
    result = run_cli(["incident", "raise", "-s", "P1", "-m", "Quotes fail", "--json"], env)
    assert result.exit_code == 0
    hook = next(n for n in result.json["result"]["notifications"] if n["channel"] == "hook")
    assert hook["status"] == "failed" and hook["attempts"] == 1
    assert hook["error"].startswith("configuration error: ") and "SFOPS_ALERT_HOOK_URL" in hook["error"]
    assert any("Fix the configuration" in w for w in result.json["warnings"])
    retried = run_cli(["incident", "notify-retry", "--json"], env)
    assert retried.exit_code == 0
    rows = run_cli(["incident", "notifications", "--json"], env).json["result"]
    hook_row = next(r for r in rows if r["channel"] == "hook")
    assert hook_row["status"] == "failed" and hook_row["attempts"] == 1  # not retried as if it were transient
    assert next(r for r in rows if r["channel"] == "slack")["status"] == "sent"
