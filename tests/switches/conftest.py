"""Fixtures for the kill-switch and breaker tests: the shared emulator (tests/conftest.py) over real
HTTPS, reset before every test, an sfops store in tmp_path, and a CLI environment pointing at both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sfops.emulator.testing import RunningEmulator
from sfops.salesforce import Org, connect
from sfops.store import Store


@pytest.fixture
def emu(emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> RunningEmulator:
    """The shared emulator (reset for this test). requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE
    override a session's CA bundle, so they are removed: the emulator's CA must be the one used."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    return emulator


@pytest.fixture
def org(emu: RunningEmulator) -> Org:
    return connect(emu.org_config(alias="emu"), env={})


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'sfops.db'}")


def rest_calls(emu: RunningEmulator, since: int) -> list[dict[str, Any]]:
    """Counted API calls (REST/Tooling, not logins or control calls) after journal position `since`."""
    return [e for e in emu.requests_journal()[since:] if e["counted"]]


def journal_len(emu: RunningEmulator) -> int:
    return len(emu.requests_journal())


@pytest.fixture
def cli_env(emu: RunningEmulator, tmp_path: Path) -> dict[str, str]:
    """Environment for `sfops.cli.app.invoke`: an sfops.toml with org `emu`, secrets in env."""
    s = emu.settings
    config = tmp_path / "sfops.toml"
    config.write_text(
        'default_org = "emu"\n\n[orgs.emu]\nauth = "password"\n'
        f'login_url = "{emu.url}"\ninstance_url = "{emu.url}"\nusername = "{s.admin_username}"\n'
        f'client_id = "{s.client_id}"\nca_bundle = "{emu.ca_bundle}"\nmax_retries = 2\n\n'
        f'[orgs.prod]\nauth = "password"\nlogin_url = "{emu.url}"\ninstance_url = "{emu.url}"\n'
        f'username = "{s.admin_username}"\nclient_id = "{s.client_id}"\nca_bundle = "{emu.ca_bundle}"\n'
        "production = true\nmax_retries = 2\n", encoding="utf-8")
    return {"SFOPS_CONFIG": str(config), "SFOPS_HOME": str(tmp_path / "home"),
            "SFOPS_STORE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "SFOPS_ACTOR": "alice",
            "SFOPS_DOTENV": str(tmp_path / "no.env"), "HOME": str(tmp_path), "COLUMNS": "200",
            "SFOPS_ORG_EMU_PASSWORD": s.admin_password, "SFOPS_ORG_EMU_CLIENT_SECRET": s.client_secret,
            "SFOPS_ORG_PROD_PASSWORD": s.admin_password, "SFOPS_ORG_PROD_CLIENT_SECRET": s.client_secret}
