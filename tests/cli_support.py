"""Running the sfops CLI in-process from tests: `run_cli(argv, env)` -> CliResult."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sfops.cli.app import invoke


@dataclass(frozen=True)
class CliResult:
    """What one CLI run gave: its exit code, what it printed, and (for --json) the parsed envelope."""

    exit_code: int
    stdout: str
    stderr: str

    @cached_property
    def json(self) -> Any:
        """stdout parsed as JSON (the `--json` envelope); fails the test with the output when it is not JSON."""
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError as exc:
            raise AssertionError(
                f"not JSON ({exc}); exit {self.exit_code}\nstdout: {self.stdout}\nstderr: {self.stderr}"
            ) from None


def run_cli(argv: Sequence[str], env: Mapping[str, str] | None = None, stdin: str = "") -> CliResult:
    """Run `sfops argv...` in-process (as `sfops.cli.app.invoke` does) and capture the result."""
    code, out, err = invoke(argv, env, stdin)
    return CliResult(code, out, err)
