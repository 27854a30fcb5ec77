"""Rollback output for people: progress before the result it leads to, a running job says so, a bogus id is a
usage error, and what sfops chose is information, not a warning."""

from __future__ import annotations

import functools
import io
from typing import Any

import pytest
from cli_support import run_cli
from rich.console import Console
from test_rollback_emulator import at_b  # noqa: F401 - the fixture

from sfops.cli.app import main
from sfops.cli.output import render
from sfops.cli.rollback import _result
from sfops.errors import ExitCode
from sfops.rollback.deploy import Outcome
from sfops.salesforce.metadata import MetadataClient


def test_a_job_still_running_says_so_instead_of_failures_none() -> None:
    outcome = Outcome(
        action="validate",
        org="emu",
        id="0Af5g000000001iCAA",
        status="InProgress",
        done=False,
        success=False,
        check_only=True,
        test_level="RunLocalTests",
        notes=["still running: sfops rollback status --job-id 0Af5g000000001iCAA --wait 10"],
    )
    result = _result(outcome, "Rollback validation", None)
    console = Console(file=io.StringIO(), width=80)
    render(result, as_json=False, console=console)
    text = console.file.getvalue()
    assert "failures: none" not in text and "(still running)" in text
    assert "sfops rollback status --job-id 0Af5g000000001iCAA" in text and "Warning" not in text
    assert result.exit_code == ExitCode.STILL_RUNNING
    outcome.done, outcome.status, outcome.success = True, "Succeeded", True
    assert "Rollback validation: failures: none" in _rendered(_result(outcome, "Rollback validation", None))


def _rendered(result: Any) -> str:
    console = Console(file=io.StringIO(), width=80)
    render(result, as_json=False, console=console)
    return console.file.getvalue()


@pytest.mark.parametrize("job", ["bogus", "0Af123", "001000000000001AAA"])
def test_a_bogus_job_id_is_a_usage_error(job: str) -> None:
    result = run_cli(["rollback", "status", "--job-id", job], {"HOME": "/nonexistent"})
    assert result.exit_code == 2 and "is not a deploy id" in result.stderr and "Traceback" not in result.stderr


def test_progress_comes_before_the_result_and_choices_are_not_warnings(
    at_b: dict[str, Any],  # noqa: F811 - the fixture imported above
    rollback_cli_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        MetadataClient, "poll", functools.partialmethod(MetadataClient.poll, interval=0.02, max_interval=0.05)
    )
    both = io.StringIO()  # stdout and stderr on one terminal, as a user sees them
    code = main(
        ["rollback", "validate", "--package", str(at_b["dir"]), "-o", "emu"],
        {**rollback_cli_env, "COLUMNS": "80"},
        stdin=io.StringIO(),
        stdout=both,
        stderr=both,
    )
    text = both.getvalue()
    assert code == 0, text
    lines = text.splitlines()
    progress = [i for i, line in enumerate(lines) if line.startswith("0Af") and ": components" in line]
    result = next(i for i, line in enumerate(lines) if line.startswith("validate: Succeeded"))
    assert progress and max(progress) < result
    assert "RunSpecifiedTests with the tests of release A (good)" in text or "RunLocalTests" in text
    assert "Warning: RunSpecifiedTests" not in text and "Warning: RunLocalTests" not in text
