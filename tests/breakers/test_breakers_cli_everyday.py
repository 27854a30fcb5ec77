"""`sfops breaker create` so the docs can be followed on a fresh org, labels instead of API names, a reset that
changes nothing says so; and --incident on a flip must name an incident that exists."""

from __future__ import annotations

import pytest
from cli_support import run_cli
from test_breakers_emulator import record

from sfops.breakers import create_breaker, set_breaker

pytestmark = pytest.mark.integration


def test_breaker_create_then_the_documented_commands_work(emu, org, store, cli_env) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(
        [
            "breaker",
            "create",
            "ERP_Orders",
            "--max-failures",
            "3",
            "--cooldown",
            "5",
            "--kill-switch",
            "External_Sync__c",
            "--reason",
            "ERP integration",
            "--yes",
        ],
        cli_env,
    )
    assert result.exit_code == 0, result.stderr
    assert "Created breaker ERP_Orders (closed" in result.stdout
    assert "Max Failures" in result.stdout and "Max_Failures__c" not in result.stdout  # labels
    (rec,) = org.query(
        "SELECT State__c, Max_Failures__c, Cooldown_Minutes__c, Linked_Kill_Switch__c "
        "FROM Circuit_Breaker__c WHERE Name = 'ERP_Orders'"
    )
    assert (rec["State__c"], rec["Max_Failures__c"], rec["Cooldown_Minutes__c"], rec["Linked_Kill_Switch__c"]) == (
        "Closed",
        3,
        5,
        "External_Sync__c",
    )
    again = run_cli(
        [
            "breaker",
            "create",
            "ERP_Orders",
            "--max-failures",
            "3",
            "--cooldown",
            "5",
            "--kill-switch",
            "External_Sync__c",
        ],
        cli_env,
    )
    assert again.exit_code == 0 and "already exists with these settings; nothing changed" in again.stdout
    other = run_cli(["breaker", "create", "ERP_Orders", "--max-failures", "9"], cli_env)
    assert other.exit_code == 2 and "already exists with other settings" in other.stderr
    assert org.query("SELECT Max_Failures__c FROM Circuit_Breaker__c")[0]["Max_Failures__c"] == 3
    for argv in (
        ["breaker", "open", "ERP_Orders", "--yes"],
        ["breaker", "close", "ERP_Orders"],
        ["breaker", "list"],
        ["breaker", "show", "ERP_Orders"],
    ):
        assert run_cli(argv, cli_env).exit_code == 0, argv
    opened = run_cli(["breaker", "open", "ERP_Orders", "--yes"], cli_env)
    assert "State" in opened.stdout and "State__c" not in opened.stdout and "Opened At" in opened.stdout
    unknown = run_cli(["breaker", "create", "X", "--kill-switch", "Nope__c"], cli_env)
    assert unknown.exit_code == 2 and "no such kill switch" in unknown.stderr
    audits = [a.action for a in store.audit_history(alias="emu", action_prefix="breaker.")]
    assert audits.count("breaker.create") == 0  # the CLI's store is cli_env's, not this one
    assert create_breaker(org, store, "Slack_Alerts", actor="t", dry_run=True).dry_run


def test_reset_of_a_closed_clean_breaker_says_nothing_changed(emu, org, store, cli_env) -> None:  # type: ignore[no-untyped-def]
    create_breaker(org, store, "ERP_Orders", actor="t")
    result = run_cli(["breaker", "reset", "ERP_Orders"], cli_env)
    assert result.exit_code == 0 and "Nothing changed: breaker ERP_Orders is already closed" in result.stdout
    change = set_breaker(org, store, "ERP_Orders", "reset", actor="t")
    assert change.audit_id is None and change.changed_fields == {}
    assert store.audit_history(alias="emu", action_prefix="breaker.reset") == []


@pytest.mark.parametrize(
    "argv",
    [
        ["switch", "off", "New_Pricing__c", "--incident", "INC-99999", "--reason", "r", "--yes"],
        ["breaker", "open", "ERP_Orders", "--incident", "INC-99999", "--yes"],
    ],
)
def test_a_change_filed_under_an_unknown_incident_is_refused(emu, org, store, cli_env, argv) -> None:  # type: ignore[no-untyped-def]
    create_breaker(org, store, "ERP_Orders", actor="t")
    result = run_cli(argv, cli_env)
    assert result.exit_code == 2 and "No incident 'INC-99999'" in result.stderr
    assert (
        run_cli(["switch", "show", "New_Pricing__c", "--json"], cli_env).json["result"]["resolutions"][0]["value"]
        is True
    )
    assert record(org)["State__c"] == "Closed"
    ref = run_cli(["incident", "raise", "-s", "P2", "-m", "x", "--json"], cli_env).json["result"]["incident"]["name"]
    ok = run_cli([a if a != "INC-99999" else ref for a in argv], cli_env)
    assert ok.exit_code == 0, ok.stderr


def test_inputs_are_validated_where_they_are_taken(cli_env) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(["incident", "list", "--category", "Governor Limitz"], cli_env)
    assert result.exit_code == 2 and "Governor Limit" in result.stderr
    result = run_cli(["agent", "history", "--job", "log-pull"], cli_env)
    assert result.exit_code == 2 and "Unknown job 'log-pull'" in result.stderr and "logs-pull" in result.stderr


def test_the_pinning_warning_appears_only_when_a_record_will_be_created(emu, org, store) -> None:  # type: ignore[no-untyped-def]
    from sfops.switches import flip

    # External_Sync__c is already on for the profile (inherited from the org): nothing to write, nothing pinned
    same = flip(
        org, store, {"External_Sync__c": True}, scope="profile:Standard User", actor="a", reason="r", dry_run=True
    )
    assert not same.created_record and same.warnings == [] and same.pinned == {}
    done = flip(org, store, {"External_Sync__c": True}, scope="profile:Standard User", actor="a", reason="r")
    assert not done.created_record and done.warnings == [] and done.audit_ids == []
    off = flip(
        org, store, {"External_Sync__c": False}, scope="profile:Standard User", actor="a", reason="r", dry_run=True
    )
    assert off.created_record and "pins the other 4 switches" in off.warnings[0]
