"""Fixtures for the detection tests: a settable clock starting at the real time (the emulator stamps its
records with the real clock), and the helpers in detect_support."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from clock_support import Clock


@pytest.fixture
def now_clock() -> Clock:
    return Clock(dt.datetime.now(dt.UTC).replace(microsecond=0))


@pytest.fixture
def hook() -> Iterator[list[dict[str, Any]]]:
    """A local webhook receiver: item 0 is {"url": ...}, then every JSON body received."""
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    got.append({"url": f"http://127.0.0.1:{server.server_address[1]}/hook"})
    try:
        yield got
    finally:
        server.shutdown()
