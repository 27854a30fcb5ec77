"""Resilience: timeouts, retries with backoff, Retry-After, no retry of REQUEST_LIMIT_EXCEEDED,
bounded re-authentication, TLS settings."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from sf_fixtures import API, INSTANCE, LOGIN, wire_bytes

from sfops.errors import ConfigError, RequestLimitExceededError, SalesforceError, SessionExpiredError, TransientError
from sfops.salesforce.session import OrgSession, RetryPolicy, retry_after_seconds

SESSION_EXPIRED = {
    "body": wire_bytes("error-invalid-session-id.json"),
    "status": 401,
    "content_type": "application/json",
}
TOKEN_ANSWER = {"body": wire_bytes("oauth-token-response.json"), "content_type": "application/json"}
CC_API = "https://na1.salesforce.com/services/data/v64.0"


def _cc_org(make_org):
    return make_org(auth="client_credentials", client_id="k", secrets={"client_secret": "s"}, max_retries=3)


def test_timeouts_from_config_on_every_request(make_org, rsps) -> None:
    org = make_org(connect_timeout=3.5, read_timeout=42.0)
    rsps.get(f"{API}/limits/", json={})
    org.limits()
    org.sf.restful("limits/")
    assert [c.request.req_kwargs["timeout"] for c in rsps.calls] == [(3.5, 42.0), (3.5, 42.0)]


def test_get_is_retried_on_503_then_succeeds(org, rsps, sleeps) -> None:
    rsps.get(f"{API}/limits/", status=503, body="busy")
    rsps.get(f"{API}/limits/", status=502, body="bad gateway")
    rsps.get(f"{API}/limits/", json={"ok": True})
    assert org.limits() == {"ok": True}
    assert len(rsps.calls) == 3
    assert len(sleeps) == 2
    # equal jitter: attempt n waits between half and all of base * 2**n
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0


def test_retry_after_is_honoured_for_429(org, rsps, sleeps) -> None:
    rsps.get(f"{API}/limits/", status=429, body="slow down", headers={"Retry-After": "7"})
    rsps.get(f"{API}/limits/", json={})
    org.limits()
    assert sleeps == [7.0]


def test_retries_are_bounded_by_max_retries(make_org, rsps, sleeps) -> None:
    org = make_org(max_retries=2)
    rsps.get(f"{API}/limits/", status=504, body="timeout")
    with pytest.raises(TransientError) as info:
        org.limits()
    assert len(rsps.calls) == 3 and len(sleeps) == 2
    assert info.value.status == 504


def test_post_is_not_retried_on_503(org, rsps, sleeps) -> None:
    rsps.post(f"{API}/sobjects/Account/", status=503, body="busy")
    with pytest.raises(TransientError):
        org.create("Account", {"Name": "x"})
    assert len(rsps.calls) == 1 and sleeps == []


def test_explicitly_idempotent_post_is_retried(org, rsps, sleeps) -> None:
    rsps.post(f"{API}/composite", status=503, body="busy")
    rsps.post(f"{API}/composite", json={"compositeResponse": []})
    assert org.request("POST", "composite", json={}, idempotent=True) == {"compositeResponse": []}
    assert len(sleeps) == 1


def test_request_limit_exceeded_is_never_retried(org, rsps, sleeps) -> None:
    rsps.get(
        f"{API}/limits/",
        status=403,
        json=[{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
    )
    with pytest.raises(RequestLimitExceededError) as info:
        org.limits()
    assert len(rsps.calls) == 1 and sleeps == []
    assert info.value.error_code == "REQUEST_LIMIT_EXCEEDED" and info.value.status == 403


def test_connection_errors_are_retried_then_reported(org, rsps, sleeps) -> None:
    rsps.get(f"{API}/limits/", body=requests.exceptions.ConnectionError("connection reset"))
    with pytest.raises(TransientError, match="gave up after 5 attempt"):
        org.limits()
    assert len(sleeps) == 4


def test_connect_timeout_is_retried_even_for_post(org, rsps, sleeps) -> None:
    rsps.post(f"{API}/sobjects/Account/", body=requests.exceptions.ConnectTimeout("no route"))
    rsps.post(f"{API}/sobjects/Account/", json={"id": "001000000000001AAA", "success": True, "errors": []}, status=201)
    assert org.create("Account", {"Name": "x"}) == "001000000000001AAA"
    assert len(sleeps) == 1


def test_read_timeout_on_post_is_not_retried(org, rsps, sleeps) -> None:
    rsps.post(f"{API}/sobjects/Account/", body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(TransientError):
        org.create("Account", {"Name": "x"})
    assert sleeps == []


def test_401_reauthenticates_and_replays_with_the_new_token(make_org, rsps) -> None:
    org = _cc_org(make_org)
    rsps.post(f"{LOGIN}/services/oauth2/token", **TOKEN_ANSWER)
    rsps.get(f"{CC_API}/limits/", **SESSION_EXPIRED)
    rsps.get(f"{CC_API}/limits/", json={"fine": 1})
    assert org.limits() == {"fine": 1}
    token_posts = [c for c in rsps.calls if c.request.url.endswith("/oauth2/token")]
    assert len(token_posts) == 2  # first login + one re-login
    assert org.tokens.fetch_count == 2


def test_reauth_is_bounded_when_the_org_keeps_answering_401(make_org, rsps) -> None:
    """simple-salesforce alone recursed ~1,900 times here; we stop after 2 re-logins per call."""
    org = _cc_org(make_org)
    rsps.post(f"{LOGIN}/services/oauth2/token", **TOKEN_ANSWER)
    rsps.get(f"{CC_API}/limits/", **SESSION_EXPIRED)
    with pytest.raises(SessionExpiredError) as info:
        org.limits()
    api_calls = [c for c in rsps.calls if "/services/data/" in c.request.url]
    assert len(api_calls) == 3  # the call + 2 replays
    assert org.tokens.fetch_count == 3
    assert info.value.status == 401 and info.value.error_code == "INVALID_SESSION_ID"


def test_reauth_bound_also_holds_for_simple_salesforce_calls(make_org, rsps) -> None:
    org = _cc_org(make_org)
    rsps.post(f"{LOGIN}/services/oauth2/token", **TOKEN_ANSWER)
    rsps.get(f"{CC_API}/sobjects/Account/001000000000001AAA", **SESSION_EXPIRED)
    with pytest.raises(SessionExpiredError):
        org.sf_call(org.sf.Account.get, "001000000000001AAA")
    assert len([c for c in rsps.calls if "/sobjects/" in c.request.url]) == 3


def test_ca_bundle_sets_verify_and_missing_bundle_is_refused(make_org, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert make_org(ca_bundle=str(bundle)).session.verify == str(bundle)
    assert make_org().session.verify is True
    with pytest.raises(ConfigError, match="does not exist"):
        make_org(ca_bundle=str(tmp_path / "nope.pem"))


def test_verification_cannot_be_turned_off(org) -> None:
    with pytest.raises(ValueError):
        OrgSession(timeout=(1, 1), verify=False)
    with pytest.raises(ValueError):
        org.session.request("GET", f"{INSTANCE}/x", verify=False)


def test_tls_failure_has_a_clear_message(org, rsps) -> None:
    rsps.get(f"{API}/limits/", body=requests.exceptions.SSLError("CERTIFICATE_VERIFY_FAILED"))
    with pytest.raises(SalesforceError, match="ca_bundle") as info:
        org.limits()
    assert info.value.error_code == "TLS_VERIFY_FAILED"


def test_retry_after_parsing_and_policy_caps() -> None:
    assert retry_after_seconds("12") == 12.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=lambda: 1445412480.0) == 10.0
    assert retry_after_seconds("garbage") is None
    assert retry_after_seconds(None) is None
    policy = RetryPolicy(backoff_base=1, backoff_max=8, retry_after_max=60)
    assert policy.delay(10, rand=lambda: 1.0) == 8.0
    assert policy.delay(0, retry_after=1000) == 60.0
    assert policy.delay(3, rand=lambda: 0.0) == 4.0


def test_a_refresh_already_done_by_another_caller_is_reused(make_org, rsps) -> None:
    org = _cc_org(make_org)
    rsps.post(f"{LOGIN}/services/oauth2/token", json={"access_token": "00Dx0000000BV7z!NEW", "instance_url": INSTANCE})
    first = org.tokens.current()
    assert org.tokens.refresh("00Dx0000000BV7z!SOMEOLDTOKEN") is first  # someone else refreshed already
    assert org.tokens.fetch_count == 1
    org.tokens.refresh(first.access_token)
    assert org.tokens.fetch_count == 2
