"""`sfops logs trace on|off|list` against the emulator."""

from __future__ import annotations

import datetime as dt

import pytest
from cli_support import run_cli

from sfops.emulator.testing import RunningEmulator
from sfops.errors import UsageError
from sfops.logs.traceflags import DEFAULT_LEVEL, DEFAULT_LEVELS, trace_list, trace_off, trace_on
from sfops.salesforce import Org
from sfops.store import Store


def _flags(org: Org) -> list[dict]:
    return org.tooling_query(
        "SELECT Id, TracedEntityId, DebugLevelId, LogType, StartDate, ExpirationDate FROM TraceFlag"
    )


def test_trace_on_creates_level_and_flag_then_extends_instead_of_duplicating(
    emu: RunningEmulator, org: Org, store: Store
) -> None:
    admin = emu.settings.admin_username
    now = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
    first = trace_on(org, store, admin, minutes=30, now=now, actor="alice")
    assert first.action == "created" and first.level == DEFAULT_LEVEL
    assert first.expiration == "2030-01-01T12:30:00.000+0000"
    assert any("Created DebugLevel" in n for n in first.notes) and first.warnings == []  # information, not a warning
    level = org.tooling_query(
        "SELECT Id, ApexCode, ApexProfiling FROM DebugLevel WHERE DeveloperName = 'SFOPS_LIMITS'"
    )[0]
    assert DEFAULT_LEVEL == "SFOPS_LIMITS"
    assert (level["ApexCode"], level["ApexProfiling"]) == (DEFAULT_LEVELS["ApexCode"], "FINE")

    second = trace_on(org, store, admin, minutes=24 * 60, now=now, actor="alice")
    assert second.action == "extended" and second.id == first.id and second.warnings == [] and second.notes == []
    flags = [f for f in _flags(org) if f["LogType"] == "USER_DEBUG"]
    assert len(flags) == 1
    assert flags[0]["ExpirationDate"].startswith("2030-01-02T12:00:00")

    listed = trace_list(org)
    assert [(f.id, f.user, f.level) for f in listed] == [(first.id, admin, DEFAULT_LEVEL)]

    deleted = trace_off(org, store, admin, actor="alice", reason="done")
    assert [f.id for f in deleted] == [first.id]
    assert [f for f in _flags(org) if f["LogType"] == "USER_DEBUG"] == []
    # the domain writes the audit trail, whoever calls it
    audit = store.audit_history(alias=org.alias, action_prefix="logs.trace.")
    assert [(r.action, r.actor, r.reason) for r in audit] == [
        ("logs.trace.deleted", "alice", "done"),
        ("logs.trace.extended", "alice", None),
        ("logs.trace.created", "alice", None),
    ]


def test_a_refused_confirmation_writes_nothing(emu: RunningEmulator, org: Org, store: Store) -> None:
    asked: list[str] = []

    def refuse(what: str) -> None:
        asked.append(what)
        raise UsageError("not confirmed")

    with pytest.raises(UsageError, match="not confirmed"):
        trace_on(org, store, emu.settings.admin_username, actor="alice", minutes=5, confirm=refuse)
    assert asked == [f"Trace {emu.settings.admin_username} for 5 minutes (debug logs count against storage)."]
    assert _flags(org) == [] and store.audit_history(alias=org.alias) == []
    assert not org.tooling_query("SELECT Id FROM DebugLevel WHERE DeveloperName = 'SFOPS_LIMITS'")
    # a dry run does not ask
    assert trace_on(org, store, emu.settings.admin_username, actor="alice", dry_run=True, confirm=refuse).id is None


def test_an_existing_shared_level_is_used_unchanged_with_a_warning(
    emu: RunningEmulator, org: Org, store: Store
) -> None:
    # The demo seed's SFOPS_DEBUG level has ApexProfiling INFO: limit blocks may be missing.
    flag = trace_on(org, store, emu.settings.admin_username, level="SFOPS_DEBUG", minutes=5, actor="alice")
    assert flag.level == "SFOPS_DEBUG"
    assert any("ApexProfiling INFO" in w for w in flag.warnings)
    level = org.tooling_query("SELECT ApexProfiling FROM DebugLevel WHERE DeveloperName = 'SFOPS_DEBUG'")[0]
    assert level["ApexProfiling"] == "INFO"


@pytest.mark.parametrize("minutes", [0, 24 * 60 + 1])
def test_windows_beyond_the_platform_limit_are_refused(
    org: Org, store: Store, emu: RunningEmulator, minutes: int
) -> None:
    with pytest.raises(UsageError, match="24 hours"):
        trace_on(org, store, emu.settings.admin_username, minutes=minutes, actor="alice")
    assert _flags(org) == []


@pytest.mark.parametrize("level", ["Bad Level!", "two__underscores", "trailing_", "_leading", "L" * 81])
def test_an_invalid_debug_level_name_is_refused_before_anything_is_created(
    org: Org, store: Store, emu: RunningEmulator, level: str
) -> None:
    with pytest.raises(UsageError, match="is not a valid DebugLevel name"):
        trace_on(org, store, emu.settings.admin_username, level=level, actor="alice")
    assert _flags(org) == []
    assert not org.tooling_query("SELECT Id FROM DebugLevel WHERE DeveloperName = 'Bad Level!'")


def test_unknown_user_is_a_clear_error(org: Org, store: Store) -> None:
    with pytest.raises(UsageError, match=r"No user 'nobody@example\.invalid'"):
        trace_on(org, store, "nobody@example.invalid", actor="alice")


def test_trace_cli_on_list_off(emu: RunningEmulator, cli_env: dict[str, str]) -> None:
    admin = emu.settings.admin_username
    result = run_cli(["logs", "trace", "on", "--user", admin, "--minutes", "10", "--json"], env=cli_env)
    assert result.exit_code == 0, result.stderr
    assert result.json["result"]["action"] == "created"
    result = run_cli(["logs", "trace", "list"], env=cli_env)
    assert result.exit_code == 0 and admin in result.stdout and DEFAULT_LEVEL in result.stdout
    result = run_cli(["logs", "trace", "on", "--user", admin, "--minutes", "2000"], env=cli_env)
    assert result.exit_code == 2
    result = run_cli(["logs", "trace", "off", "--user", admin, "--json"], env=cli_env)
    assert result.exit_code == 0 and len(result.json["result"]) == 1


def test_trace_dry_run_writes_nothing_and_production_needs_yes_and_changes_are_audited(
    emu: RunningEmulator, org: Org, tmp_path
) -> None:
    from emulator_cli_support import emulator_cli_env

    from sfops.config import load_settings
    from sfops.store import Store

    env = emulator_cli_env(emu, tmp_path, aliases=("prod",), production=("prod",))
    admin = emu.settings.admin_username
    result = run_cli(["logs", "trace", "on", "--user", admin, "--dry-run", "--json"], env=env)
    assert result.exit_code == 0, result.stderr
    planned = result.json["result"]
    assert planned["action"] == "would create" and planned["id"] is None
    assert _flags(org) == []
    assert DEFAULT_LEVEL not in {r["DeveloperName"] for r in org.tooling_query("SELECT DeveloperName FROM DebugLevel")}

    result = run_cli(["logs", "trace", "on", "--user", admin], env=env)
    assert result.exit_code == 1 and "--yes" in result.stderr and _flags(org) == []  # no terminal to confirm on
    result = run_cli(["logs", "trace", "on", "--user", admin, "--yes", "--reason", "P2 repro"], env=env)
    assert result.exit_code == 0, result.stderr
    result = run_cli(["logs", "trace", "off", "--user", admin, "--dry-run", "--json"], env=env)
    assert result.json["result"][0]["action"] == "would delete" and len(_flags(org)) == 1
    result = run_cli(["logs", "trace", "off", "--user", admin, "--yes"], env=env)
    assert result.exit_code == 0 and _flags(org) == []

    audit = Store.open(load_settings(env).store_url).audit_history(alias="prod")
    assert [(r.action, r.reason) for r in audit] == [("logs.trace.deleted", None), ("logs.trace.created", "P2 repro")]
    assert audit[1].target == f"TraceFlag:{admin}" and audit[1].actor == "alice"
