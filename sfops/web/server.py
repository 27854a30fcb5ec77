"""A small threaded HTTP server (standard library) dispatching to one handler function.

The agent's endpoints and the console are plain functions Request -> Response, so they are tested
without sockets and served here; no framework is needed for a handful of server-rendered pages.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from sfops.errors import UsageError

log = logging.getLogger("sfops.web")
MAX_BODY = 64 * 1024  # form posts only


class Headers(Protocol):
    """Case-insensitive header lookup (email.message.Message in the server, a dict in tests)."""

    def get(self, name: str, default: Any = None, /) -> Any: ...


@dataclass
class Request:
    """What a handler sees of a request."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Headers
    body: bytes = b""

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def form(self) -> dict[str, str]:
        """An application/x-www-form-urlencoded body (last value wins)."""
        return {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True).items()}

    def cookie(self, name: str) -> str | None:
        for part in (self.headers.get("Cookie") or "").split(";"):
            key, _, value = part.strip().partition("=")
            if key == name:
                return value
        return None


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def text(cls, status: int, text: str) -> Response:
        return cls(status, text.encode("utf-8"))

    @classmethod
    def html(cls, status: int, page: str, **headers: str) -> Response:
        return cls(status, page.encode("utf-8"), "text/html; charset=utf-8", dict(headers))


Handler = Callable[[Request], Response]


def parse_listen(text: str) -> tuple[str, int]:
    """'HOST:PORT', ':PORT' or 'PORT' (loopback) into (host, port); a UsageError otherwise."""
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = "", text
    host = host.strip("[]") or "127.0.0.1"
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise UsageError(f"--listen {text!r}: expected HOST:PORT, e.g. 127.0.0.1:9464.")
    return host, int(port_text)


class _Handler(BaseHTTPRequestHandler):
    handler: Handler
    server_version = "sfops"

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(Response.text(413, "Request body too large.\n"))
            return
        body = self.rfile.read(length) if length else b""
        request = Request(method, parts.path, parse_qs(parts.query), self.headers, body)
        try:
            response = self.handler(request)
        except Exception:  # one bad page must not take the server down
            log.exception("%s %s failed", method, parts.path)
            response = Response.text(500, "Internal error; see the agent's log.\n")
        self._send(response)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)


def make_server(host: str, port: int, handler: Handler) -> ThreadingHTTPServer:
    """A bound (not yet serving) server; a port that cannot be bound is a UsageError."""
    cls = type("BoundHandler", (_Handler,), {"handler": staticmethod(handler)})
    try:
        server = ThreadingHTTPServer((host, port), cls)
    except (OSError, OverflowError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"Cannot listen on {host}:{port}: {reason}.") from None
    server.daemon_threads = True
    return server


def serve_in_background(server: ThreadingHTTPServer) -> threading.Thread:
    """Serve on a daemon thread (stop with server.shutdown())."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="sfops-http", daemon=True
    )
    thread.start()
    return thread
