"""Fixtures for the agent tests: settings from a TOML text, a store file two agents can share, a mutable clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from clock_support import Clock

from sfops.config import Settings, load_settings
from sfops.store import Store

ORGS_TOML = """default_org = "prod"

[orgs.prod]
auth = "token"
instance_url = "https://prod.example.invalid"

[orgs.uat]
auth = "token"
instance_url = "https://uat.example.invalid"
"""


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[[str], Settings]:
    def make(agent_toml: str = "") -> Settings:
        path = tmp_path / "sfops.toml"
        path.write_text(ORGS_TOML + "\n" + agent_toml, encoding="utf-8")
        return load_settings({"HOME": str(tmp_path)}, path, tmp_path)

    return make


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store the agents share: a SQLite file, and a real PostgreSQL database (what a team uses)."""
    if request.param == "postgresql":
        return request.getfixturevalue("postgres").new_database()
    return f"sqlite:///{tmp_path / 'agent.db'}"


@pytest.fixture
def agent_store(store_url: str) -> Store:
    return Store.open(store_url)


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2026, 3, 10, 12, 0, 10, tzinfo=dt.UTC))
