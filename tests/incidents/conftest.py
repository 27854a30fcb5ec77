"""Fixtures for incident tests: the shared emulator over HTTPS (reset per test), a store in tmp_path,
local receivers standing in for Slack/Teams/PagerDuty/webhooks (http.server in a thread) and a real
SMTP server (aiosmtpd) on free ports."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sfops.emulator.testing import RunningEmulator
from sfops.salesforce import Org, connect
from sfops.store import Store


@pytest.fixture
def emu(emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> RunningEmulator:
    """The shared emulator, reset; CA-bundle env overrides removed so the emulator's CA is used."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    return emulator


@pytest.fixture
def org(emu: RunningEmulator) -> Org:
    return connect(emu.org_config(alias="emu"), env={})


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'sfops.db'}")


class Clock:
    """A settable clock for escalation and lifecycle tests."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs: float) -> dt.datetime:
        self.now += dt.timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC))


@dataclass
class Receiver:
    """A local HTTP server recording every POST; `status` sets what it answers."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    body: bytes = b"ok"

    def for_path(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append({"path": self.path, "headers": dict(self.headers), "raw": raw,
                                   "json": json.loads(raw) if raw else None})
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[Any] = field(default_factory=list)


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on a free port, collecting messages."""
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    box = Mailbox(host="127.0.0.1", port=free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            msg = message_from_bytes(envelope.content, policy=policy.default)
            box.messages.append({"rcpt": list(envelope.rcpt_tos), "from": envelope.mail_from, "msg": msg})
            return "250 OK"

    controller = Controller(Handler(), hostname=box.host, port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def alerts_env(receiver: Receiver) -> dict[str, str]:
    """Secrets for the standard channel set, all pointing at the local receiver."""
    return {"SFOPS_ALERT_SLACK_URL": f"{receiver.url}/slack", "SFOPS_ALERT_TEAMS_URL": f"{receiver.url}/teams",
            "SFOPS_ALERT_PAGERDUTY_ROUTING_KEY": "R0UTINGKEY0000000000000000000000",
            "SFOPS_ALERT_HOOK_URL": f"{receiver.url}/hook", "SFOPS_ALERT_HOOK_SECRET": "s3cret"}


def alerts_section(receiver: Receiver, smtp: Mailbox | None = None) -> dict[str, Any]:
    """An [alerts] section routing P1 everywhere, P2 to Slack + email, P3 to the webhook."""
    channels: dict[str, Any] = {
        "slack": {"type": "slack"}, "teams": {"type": "teams"},
        "pagerduty": {"type": "pagerduty", "url": f"{receiver.url}/pagerduty"},
        "hook": {"type": "webhook"},
    }
    p1 = ["pagerduty", "slack", "teams", "hook"]
    p2 = ["slack"]
    if smtp is not None:
        channels["email"] = {"type": "email", "smtp_host": smtp.host, "smtp_port": smtp.port,
                             "from": "sfops@example.com", "to": ["ops@example.com"], "oncall": "primary"}
        p1.append("email")
        p2.append("email")
    return {"channels": channels, "routes": {"P1": p1, "P2": p2, "P3": ["hook"]}, "max_attempts": 3,
            "retry_base_seconds": 60, "breaker_failures": 2, "breaker_cooldown_seconds": 600}


ONCALL_SECTION: dict[str, Any] = {
    "default_rotation": "primary",
    "people": {"alice": {"email": "alice@example.com"}, "bob": {"email": "bob@example.com", "slack": "U0BOB"},
               "carol": {"email": "carol@example.com"}, "dave": {"email": "dave@example.com"}},
    "rotations": {
        "primary": {"time_zone": "Europe/Paris", "start": "2026-10-26", "handoff_time": "09:00",
                    "length": "weekly", "participants": ["alice", "bob"]},
        "secondary": {"time_zone": "Europe/Paris", "start": "2026-10-26", "handoff_time": "09:00",
                      "length": "weekly", "participants": ["carol", "dave"]},
    },
}
