"""Fixtures for the logs tests that need an org: one emulator per module over real HTTPS, reset before every
test, an sfops store in tmp_path, and a CLI environment pointing at both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sfops.emulator.testing import RunningEmulator, running_emulator
from sfops.salesforce import Org, connect
from sfops.store import Store


@pytest.fixture(scope="module")
def logs_emulator() -> Iterator[RunningEmulator]:
    # REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE would override the session's CA bundle; the emulator's CA must win.
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("REQUESTS_CA_BUNDLE", raising=False)
        mp.delenv("CURL_CA_BUNDLE", raising=False)
        with running_emulator() as emu:
            yield emu


@pytest.fixture
def emu(logs_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> RunningEmulator:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    logs_emulator.reset()
    return logs_emulator


@pytest.fixture
def org(emu: RunningEmulator) -> Org:
    return connect(emu.org_config(alias="emu"), env={})


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'sfops.db'}")


@pytest.fixture
def cli_env(emu: RunningEmulator, tmp_path: Path) -> dict[str, str]:
    """Environment for `sfops.cli.app.invoke`: an sfops.toml with org `emu`, secrets in env."""
    s = emu.settings
    config = tmp_path / "sfops.toml"
    config.write_text(
        'default_org = "emu"\n\n[orgs.emu]\nauth = "password"\n'
        f'login_url = "{emu.url}"\ninstance_url = "{emu.url}"\nusername = "{s.admin_username}"\n'
        f'client_id = "{s.client_id}"\nca_bundle = "{emu.ca_bundle}"\nmax_retries = 2\n', encoding="utf-8")
    return {"SFOPS_CONFIG": str(config), "SFOPS_HOME": str(tmp_path / "home"),
            "SFOPS_STORE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "SFOPS_ACTOR": "alice",
            "SFOPS_DOTENV": str(tmp_path / "no.env"), "HOME": str(tmp_path), "COLUMNS": "200",
            "SFOPS_ORG_EMU_PASSWORD": s.admin_password, "SFOPS_ORG_EMU_CLIENT_SECRET": s.client_secret}
