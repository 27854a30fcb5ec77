"""Helpers for the kill-switch and breaker tests (a uniquely named module: `from conftest import`
breaks when several test directories are collected together)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from emulator_cli_support import emulator_cli_env

from sfops.emulator.testing import RunningEmulator


def rest_calls(emu: RunningEmulator, since: int) -> list[dict[str, Any]]:
    """Counted API calls (REST/Tooling, not logins or control calls) after journal position `since`."""
    return [e for e in emu.requests_journal()[since:] if e["counted"]]


def journal_len(emu: RunningEmulator) -> int:
    """The current length of the emulator's request journal (a position for `rest_calls`)."""
    return len(emu.requests_journal())


@pytest.fixture
def emu_and_prod_cli_env(emu: RunningEmulator, tmp_path: Path) -> dict[str, str]:
    """Environment for `sfops.cli.app.invoke`: org `emu` (default) and `prod` (production) on the emulator."""
    return emulator_cli_env(emu, tmp_path, aliases=("emu", "prod"), production=("prod",))
