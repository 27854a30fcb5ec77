"""Helpers shared by the incident tests (fixtures stay in conftest.py).

A uniquely named module: `from conftest import ...` resolves to whichever conftest.py Python imported first
when several test directories are collected in one run.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Receiver:
    """A local HTTP server recording every POST; `status` sets what it answers."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    body: bytes = b"ok"

    def for_path(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[Any] = field(default_factory=list)


def alerts_section(receiver: Receiver, smtp: Mailbox | None = None) -> dict[str, Any]:
    """An [alerts] section routing P1 everywhere, P2 to Slack + email, P3 to the webhook."""
    channels: dict[str, Any] = {
        "slack": {"type": "slack"},
        "teams": {"type": "teams"},
        "pagerduty": {"type": "pagerduty", "url": f"{receiver.url}/pagerduty"},
        "hook": {"type": "webhook"},
    }
    p1 = ["pagerduty", "slack", "teams", "hook"]
    p2 = ["slack"]
    if smtp is not None:
        channels["email"] = {
            "type": "email",
            "smtp_host": smtp.host,
            "smtp_port": smtp.port,
            "from": "sfops@example.com",
            "to": ["ops@example.com"],
            "oncall": "primary",
        }
        p1.append("email")
        p2.append("email")
    return {
        "channels": channels,
        "routes": {"P1": p1, "P2": p2, "P3": ["hook"]},
        "max_attempts": 3,
        "retry_base_seconds": 60,
        "breaker_failures": 2,
        "breaker_cooldown_seconds": 600,
    }


ONCALL_SECTION: dict[str, Any] = {
    "default_rotation": "primary",
    "people": {
        "alice": {"email": "alice@example.com"},
        "bob": {"email": "bob@example.com", "slack": "U0BOB"},
        "carol": {"email": "carol@example.com"},
        "dave": {"email": "dave@example.com"},
    },
    "rotations": {
        "primary": {
            "time_zone": "Europe/Paris",
            "start": "2026-10-26",
            "handoff_time": "09:00",
            "length": "weekly",
            "participants": ["alice", "bob"],
        },
        "secondary": {
            "time_zone": "Europe/Paris",
            "start": "2026-10-26",
            "handoff_time": "09:00",
            "length": "weekly",
            "participants": ["carol", "dave"],
        },
    },
}
