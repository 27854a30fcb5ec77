"""Fixtures for the gateway tests: a responses mock, a connected Org whose sleeps are recorded, not done."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import responses
from sf_fixtures import INSTANCE, LOGIN, TOKEN

from sfops.config import OrgConfig
from sfops.salesforce import Org, connect


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
        fields: dict[str, Any] = {
            "alias": "acme",
            "auth": "token",
            "instance_url": INSTANCE,
            "login_url": LOGIN,
            "api_version": "64.0",
        }
        fields.update(kw)
        if secrets is None:
            secrets = {"access_token": TOKEN} if fields["auth"] == "token" else {}
        return connect(OrgConfig(secrets=secrets, **fields), env=env or {}, sleep=sleeps.append)

    return factory


@pytest.fixture
def org(make_org: Callable[..., Org]) -> Org:
    return make_org()
