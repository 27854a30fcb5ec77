"""CLI conventions every command group follows: help text, docs, JSON envelope, exit codes."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from cli_support import run_cli
from paths import REPO

from sfops.cli.app import GROUPS, cli
from sfops.errors import ExitCode

sys.path.insert(0, str(REPO / "scripts"))
from gen_cli_reference import render, walk

ALL_COMMANDS = [(path, command) for path, command, _ in walk(cli, ["sfops"])]


@pytest.mark.parametrize("path,command", ALL_COMMANDS, ids=[" ".join(p) for p, _ in ALL_COMMANDS])
def test_every_command_has_help_and_is_documented(path: list[str], command: click.Command) -> None:
    assert (command.help or "").strip(), f"{' '.join(path)} has no help text"
    reference = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    name = " ".join(path)
    assert f"`{name}`" in reference, f"{name} missing from docs/cli.md (run scripts/gen_cli_reference.py)"


def test_the_cli_reference_is_exactly_what_the_generator_writes() -> None:
    # byte for byte: a changed option, help text or default shows up here, not only a new command
    assert (REPO / "docs" / "cli.md").read_bytes() == render().encode("utf-8"), (
        "docs/cli.md is stale: run python scripts/gen_cli_reference.py"
    )


def test_help_lists_the_command_groups() -> None:
    result = run_cli(["--help"])
    assert result.exit_code == 0
    missing = [group for group in GROUPS if f"  {group} " not in result.stdout]
    assert not missing, f"not listed in sfops --help: {missing}"


def test_unknown_command_is_a_usage_error_with_exit_code_2() -> None:
    result = run_cli(["no-such-group"])
    assert result.exit_code == ExitCode.USAGE
    assert "No such command" in result.stderr


def test_usage_error_in_json_mode_prints_error_envelope() -> None:
    result = run_cli(["--json", "no-such-group"])
    body = result.json
    assert result.exit_code == 2 and body["status"] == 2 and body["exitCode"] == 2
    assert body["name"] == "UsageError" and "No such command" in body["message"]


def test_python_dash_m_runs_the_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sfops", "--version"], capture_output=True, text=True, check=False, cwd=REPO
    )
    assert proc.returncode == 0 and "sfops" in proc.stdout
