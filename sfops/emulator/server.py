"""The HTTP(S) server: a ThreadingHTTPServer speaking HTTP/1.1 keep-alive, TLS via ssl.

`EmulatorServer(emulator, port=0, tls_dir=...)` binds; `.start()` serves in a daemon thread,
`.serve_forever()` in the caller's thread; `.url` is the instance URL; `.stop()` shuts down.
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import ssl
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sfops.emulator.app import Emulator
from sfops.emulator.certs import CertPaths, ensure_certs
from sfops.emulator.wire import Request

MAX_BODY = 200 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sfops-emulator"
    sys_version = ""
    server: _Server

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(30)
            self.request.do_handshake()
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        return  # the journal records requests; no stderr noise

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(chunks)
        else:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                raise ValueError("body too large")
            body = self.rfile.read(length) if length else b""
        encoding = self.headers.get("Content-Encoding", "").lower()
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        return body

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except (ValueError, OSError, EOFError):
            self.send_error(400, "Bad request body")
            return
        split = urlsplit(self.path)
        req = Request(
            self.command,
            split.path,
            dict(parse_qsl(split.query, keep_blank_values=True)),
            {k.lower(): v for k, v in self.headers.items()},
            body,
        )
        resp = self.server.emulator.dispatch(req)
        if resp.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(resp.status)
        for key, value in resp.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if self.command != "HEAD" and resp.body:
            self.wfile.write(resp.body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr: tuple[str, int], emulator: Emulator, context: ssl.SSLContext | None) -> None:
        self.emulator = emulator
        self.context = context
        super().__init__(addr, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        # headers and body go out in separate writes: without NODELAY, Nagle + delayed ACK adds ~40 ms
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.context is not None:
            # handshake in the worker thread (setup), not in the accept loop
            sock = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # client disconnects and TLS failures are not server errors


class EmulatorServer:
    """An Emulator bound to a port, over HTTPS (default) or plain HTTP."""

    def __init__(
        self,
        emulator: Emulator,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tls: bool = True,
        cert_dir: Path | None = None,
    ) -> None:
        self.emulator = emulator
        self.certs: CertPaths | None = None
        context = None
        if tls:
            if cert_dir is None:
                raise ValueError("cert_dir is required for TLS")
            self.certs = ensure_certs(cert_dir)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(self.certs.server_cert, self.certs.server_key)
        self.httpd = _Server((host, port), emulator, context)
        self.host = host
        self.port = self.httpd.server_address[1]
        emulator.scheme = "https" if tls else "http"
        emulator.host = "localhost" if host in ("127.0.0.1", "0.0.0.0", "localhost") else host  # noqa: S104
        emulator.port = self.port
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self.emulator.base_url

    def start(self) -> EmulatorServer:
        """Serve in a background daemon thread."""
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="sfops-emulator", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.emulator.save_meta()
