"""Helpers for tests and embedding: start an emulator in-process over HTTPS on a free port."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from sfops.emulator.app import Emulator, EmulatorSettings
from sfops.emulator.server import EmulatorServer


@dataclass
class RunningEmulator:
    """A started emulator: its URL, CA bundle, credentials and a control client."""

    server: EmulatorServer
    ca_bundle: str

    @property
    def emulator(self) -> Emulator:
        return self.server.emulator

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def settings(self) -> EmulatorSettings:
        return self.emulator.settings

    def session(self) -> requests.Session:
        """A requests.Session that trusts the emulator's CA (TLS verification stays on)."""
        s = requests.Session()
        s.verify = self.ca_bundle
        # REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE in the environment would override session.verify
        s.trust_env = False
        return s

    def control(self, method: str, name: str, json: Any = None) -> Any:
        """Call /__emulator__/<name> and return the decoded JSON."""
        resp = self.session().request(method, f"{self.url}/__emulator__/{name}", json=json, timeout=30)
        resp.raise_for_status()
        return resp.json()

    def faults(self, **spec: Any) -> Any:
        return self.control("POST", "faults", spec)

    def reset(self) -> None:
        self.control("POST", "reset")

    def login(self, username: str | None = None, password: str | None = None) -> dict[str, Any]:
        """An OAuth password-grant token for the seeded admin (or the given user)."""
        s = self.settings
        resp = self.session().post(
            f"{self.url}/services/oauth2/token",
            data={
                "grant_type": "password",
                "client_id": s.client_id,
                "client_secret": s.client_secret,
                "username": username or s.admin_username,
                "password": password or s.admin_password,
            },
            timeout=30,
        )
        resp.raise_for_status()
        return resp.json()

    def requests_journal(self, kind: str | None = None) -> list[dict[str, Any]]:
        suffix = f"requests?kind={kind}" if kind else "requests"
        return self.control("GET", suffix)["requests"]

    def org_config(self, alias: str = "emulator", auth: str = "password", **overrides: Any) -> Any:
        """An sfops OrgConfig for this emulator (ca_bundle = the emulator CA)."""
        from sfops.config import OrgConfig

        s = self.settings
        secrets = {"password": s.admin_password, "client_secret": s.client_secret}
        if auth == "token":
            secrets = {"access_token": self.login()["access_token"]}
        values: dict[str, Any] = {
            "alias": alias,
            "auth": auth,
            "login_url": self.url,
            "instance_url": self.url,
            "username": s.admin_username,
            "client_id": s.client_id,
            "ca_bundle": self.ca_bundle,
            "max_retries": 2,
            "connect_timeout": 5.0,
            "read_timeout": 30.0,
            "secrets": secrets,
        }
        values.update(overrides)
        return OrgConfig(**values)

    def stop(self) -> None:
        self.server.stop()


@contextmanager
def running_emulator(
    data_dir: Path | None = None, settings: EmulatorSettings | None = None, tls: bool = True, memory: bool = True
) -> Iterator[RunningEmulator]:
    """Start an emulator on a free port in a background thread; stop it on exit."""
    with tempfile.TemporaryDirectory(prefix="sfops-emu-") as tmp:
        base = Path(data_dir or tmp)
        store = ":memory:" if memory else base / "emulator.sqlite3"
        emu = Emulator(store, settings or EmulatorSettings(seed="demo"))
        server = EmulatorServer(emu, port=0, tls=tls, cert_dir=base / "certs").start()
        ca = str(server.certs.ca_cert) if server.certs else ""
        try:
            yield RunningEmulator(server, ca)
        finally:
            server.stop()


def make_jwt_keypair(directory: Path) -> tuple[Path, str]:
    """An RSA key and self-signed certificate for JWT bearer tests: (key file, certificate PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sfops jwt test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path = directory / "jwt-key.pem"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return key_path, cert.public_bytes(serialization.Encoding.PEM).decode()
