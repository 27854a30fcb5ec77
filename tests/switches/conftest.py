"""Fixtures for the kill-switch and breaker tests: the shared emulator (tests/conftest.py) over real
HTTPS, reset before every test, an sfops store in tmp_path, and a CLI environment pointing at both."""

from __future__ import annotations

from pathlib import Path

import pytest
from emulator_cli_support import emulator_cli_env

from sfops.emulator.testing import RunningEmulator
from sfops.salesforce import Org, connect
from sfops.store import Store


@pytest.fixture
def emu(emulator: RunningEmulator) -> RunningEmulator:
    """The shared emulator (reset for this test, CA-bundle env overrides removed)."""
    return emulator


@pytest.fixture
def org(emu: RunningEmulator) -> Org:
    return connect(emu.org_config(alias="emu"), env={})


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'sfops.db'}")


@pytest.fixture
def cli_env(emu: RunningEmulator, tmp_path: Path) -> dict[str, str]:
    """Environment for `sfops.cli.app.invoke`: org `emu` (default) and `prod` (production) on the emulator."""
    return emulator_cli_env(emu, tmp_path, aliases=("emu", "prod"), production=("prod",))
