"""Fixtures for the logs tests that need an org: the shared emulator (tests/conftest.py: `emu`, `org`,
`store`) and a CLI environment pointing at it."""

from __future__ import annotations

from pathlib import Path

import pytest
from emulator_cli_support import emulator_cli_env

from sfops.emulator.testing import RunningEmulator


@pytest.fixture
def cli_env(emu: RunningEmulator, tmp_path: Path) -> dict[str, str]:
    """Environment for `sfops.cli.app.invoke`: an sfops.toml with org `emu`, secrets in env."""
    return emulator_cli_env(emu, tmp_path)
