"""Alert channels: https only, no redirects with a signed payload, a short bound per delivery so a slow
receiver cannot hold up `incident raise` (issue 15 item 14)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sfops.errors import ConfigError
from sfops.incidents.channels import DeliveryError, parse_channel, send
from sfops.incidents.model import Incident, Status
from sfops.incidents.templates import render

INCIDENT = Incident(
    id="a03000000000001AAA",
    org="emu",
    severity="P1",
    status=Status.NEW,
    summary="Checkout fails",
    dedup_key="checkout",
    detected_at=dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC),
)


class Behaviour:
    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[str] = []


@pytest.fixture
def slow_receiver() -> Iterator[tuple[str, Behaviour]]:
    behaviour = Behaviour()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            behaviour.requests.append(self.path)
            if behaviour.mode == "redirect":
                self.send_response(307)
                self.send_header("Location", "https://collector.example.invalid/steal")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif behaviour.mode == "silent":
                time.sleep(20)
            elif behaviour.mode == "trickle":
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                for _ in range(100):
                    try:
                        self.wfile.write(b"x")
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(0.3)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", behaviour
    finally:
        server.shutdown()
        server.server_close()


def webhook(url: str, timeout: float = 1) -> Any:
    return parse_channel(
        "hook",
        {"type": "webhook", "timeout": timeout},
        {"SFOPS_ALERT_HOOK_URL": url, "SFOPS_ALERT_HOOK_SECRET": "s3cret"},
    )


def message() -> Any:
    return render(INCIDENT, "triggered", alias="emu")


@pytest.mark.parametrize(
    "url", ["http://alerts.example.invalid/hook", "ftp://alerts.example.invalid/hook", "alerts.example.invalid/hook"]
)
def test_a_url_that_is_not_https_is_refused_before_anything_is_sent(url: str) -> None:
    with pytest.raises(ConfigError, match="must be https://") as caught:
        send(webhook(url), INCIDENT, message())
    assert "example.invalid" not in caught.value.message  # the URL is a secret


def test_a_redirect_is_not_followed(slow_receiver: tuple[str, Behaviour]) -> None:
    url, behaviour = slow_receiver
    behaviour.mode = "redirect"
    with pytest.raises(DeliveryError, match="redirect, not followed"):
        send(webhook(url + "/hook"), INCIDENT, message())
    assert behaviour.requests == ["/hook"]


@pytest.mark.parametrize("mode", ["silent", "trickle"])
def test_a_slow_receiver_cannot_hold_a_delivery(slow_receiver: tuple[str, Behaviour], mode: str) -> None:
    url, behaviour = slow_receiver
    behaviour.mode = mode
    started = time.monotonic()
    if mode == "silent":  # no answer at all: the delivery fails (the outbox retries it)
        with pytest.raises(DeliveryError, match="ReadTimeout"):
            send(webhook(url + "/hook", timeout=1), INCIDENT, message())
    else:  # a 200 whose body trickles: delivered, the rest of the body is not waited for
        assert send(webhook(url + "/hook", timeout=1), INCIDENT, message()) == {"status": 200}
    assert time.monotonic() - started < 4


def test_incident_raise_is_not_held_up_by_a_slow_channel(
    emu: Any, tmp_path: Any, slow_receiver: tuple[str, Behaviour]
) -> None:
    import json

    from emulator_cli_support import emulator_cli_env

    from sfops.cli.app import invoke

    url, behaviour = slow_receiver
    behaviour.mode = "silent"
    env = {
        **emulator_cli_env(
            emu,
            tmp_path,
            extra_toml='[alerts.routes]\nP1 = ["hook"]\n[alerts.channels.hook]\ntype = "webhook"\ntimeout = 1\n',
        ),
        "SFOPS_ALERT_HOOK_URL": url + "/hook",
    }
    started = time.monotonic()
    code, out, err = invoke(["--json", "incident", "raise", "-s", "P1", "-m", "Checkout fails"], env)
    assert code == 0, err
    assert time.monotonic() - started < 8
    (note,) = json.loads(out)["result"]["notifications"]
    assert note["status"] == "retry" and "ReadTimeout" in note["error"]
