"""Fixtures for the gateway tests: real wire bodies, org configs, a connected Org with no real sleeping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import responses
from paths import WIRE

from sfops.config import OrgConfig
from sfops.salesforce import Org, connect

INSTANCE = "https://acme.my.salesforce.com"
LOGIN = "https://login.example.test"
API = f"{INSTANCE}/services/data/v64.0"
TOKEN = "00D5e000000AbCd!AQ8AQOLDTOKENvalue.secretpart"
LIMIT_INFO = {"Sforce-Limit-Info": "api-usage=25/15000"}


def wire_text(name: str) -> str:
    """A real recorded Salesforce body from ../shared/data/wire."""
    return (WIRE / name).read_text(encoding="utf-8")


def wire_bytes(name: str) -> bytes:
    return (WIRE / name).read_bytes()


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_org(sleeps: list[float]) -> Callable[..., Org]:
    """connect() an org described by keyword overrides; sleeping is recorded, not done."""

    def factory(secrets: dict[str, str] | None = None, env: dict[str, str] | None = None, **kw: Any) -> Org:
        fields: dict[str, Any] = {"alias": "acme", "auth": "token", "instance_url": INSTANCE,
                                  "login_url": LOGIN, "api_version": "64.0"}
        fields.update(kw)
        if secrets is None:
            secrets = {"access_token": TOKEN} if fields["auth"] == "token" else {}
        return connect(OrgConfig(secrets=secrets, **fields), env=env or {}, sleep=sleeps.append)

    return factory


@pytest.fixture
def org(make_org: Callable[..., Org]) -> Org:
    return make_org()
