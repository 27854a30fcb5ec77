"""The five auth modes, each against recorded Salesforce login answers (or a fake `sf` CLI)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sf_fixtures import API, INSTANCE, LOGIN, wire_bytes

from sfops.errors import AuthError, ConfigError, SessionExpiredError
from sfops.salesforce.auth import _instance_of, jwt_audience

USERINFO = {
    "user_id": "005U0000000EApcIAG",
    "organization_id": "00DU0000000AlbhMAC",
    "preferred_username": "foo@bar.com",
}
TOKEN_URL = f"{LOGIN}/services/oauth2/token"


def _form(request) -> dict[str, str]:
    return {
        k: v[0] for k, v in parse_qs(request.body if isinstance(request.body, str) else request.body.decode()).items()
    }


# -- token ------------------------------------------------------------------------------------------
def test_token_mode_uses_the_given_token_and_cannot_refresh(org, rsps) -> None:
    rsps.get(f"{API}/limits/", json={"DailyApiRequests": {"Max": 15000, "Remaining": 14000}})
    assert org.limits()["DailyApiRequests"]["Max"] == 15000
    assert rsps.calls[0].request.headers["Authorization"].startswith("Bearer 00D5e000000AbCd!")
    rsps.get(
        f"{API}/sobjects", body=wire_bytes("error-invalid-session-id.json"), status=401, content_type="application/json"
    )
    with pytest.raises(SessionExpiredError) as info:
        org.describe_global()
    assert "cannot refresh" in info.value.message
    assert "SFOPS_ORG_ACME_ACCESS_TOKEN" in info.value.message
    assert len(rsps.calls) == 2  # no replay without a new token


def test_token_mode_needs_token_and_instance(make_org) -> None:
    with pytest.raises(ConfigError, match="SFOPS_ORG_ACME_ACCESS_TOKEN"):
        make_org(secrets={})
    with pytest.raises(ConfigError, match="instance_url"):
        make_org(instance_url=None)


def test_non_https_urls_are_refused(make_org) -> None:
    with pytest.raises(ConfigError, match="https"):
        make_org(instance_url="http://127.0.0.1:8443")


# -- jwt --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_jwt_bearer_posts_a_signed_assertion(make_org, rsps, rsa_key, tmp_path: Path) -> None:
    key_file = tmp_path / "server.key"
    key_file.write_bytes(
        rsa_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    rsps.post(TOKEN_URL, body=wire_bytes("oauth-token-response.json"), content_type="application/json")
    rsps.get("https://na1.salesforce.com/services/oauth2/userinfo", json=USERINFO)
    org = make_org(
        auth="jwt",
        client_id="3MVG9consumer",
        username="ops@acme.com",
        private_key_file=str(key_file),
        instance_url=None,
    )
    identity = org.identity
    form = _form(rsps.calls[0].request)
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(form["assertion"], rsa_key.public_key(), algorithms=["RS256"], audience=LOGIN)
    assert claims["iss"] == "3MVG9consumer" and claims["sub"] == "ops@acme.com"
    assert 170 <= claims["exp"] - time.time() <= 181
    assert org.instance_url == "https://na1.salesforce.com"  # from the token answer
    assert identity.org_id == "00DU0000000AlbhMAC" and identity.username == "foo@bar.com"


@pytest.mark.parametrize(
    ("login_url", "audience"),
    [
        ("https://login.salesforce.com", "https://login.salesforce.com"),
        ("https://acme.my.salesforce.com/", "https://login.salesforce.com"),
        ("https://test.salesforce.com", "https://test.salesforce.com"),
        ("https://acme--uat.sandbox.my.salesforce.com", "https://test.salesforce.com"),
        ("https://speed-1234.scratch.my.salesforce.com", "https://test.salesforce.com"),
        ("https://acme.force.com/customers", "https://acme.force.com/customers"),
        ("https://sso.example.test:8443", "https://sso.example.test:8443"),
    ],
)
def test_jwt_audience(login_url: str, audience: str) -> None:
    assert jwt_audience(login_url) == audience


def test_jwt_to_my_domain_keeps_the_login_audience(make_org, rsps, rsa_key, tmp_path: Path) -> None:
    key_file = tmp_path / "server.key"
    key_file.write_bytes(
        rsa_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    rsps.post(
        "https://acme--uat.sandbox.my.salesforce.com/services/oauth2/token",
        body=wire_bytes("oauth-token-response.json"),
        content_type="application/json",
    )
    rsps.get("https://na1.salesforce.com/services/data/v64.0/limits/", json={})
    org = make_org(
        auth="jwt",
        client_id="k",
        username="u@x.com",
        private_key_file=str(key_file),
        login_url="https://acme--uat.sandbox.my.salesforce.com",
    )
    org.limits()
    claims = jwt.decode(
        _form(rsps.calls[0].request)["assertion"],
        rsa_key.public_key(),
        algorithms=["RS256"],
        audience="https://test.salesforce.com",
    )
    assert claims["sub"] == "u@x.com"


def test_jwt_rejected_grant_is_an_auth_error(make_org, rsps, rsa_key, tmp_path: Path) -> None:
    key_file = tmp_path / "k.pem"
    key_file.write_bytes(
        rsa_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    rsps.post(
        TOKEN_URL, body=wire_bytes("oauth-token-error-invalid-grant.json"), status=400, content_type="application/json"
    )
    org = make_org(auth="jwt", client_id="k", username="u@x.com", private_key_file=str(key_file))
    with pytest.raises(AuthError, match="invalid_grant: authentication failure - Invalid Password"):
        org.limits()


def test_jwt_bad_key_file_is_a_config_error(make_org, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read private_key_file"):
        make_org(auth="jwt", client_id="k", username="u", private_key_file=str(tmp_path / "missing.pem"))
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    org = make_org(auth="jwt", client_id="k", username="u", private_key_file=str(bad))
    with pytest.raises(ConfigError, match="not a usable RSA private key"):
        org.limits()


# -- password (SOAP login) --------------------------------------------------------------------------
def test_password_login_with_security_token(make_org, rsps) -> None:
    rsps.post(
        f"{LOGIN}/services/Soap/u/64.0", body=wire_bytes("soap-login-response-partner.xml"), content_type="text/xml"
    )
    rsps.get("https://na12.salesforce.com/services/data/v64.0/limits/", json={})
    org = make_org(
        auth="password", username="foo@bar.com", secrets={"password": "p&ss<w>rd", "security_token": "TOK3N"}
    )
    org.limits()
    login = rsps.calls[0].request
    assert login.headers["SOAPAction"] == "login"
    body = login.body.decode()
    assert "<urn:password>p&amp;ss&lt;w&gt;rdTOK3N</urn:password>" in body
    assert "<urn:username>foo@bar.com</urn:username>" in body
    # serverUrl host na12-api.salesforce.com -> instance na12.salesforce.com
    assert org.instance_url == "https://na12.salesforce.com"
    assert rsps.calls[1].request.headers["Authorization"] == "Bearer 00DU0000000Ilbh!REDACTED_SESSION_ID"
    creds = org.credentials
    assert (creds.org_id, creds.user_id) == ("00DU0000000AlbhMAC", "005U0000000FGpcIAG")


def test_password_login_fault_gives_the_fault_message(make_org, rsps) -> None:
    rsps.post(
        f"{LOGIN}/services/Soap/u/64.0",
        body=wire_bytes("soap-login-fault-invalid-login.xml"),
        status=500,
        content_type="text/xml",
    )
    org = make_org(auth="password", username="foo@bar.com", secrets={"password": "hunter2"})
    with pytest.raises(AuthError) as info:
        org.limits()
    assert "INVALID_LOGIN: Invalid username, password, security token; or user locked out." in info.value.message
    assert "hunter2" not in info.value.message


def test_instance_of_server_url() -> None:
    assert _instance_of("https://na12-api.salesforce.com/services/Soap/u/23.0/00D") == "https://na12.salesforce.com"
    assert _instance_of("https://127.0.0.1:8443/services/Soap/u/64.0/00D") == "https://127.0.0.1:8443"
    assert _instance_of("https://acme.my.salesforce.com/services/Soap/u/64.0") == "https://acme.my.salesforce.com"


# -- client credentials -----------------------------------------------------------------------------
def test_client_credentials(make_org, rsps) -> None:
    rsps.post(TOKEN_URL, body=wire_bytes("oauth-token-response.json"), content_type="application/json")
    rsps.get("https://na1.salesforce.com/services/data/v64.0/limits/", json={"x": 1})
    org = make_org(auth="client_credentials", client_id="3MVGkey", secrets={"client_secret": "s3cr3t"})
    assert org.limits() == {"x": 1}
    assert _form(rsps.calls[0].request) == {
        "grant_type": "client_credentials",
        "client_id": "3MVGkey",
        "client_secret": "s3cr3t",
    }
    assert org.credentials.org_id == "00Dx0000000BV7z"  # from the id URL


def test_client_credentials_needs_secret_from_env(make_org) -> None:
    with pytest.raises(ConfigError, match="SFOPS_ORG_ACME_CLIENT_SECRET"):
        make_org(auth="client_credentials", client_id="k", secrets={})


# -- sf CLI -----------------------------------------------------------------------------------------
FAKE_SF = """#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_SF_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
calls = len(open(os.environ["FAKE_SF_LOG"]).read().splitlines())
target = args[args.index("--target-org") + 1]
if target != "acme-cli":
    print(json.dumps({{"status": 1, "name": "NamedOrgNotFoundError",
                      "message": "No authorization information found for " + target + ".", "exitCode": 1}}))
    sys.exit(1)
if args[:2] == ["org", "display"]:
    print("Warning: {{noise}} @salesforce/cli update available from 2.150.6 to 2.151.0.")
    print(json.dumps({{"status": 0, "result": {{
        "id": "00D5e000000AbCdEAK", "apiVersion": "64.0",
        "accessToken": "[REDACTED] Use 'sf org auth show-access-token' to view",
        "instanceUrl": "{instance}", "username": "ops@acme.com", "clientId": "PlatformCLI",
        "connectedStatus": "Connected", "alias": "acme-cli"}}, "warnings": []}}))
    print("trailing notice")
elif args[:3] == ["org", "auth", "show-access-token"]:
    print(json.dumps({{"status": 0, "result": {{"accessToken": "00D5e000000AbCd!CLITOKEN" + str(calls)}},
                      "warnings": []}}))
else:
    sys.exit(2)
"""


@pytest.fixture
def fake_sf(tmp_path: Path) -> tuple[Path, Path]:
    script = tmp_path / "sf"
    script.write_text(FAKE_SF.format(python=sys.executable, instance=INSTANCE))
    script.chmod(0o755)
    return script, tmp_path / "sf-calls.log"


def _calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_sfcli_display_then_show_access_token(make_org, rsps, fake_sf) -> None:
    script, log = fake_sf
    org = make_org(
        auth="sfcli", sf_alias="acme-cli", instance_url=None, env={"SFOPS_SF_BIN": str(script), "FAKE_SF_LOG": str(log)}
    )
    rsps.get(f"{API}/limits/", json={})
    org.limits()
    assert _calls(log) == [
        ["org", "display", "--target-org", "acme-cli", "--json"],
        ["org", "auth", "show-access-token", "--target-org", "acme-cli", "--json"],
    ]
    assert rsps.calls[0].request.headers["Authorization"] == "Bearer 00D5e000000AbCd!CLITOKEN2"
    assert org.credentials.username == "ops@acme.com"
    org.limits()
    assert len(_calls(log)) == 2  # cached


def test_sfcli_token_is_refetched_after_ttl_and_on_401(make_org, rsps, fake_sf) -> None:
    script, log = fake_sf
    org = make_org(auth="sfcli", sf_alias="acme-cli", env={"SFOPS_SF_BIN": str(script), "FAKE_SF_LOG": str(log)})
    now = [1000.0]
    org.tokens.clock = lambda: now[0]
    rsps.get(f"{API}/limits/", json={})
    org.limits()
    now[0] += org.tokens.authenticator.ttl + 1
    org.limits()
    assert len(_calls(log)) == 4
    assert rsps.calls[1].request.headers["Authorization"] == "Bearer 00D5e000000AbCd!CLITOKEN4"
    # a 401 makes it ask the CLI again and replay once
    rsps.get(
        f"{API}/sobjects", body=wire_bytes("error-invalid-session-id.json"), status=401, content_type="application/json"
    )
    rsps.get(f"{API}/sobjects", json={"sobjects": []})
    assert org.describe_global() == {"sobjects": []}
    assert len(_calls(log)) == 6
    assert rsps.calls[-1].request.headers["Authorization"] == "Bearer 00D5e000000AbCd!CLITOKEN6"


def test_sfcli_failure_is_reported_clearly(make_org, fake_sf) -> None:
    script, log = fake_sf
    org = make_org(auth="sfcli", sf_alias="nope", env={"SFOPS_SF_BIN": str(script), "FAKE_SF_LOG": str(log)})
    with pytest.raises(AuthError, match="No authorization information found for nope"):
        org.limits()


def test_sfcli_missing_binary(make_org, tmp_path: Path) -> None:
    org = make_org(auth="sfcli", env={"SFOPS_SF_BIN": str(tmp_path / "no-such-sf")})
    with pytest.raises(AuthError, match="SFOPS_SF_BIN"):
        org.limits()
