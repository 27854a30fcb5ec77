"""Fixtures for the web console tests: two org aliases on the emulator ('prod' marked production), a
store, a Console, and a way to call its handler without sockets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from emulator_cli_support import emulator_cli_env

from sfops.config import Settings, load_settings
from sfops.salesforce import connect
from sfops.store import Store
from sfops.web.console import Console, ConsoleConfig, console_handler
from sfops.web.server import Request, Response

TOKEN = "s3cret-console-token-for-tests"


@pytest.fixture
def web_settings(emulator: Any, tmp_path: Path) -> Callable[[str], Settings]:
    def make(extra_toml: str = "", token: str | None = TOKEN) -> Settings:
        env = emulator_cli_env(
            emulator, tmp_path, aliases=("emu", "prod"), production=("prod",), actor="alice", extra_toml=extra_toml
        )
        if token:
            env["SFOPS_CONSOLE_TOKEN"] = token
        return load_settings(env, env["SFOPS_CONFIG"], tmp_path)

    return make


@pytest.fixture
def make_console(tmp_path: Path) -> Callable[[Settings], Console]:
    orgs: dict[str, Any] = {}

    def get_org(settings: Settings) -> Callable[[str], Any]:
        def connected(alias: str) -> Any:
            if alias not in orgs:
                orgs[alias] = connect(settings.org(alias), env=settings.env)
            return orgs[alias]

        return connected

    def make(settings: Settings) -> Console:
        return Console(
            Store.open(f"sqlite:///{tmp_path / 'web.db'}"),
            settings,
            ("emu", "prod"),
            get_org=get_org(settings),
            actor="alice",
            config=ConsoleConfig.from_settings(settings),
        )

    return make


class Client:
    """Calls a console handler like a browser would (cookies kept), without a socket."""

    def __init__(self, console: Console) -> None:
        self.handle = console_handler(console)
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        from urllib.parse import parse_qs, urlencode, urlsplit

        parts = urlsplit(path)
        sent = {"Host": "127.0.0.1:8766", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = urlencode(form or {}).encode()
        response = self.handle(Request(method, parts.path, parse_qs(parts.query), sent, body))
        cookie = response.headers.get("Set-Cookie")
        if cookie:
            name, _, rest = cookie.partition("=")
            value = rest.split(";")[0]
            if value:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return response

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str], **headers: str) -> Response:
        return self.request("POST", path, form, headers)


@pytest.fixture
def client_for() -> type[Client]:
    return Client


@pytest.fixture
def raise_incident() -> Callable[[Console, str, str], Any]:
    """Raise an incident in the emulator org through the incident service (mirrored into the store)."""
    from sfops.incidents.wiring import build

    def make(console: Console, alias: str, summary: str, severity: str = "P2") -> Any:
        assert console.get_org is not None
        incidents = build(
            console.settings, console.get_org(alias), console.store, alias=alias, actor="alice", strict=False
        )
        return incidents.service.raise_incident(severity, summary).incident

    return make
