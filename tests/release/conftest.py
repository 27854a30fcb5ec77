"""Fixtures of the release gate tests (helpers live in release_support, a uniquely named module)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from emulator_cli_support import emulator_cli_env
from release_support import GATE_TOML, release_history


@pytest.fixture
def gate(emu: Any, org: Any, tmp_path: Path) -> dict[str, Any]:
    """The history c1 -> c2 (three problems) -> c3 (fixed); production-size Accounts (60 rows standing for
    2,000,000 records, the emulator's data-volume knob); a CLI env with org `prod`."""
    repo = tmp_path / "repo"
    release_history(repo)
    org.composite_sobjects("POST", [{"attributes": {"type": "Account"}, "Name": f"Acme {i}"} for i in range(60)])
    emu.control("POST", "volumes", {"Account": 2_000_000})
    env = emulator_cli_env(emu, tmp_path, aliases=("prod",), production=("prod",), actor="rm", extra_toml=GATE_TOML)
    return {"repo": repo, "env": env, "tmp": tmp_path}
