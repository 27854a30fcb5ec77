"""Fixtures for the kill-switch and breaker tests: the shared emulator (tests/conftest.py) over real
HTTPS, reset before every test, an sfops store in tmp_path, and a CLI environment pointing at both."""

from __future__ import annotations

from pathlib import Path

import pytest
from emulator_cli_support import emulator_cli_env

from sfops.emulator.testing import RunningEmulator


@pytest.fixture
def cli_env(emu: RunningEmulator, tmp_path: Path) -> dict[str, str]:
    """Environment for `sfops.cli.app.invoke`: org `emu` (default) and `prod` (production) on the emulator."""
    return emulator_cli_env(emu, tmp_path, aliases=("emu", "prod"), production=("prod",))
