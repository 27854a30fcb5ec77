"""A small fault-injecting HTTPS proxy for reliability tests: it sits between a client and the emulator.

The emulator's own faults (sfops/emulator/faults.py) fail or drop a request *before* the org acts on
it. A real network also loses replies *after* the org applied a write, cuts bodies short, trickles,
corrupts and redirects; this proxy does those. It serves TLS with the emulator's own server
certificate (so the client trusts it through the same ca_bundle), forwards every request to the
emulator, and rewrites the emulator's origin in answers to its own (SOAP serverUrl, OAuth
instance_url), so a client that logs in through the proxy keeps talking through it.

Rules are matched in order, on method and a glob of the path; each applies `count` times:

    proxy.add("lose_reply", method="POST", path="*/sobjects/Incident_Log__c*")  # applied, reply lost
    proxy.add("lose_reply", path="/services/Soap/m/*", soap_action="deploy")  # one SOAP operation
    proxy.add("truncate", path="*/ApexLog/*/Body", keep=10)       # first 10 bytes, then the socket closes
    proxy.add("corrupt", path="*/query*", body=b"{not json")     # the org's status, another body
    proxy.add("respond", status=302, headers={"Location": "https://evil.example/"})   # never forwarded
    proxy.add("trickle", path="*/limits*", chunk=1, interval=0.5)  # the body a byte at a time
"""

from __future__ import annotations

import contextlib
import fnmatch
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import requests

ACTIONS = ("lose_reply", "truncate", "corrupt", "respond", "trickle")


@dataclass
class Rule:
    """One fault: what, on which requests, how many more times."""

    action: str
    method: str | None = None
    path: str | None = None
    count: int = 1
    status: int | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    keep: int = 0
    chunk: int = 1
    interval: float = 0.1
    skip: int = 0  # let this many matching requests pass before the rule fires
    soap_action: str | None = None  # a SOAP operation (its SOAPAction header): one endpoint serves them all

    def matches(self, method: str, path: str, soap_action: str = "") -> bool:
        if self.count <= 0:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        if self.soap_action and self.soap_action != soap_action.strip('"'):
            return False
        return not (self.path and not fnmatch.fnmatchcase(path, self.path))


@dataclass
class Hit:
    """A request the proxy saw, and the fault it applied (None = passed through)."""

    method: str
    path: str
    action: str | None
    status: int | None


class FaultProxy:
    """The proxy's state: its URL, the rules and what it saw."""

    def __init__(self, upstream: str, ca_bundle: str, cert: str, key: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.ca_bundle = ca_bundle
        self.rules: list[Rule] = []
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert, key)
        self.httpd = _Server(("127.0.0.1", 0), self, context)
        self.url = f"https://localhost:{self.httpd.server_address[1]}"
        self._upstream = requests.Session()
        self._upstream.verify = ca_bundle
        self._upstream.trust_env = False
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fault-proxy", daemon=True
        )

    def add(self, action: str, **spec: Any) -> Rule:
        """Add a fault rule (see the module docstring); returns it (its `count` goes down as it fires)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown proxy action {action}")
        rule = Rule(action, **spec)
        with self.lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()
            self.hits.clear()

    def faults_applied(self, action: str | None = None) -> list[Hit]:
        return [h for h in self.hits if h.action and (action is None or h.action == action)]

    def take(self, method: str, path: str, soap_action: str = "") -> Rule | None:
        with self.lock:
            for rule in self.rules:
                if rule.matches(method, path, soap_action):
                    if rule.skip > 0:
                        rule.skip -= 1
                        continue
                    rule.count -= 1
                    return rule
        return None

    def forward(self, method: str, path_qs: str, headers: dict[str, str], body: bytes) -> requests.Response:
        send = {
            k: v
            for k, v in headers.items()
            if k.lower() not in ("host", "content-length", "accept-encoding", "connection")
        }
        send["Accept-Encoding"] = "identity"
        return self._upstream.request(
            method, self.upstream + path_qs, headers=send, data=body or None, allow_redirects=False, timeout=60
        )

    def rewrite(self, body: bytes) -> bytes:
        return body.replace(self.upstream.encode(), self.url.encode())

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)
        self._upstream.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], proxy: FaultProxy, context: ssl.SSLContext) -> None:
        self.proxy = proxy
        self.context = context
        super().__init__(addr, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        return self.context.wrap_socket(sock, server_side=True), addr


_HOP = ("content-length", "transfer-encoding", "connection", "content-encoding", "keep-alive")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        proxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        rule = proxy.take(self.command, path, self.headers.get("SOAPAction") or "")
        if rule is not None and rule.action == "respond":
            proxy.hits.append(Hit(self.command, path, rule.action, rule.status))
            self._send(rule.status or 200, rule.headers, rule.body)
            return
        upstream = proxy.forward(self.command, self.path, dict(self.headers.items()), body)
        content = proxy.rewrite(upstream.content)
        headers = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP}
        proxy.hits.append(Hit(self.command, path, rule.action if rule else None, upstream.status_code))
        if rule is None:
            self._send(upstream.status_code, headers, content)
        elif rule.action == "lose_reply":
            self._cut()
        elif rule.action == "truncate":
            self._send(upstream.status_code, headers, content[: rule.keep], length=len(content))
            self._cut()
        elif rule.action == "corrupt":
            self._send(upstream.status_code, headers, rule.body)
        elif rule.action == "trickle":
            self._send(upstream.status_code, headers, b"", length=len(content))
            for start in range(0, len(content), rule.chunk):
                try:
                    self.wfile.write(content[start : start + rule.chunk])
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(rule.interval)

    def _send(self, status: int, headers: dict[str, str], body: bytes, length: int | None = None) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)
            self.wfile.flush()

    def _cut(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve


@contextlib.contextmanager
def fault_proxy(emulator: Any) -> Iterator[FaultProxy]:
    """A proxy in front of a RunningEmulator (tests/conftest.py), stopped on exit."""
    certs = emulator.server.certs
    proxy = FaultProxy(emulator.url, emulator.ca_bundle, str(certs.server_cert), str(certs.server_key)).start()
    try:
        yield proxy
    finally:
        proxy.stop()


def proxied_cli_env(env: dict[str, str], emulator: Any, proxy: FaultProxy) -> dict[str, str]:
    """A copy of an emulator_cli_env whose sfops.toml points at the proxy instead of the emulator."""
    from pathlib import Path

    config = Path(env["SFOPS_CONFIG"])
    config.write_text(config.read_text(encoding="utf-8").replace(emulator.url, proxy.url), encoding="utf-8")
    return dict(env)


def assert_one_error_line(code: int, out: str, err: str, *, expected_code: int | None = None) -> str:
    """A failed command printed exactly one error line and no traceback; returns that line."""
    if expected_code is not None:
        assert code == expected_code, (code, out, err)
    else:
        assert code != 0, (code, out, err)
    assert "Traceback" not in out + err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]
