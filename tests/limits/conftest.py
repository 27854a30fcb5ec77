"""Fixtures for the limits tests: a store in tmp_path and a CLI environment pointing at the shared emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sfops.store import Store


@pytest.fixture(autouse=True)
def _no_ca_override(monkeypatch: pytest.MonkeyPatch) -> None:
    # requests lets these override a session's CA bundle; the emulator's CA must be the one used.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


@pytest.fixture
def limits_store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'limits.db'}")


def emulator_cli_env(emulator: Any, tmp_path: Path, alias: str = "emu", extra_toml: str = "") -> dict[str, str]:
    """Environment for `sfops.cli.app.invoke`: sfops.toml with org `alias` on the emulator, secrets in env."""
    s = emulator.settings
    config = tmp_path / "sfops.toml"
    config.write_text(
        f'default_org = "{alias}"\n\n[orgs.{alias}]\nauth = "password"\n'
        f'login_url = "{emulator.url}"\ninstance_url = "{emulator.url}"\nusername = "{s.admin_username}"\n'
        f'client_id = "{s.client_id}"\nca_bundle = "{emulator.ca_bundle}"\nmax_retries = 2\n' + extra_toml,
        encoding="utf-8")
    key = alias.upper()
    return {"SFOPS_CONFIG": str(config), "SFOPS_HOME": str(tmp_path / "home"),
            "SFOPS_STORE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "SFOPS_ACTOR": "limits-test",
            f"SFOPS_ORG_{key}_PASSWORD": s.admin_password, f"SFOPS_ORG_{key}_CLIENT_SECRET": s.client_secret,
            "COLUMNS": "200"}


@pytest.fixture
def limits_cli_env(emulator: Any, tmp_path: Path) -> dict[str, str]:
    return emulator_cli_env(emulator, tmp_path)
