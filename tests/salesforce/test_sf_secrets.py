"""Secrets never reach logs, reprs or error messages."""

from __future__ import annotations

import logging

import pytest
import requests
from sf_fixtures import API, LOGIN, TOKEN, wire_bytes

from sfops.errors import AuthError, SfopsError
from sfops.salesforce import mask_token, redact

SECRET_PART = TOKEN.split("!")[1]


def test_mask_and_redact() -> None:
    assert mask_token(TOKEN) == "00D5e000000AbCd!****"
    assert mask_token("plainsecret") == "****"
    assert mask_token(None) == ""
    text = f"Authorization: Bearer {TOKEN}; <sessionId>{TOKEN}</sessionId> and {TOKEN}"
    cleaned = redact(text)
    assert SECRET_PART not in cleaned
    assert "00D5e000000AbCd!****" in cleaned
    assert redact("password=hunter22", "hunter22") == "password=****"


def test_no_secret_in_logs_reprs_or_errors(make_org, rsps, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    password, security_token = "Pa55-w0rd!x", "SECTOKEN123"
    session_token = "00DU0000000Ilbh!REDACTED_SESSION_ID"
    rsps.post(
        f"{LOGIN}/services/Soap/u/64.0", body=wire_bytes("soap-login-response-partner.xml"), content_type="text/xml"
    )
    base = "https://na12.salesforce.com/services/data/v64.0"
    rsps.get(f"{base}/limits/", status=503, body=f"echo {session_token}")
    rsps.get(f"{base}/limits/", body=requests.exceptions.ConnectionError(f"reset Bearer {session_token}"))
    rsps.get(
        f"{base}/limits/", status=401, body=wire_bytes("error-invalid-session-id.json"), content_type="application/json"
    )
    org = make_org(
        auth="password",
        username="ops@acme.com",
        max_retries=2,
        secrets={"password": password, "security_token": security_token},
    )
    with pytest.raises(SfopsError) as info:
        org.limits()
    shown = " ".join(
        [
            caplog.text,
            repr(org),
            repr(org.config),
            repr(org.tokens),
            repr(org.credentials),
            repr(org.session),
            repr(org.metadata),
            str(org.credentials),
            info.value.message,
            str(info.value.to_json()),
        ]
    )
    for secret in (password, security_token, "REDACTED_SESSION_ID"):
        assert secret not in shown
    assert "00DU0000000Ilbh!****" in repr(org.credentials)


def test_login_failure_message_does_not_echo_password(make_org, rsps) -> None:
    rsps.post(
        f"{LOGIN}/services/Soap/u/64.0",
        status=500,
        content_type="text/html",
        body="<html>error for password Pa55-w0rd!x</html>",
    )
    org = make_org(auth="password", username="u", secrets={"password": "Pa55-w0rd!x"})
    with pytest.raises(AuthError) as info:
        org.limits()
    assert "Pa55-w0rd!x" not in info.value.message


def test_rest_error_echoing_a_token_is_masked(org, rsps) -> None:
    rsps.get(f"{API}/limits/", status=400, json=[{"errorCode": "BAD", "message": f"token {TOKEN} rejected"}])
    with pytest.raises(SfopsError) as info:
        org.limits()
    assert SECRET_PART not in info.value.message
    assert "00D5e000000AbCd!****" in info.value.message
