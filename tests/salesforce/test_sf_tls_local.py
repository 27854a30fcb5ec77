"""Real HTTPS on loopback: a private CA via ca_bundle, verification failure, read timeouts.

A tiny threaded server with a certificate made here; no `responses` mocking, so the real
requests/urllib3 TLS and timeout paths run.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sfops.errors import SalesforceError, TransientError


def _certificate(tmp: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it: (ca.pem, server.pem, server.key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sfops test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem, cert_pem, key_pem = tmp / "ca.pem", tmp / "server.pem", tmp / "server.key"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_pem, cert_pem, key_pem


class _Handler(BaseHTTPRequestHandler):
    slow_paths: set[str] = set()
    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        if self.path.split("?")[0] in self.slow_paths:
            time.sleep(1.0)
        body = json.dumps({"DailyApiRequests": {"Max": 15000, "Remaining": 14990}}).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Sforce-Limit-Info", "api-usage=10/15000")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up (read timeout)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    ca_pem, cert_pem, key_pem = _certificate(tmp_path_factory.mktemp("tls"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_pem, key_pem)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", ca_pem
    finally:
        server.shutdown()
        server.server_close()


def test_private_ca_via_ca_bundle(make_org, https_server, monkeypatch: pytest.MonkeyPatch) -> None:
    url, ca_pem = https_server
    # requests would let these override session.verify; the org's ca_bundle must still win
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/nonexistent/ca.pem")
    org = make_org(instance_url=url, login_url=url, ca_bundle=str(ca_pem))
    assert org.limits()["DailyApiRequests"]["Max"] == 15000
    assert str(org.api_usage) == "10/15000"


def test_unknown_ca_fails_verification_with_a_hint(make_org, https_server, sleeps) -> None:
    url, _ = https_server
    org = make_org(instance_url=url, login_url=url)
    with pytest.raises(SalesforceError, match="ca_bundle") as info:
        org.limits()
    assert info.value.error_code == "TLS_VERIFY_FAILED"
    assert sleeps == []  # a certificate problem is not retried


def test_read_timeout_is_enforced_and_retried_for_get(make_org, https_server, sleeps) -> None:
    url, ca_pem = https_server
    _Handler.slow_paths = {"/services/data/v64.0/limits/"}
    _Handler.hits.clear()
    try:
        org = make_org(instance_url=url, login_url=url, ca_bundle=str(ca_pem), read_timeout=0.2, max_retries=1)
        with pytest.raises(TransientError, match="ReadTimeout"):
            org.limits()
    finally:
        _Handler.slow_paths = set()
    assert len(_Handler.hits) == 2 and len(sleeps) == 1
