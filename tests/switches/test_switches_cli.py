"""`sfops switch ...` and `sfops breaker ...` run in-process against the emulator, as the demo uses them."""

from __future__ import annotations

import pytest
from cli_support import CliResult, run_cli

pytestmark = pytest.mark.integration


def run(env: dict[str, str], *argv: str) -> CliResult:
    return run_cli(list(argv), env)


def test_list_off_history_as_the_demo_runs_them(cli_env) -> None:
    result = run(cli_env, "switch", "list")
    assert result.exit_code == 0, result.stderr
    for name, label in (("New_Pricing__c", "New Pricing"), ("External_Sync__c", "External Sync")):
        assert name in result.stdout and label in result.stdout
    result = run(cli_env, "switch", "off", "New_Pricing__c", "--reason", "INC-1 wrong totals", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "Switched New_Pricing__c off at org (audit #1)" in result.stdout
    result = run(cli_env, "switch", "history")
    assert result.exit_code == 0
    assert "alice" in result.stdout
    assert "INC-1 wrong totals" in result.stdout
    assert "on -> off" in result.stdout
    result = run(cli_env, "switch", "list", "--json")
    body = result.json
    assert body["status"] == 0 and len(body["result"]) == 5
    pricing = next(r for r in body["result"] if r["name"] == "New_Pricing__c")
    assert pricing["org_value"] is False and pricing["last_changed_by"] == "alice"
    assert pricing["last_reason"] == "INC-1 wrong totals"


def test_production_org_needs_confirmation(cli_env) -> None:
    result = run(cli_env, "switch", "off", "External_Sync__c", "-o", "prod", "--reason", "r")
    assert result.exit_code == 1 and "production org" in result.stderr and "--yes" in result.stderr
    result = run(cli_env, "switch", "show", "External_Sync__c", "-o", "prod", "--json")
    assert result.json["result"]["resolutions"][0]["value"] is True  # nothing was written
    result = run(cli_env, "switch", "off", "External_Sync__c", "-o", "prod", "--reason", "r", "--yes")
    assert result.exit_code == 0, result.stderr
    # a dry run never asks
    result = run(cli_env, "switch", "on", "External_Sync__c", "-o", "prod", "--dry-run")
    assert result.exit_code == 0 and "Dry run: 1 change(s) planned at org" in result.stdout


def test_dry_run_set_and_json_envelope(cli_env) -> None:
    result = run(cli_env, "switch", "set", "New_Pricing__c=off", "Outbound_Email__c=off", "--dry-run", "--json")
    assert result.exit_code == 0, result.stderr
    data = result.json["result"]
    assert data["dry_run"] is True and [(c["switch"], c["before"], c["after"]) for c in data["changes"]] == [
        ("New_Pricing__c", True, False),
        ("Outbound_Email__c", True, False),
    ]
    result = run(cli_env, "switch", "history", "--json")
    assert result.json["result"] == []


def test_scope_warning_for_and_pending(cli_env) -> None:
    result = run(
        cli_env,
        "switch",
        "off",
        "Auto_Escalation__c",
        "--scope",
        "user:oncall@sfops.demo",
        "--reason",
        "test",
        "--for",
        "1h",
    )
    assert result.exit_code == 0, result.stderr
    assert "pins the other 4 switches" in result.stdout and "Automatic restore due" in result.stdout
    result = run(cli_env, "switch", "pending")
    assert "user:oncall@sfops.demo" in result.stdout and "Auto_Escalation__c=on" in result.stdout
    result = run(cli_env, "switch", "restore-due")
    assert result.exit_code == 0 and "0 due restore(s) handled; 1 still pending" in result.stdout
    result = run(cli_env, "switch", "show", "--user", "oncall@sfops.demo")
    assert result.exit_code == 0 and "pins all 5 switches" in result.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["switch", "off", "Nope__c", "--reason", "r"], "Valid switches: Async_Recalculation__c"),
        (["switch", "off", "New_Pricing__c", "--scope", "group:x", "--reason", "r"], "Bad scope"),
        (["switch", "off", "New_Pricing__c", "--scope", "user:ghost@sfops.demo", "--reason", "r"], "No user"),
        (["switch", "off", "New_Pricing__c"], "--reason"),
        (["switch", "off", "New_Pricing__c", "--reason", "r", "--for", "soon"], "Bad duration"),
        (["switch", "set", "New_Pricing__c", "--reason", "r"], "NAME=on"),
        (["switch", "show", "--user", "a", "--profile", "b"], "not both"),
        (["breaker", "show", "Nope"], "Unknown circuit breaker"),
    ],
)
def test_usage_errors_exit_2_with_a_clear_message(cli_env, argv: list[str], message: str) -> None:
    result = run(cli_env, *argv)
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.stderr
