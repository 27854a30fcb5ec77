"""Fixtures for incident tests: the shared emulator over HTTPS (reset per test), a store in tmp_path,
local receivers standing in for Slack/Teams/PagerDuty/webhooks (http.server in a thread) and a real
SMTP server (aiosmtpd) on free ports."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from clock_support import Clock
from incidents_support import Mailbox, Receiver, free_port


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append(
                {"path": self.path, "headers": dict(self.headers), "raw": raw, "json": json.loads(raw) if raw else None}
            )
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
    return {
        "SFOPS_ALERT_SLACK_URL": f"{receiver.url}/slack",
        "SFOPS_ALERT_TEAMS_URL": f"{receiver.url}/teams",
        "SFOPS_ALERT_PAGERDUTY_ROUTING_KEY": "R0UTINGKEY0000000000000000000000",
        "SFOPS_ALERT_HOOK_URL": f"{receiver.url}/hook",
        "SFOPS_ALERT_HOOK_SECRET": "s3cret",
    }
