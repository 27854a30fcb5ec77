"""TLS errors name the host and the remedy that fits: a hostname mismatch or an expired certificate is not
"set ca_bundle" (issue 15 item 18). The fault proxy serves certificates made here, in front of the emulator."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from emulator_cli_support import emulator_cli_env
from fault_proxy import FaultProxy, assert_one_error_line

from sfops.cli.app import invoke

pytestmark = pytest.mark.integration


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_certs(directory: Path, *, names: list[str], expired: bool = False) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for `names` (expired if asked): (ca.pem, cert.pem, key.pem)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("test CA"))
        .issuer_name(_name("test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=30))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [
        x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n) for n in names
    ]
    start, end = (
        (now - dt.timedelta(days=20), now - dt.timedelta(days=10))
        if expired
        else (now - dt.timedelta(days=1), now + dt.timedelta(days=10))
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


@pytest.fixture
def served(emu: Any, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[FaultProxy, Path]]:
    names, expired = request.param
    ca, cert, key = make_certs(tmp_path, names=names, expired=expired)
    proxy = FaultProxy(emu.url, emu.ca_bundle, str(cert), str(key)).start()
    try:
        yield proxy, ca
    finally:
        proxy.stop()


def run_through(emu: Any, tmp_path: Path, proxy: FaultProxy, ca_bundle: str) -> tuple[int, str, str]:
    env = emulator_cli_env(emu, tmp_path)
    config = Path(env["SFOPS_CONFIG"])
    config.write_text(
        config.read_text(encoding="utf-8").replace(emu.url, proxy.url).replace(emu.ca_bundle, ca_bundle),
        encoding="utf-8",
    )
    return invoke(["limits", "show"], env)


@pytest.mark.parametrize("served", [(["wrong.example"], False)], indirect=True)
def test_a_hostname_mismatch_says_check_the_url_not_set_ca_bundle(emu: Any, tmp_path: Path, served: Any) -> None:
    proxy, ca = served
    line = assert_one_error_line(*run_through(emu, tmp_path, proxy, str(ca)), expected_code=1)
    host = proxy.url.removeprefix("https://")
    assert host in line and "not valid for that name" in line and "Check the URL" in line
    assert "set ca_bundle" not in line


@pytest.mark.parametrize("served", [(["localhost", "127.0.0.1"], True)], indirect=True)
def test_an_expired_certificate_says_so(emu: Any, tmp_path: Path, served: Any) -> None:
    proxy, ca = served
    line = assert_one_error_line(*run_through(emu, tmp_path, proxy, str(ca)), expected_code=1)
    assert "outside its validity dates" in line and "set ca_bundle" not in line


@pytest.mark.parametrize("served", [(["localhost", "127.0.0.1"], False)], indirect=True)
def test_an_unknown_ca_says_set_ca_bundle(emu: Any, tmp_path: Path, served: Any) -> None:
    proxy, _ = served
    line = assert_one_error_line(*run_through(emu, tmp_path, proxy, emu.ca_bundle), expected_code=1)
    assert proxy.url.removeprefix("https://") in line and "set ca_bundle" in line
