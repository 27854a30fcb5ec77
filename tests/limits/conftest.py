"""Fixtures for the limits tests: a store in tmp_path and a CLI environment pointing at the shared emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from emulator_cli_support import emulator_cli_env

from sfops.store import Store


@pytest.fixture
def limits_store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'limits.db'}")


@pytest.fixture
def limits_cli_env(emulator: Any, tmp_path: Path) -> dict[str, str]:
    return emulator_cli_env(emulator, tmp_path, actor="limits-test")
