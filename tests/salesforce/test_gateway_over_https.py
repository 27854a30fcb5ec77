"""The gateway against the emulator over real HTTPS: every auth mode, retries, re-auth, limits.

The emulator's request journal counts what actually went over the wire, so these tests
prove call counts rather than assume them.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from sfops.emulator.app import EmulatorSettings
from sfops.emulator.testing import RunningEmulator, make_jwt_keypair, running_emulator
from sfops.errors import (
    AuthError,
    RequestLimitExceededError,
    SalesforceError,
    SessionExpiredError,
    TransientError,
)
from sfops.salesforce import connect

pytestmark = pytest.mark.integration
NO_SLEEP = {"sleep": lambda _s: None}


def data_calls(emulator: RunningEmulator) -> list[dict[str, Any]]:
    return [r for r in emulator.requests_journal() if r["path"].startswith("/services/data/")]


def test_password_auth_soap_login_then_query(emulator: RunningEmulator) -> None:
    org = connect(emulator.org_config(auth="password"), env={}, **NO_SLEEP)
    users = org.query("SELECT Id, Username FROM User WHERE IsActive = true")
    assert emulator.settings.admin_username in {u["Username"] for u in users}
    assert org.identity.username == emulator.settings.admin_username
    assert org.identity.org_id.startswith("00D") and len(org.identity.org_id) == 18
    assert any(r["path"].startswith("/services/Soap/u/") for r in emulator.requests_journal())


def test_wrong_password_is_a_clear_auth_error(emulator: RunningEmulator) -> None:
    config = emulator.org_config(auth="password")
    config = replace(config, secrets={"password": "wrong"})
    with pytest.raises(AuthError) as info:
        connect(config, env={}, **NO_SLEEP).query("SELECT Id FROM Organization")
    assert "INVALID_LOGIN" in info.value.message or "Invalid username" in info.value.message
    assert "wrong" not in info.value.message


def test_client_credentials_auth(emulator: RunningEmulator) -> None:
    org = connect(emulator.org_config(auth="client_credentials"), env={}, **NO_SLEEP)
    assert org.query("SELECT Id FROM Organization")[0]["Id"].startswith("00D")


def test_token_auth_and_expiry_without_refresh_is_a_clear_error(emulator: RunningEmulator) -> None:
    org = connect(emulator.org_config(auth="token"), env={}, **NO_SLEEP)
    assert org.limits()["DailyApiRequests"]["Max"] == emulator.settings.api_max
    emulator.faults(expire_sessions=True)
    with pytest.raises(SessionExpiredError):
        org.query("SELECT Id FROM Organization")


def test_jwt_bearer_signature_is_verified_against_the_connected_app_certificate(tmp_path: Path) -> None:
    key_file, cert_pem = make_jwt_keypair(tmp_path)
    (tmp_path / "other").mkdir()
    other_key, _ = make_jwt_keypair(tmp_path / "other")
    with running_emulator(tmp_path / "emu", EmulatorSettings(seed="demo", jwt_certificate=cert_pem)) as emu:
        good = connect(emu.org_config(auth="jwt", private_key_file=str(key_file)), env={}, **NO_SLEEP)
        assert good.identity.username == emu.settings.admin_username
        bad = connect(emu.org_config(auth="jwt", private_key_file=str(other_key)), env={}, **NO_SLEEP)
        with pytest.raises(AuthError):
            bad.query("SELECT Id FROM Organization")


CLOCK_VARIABLES = {"TZ", "LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_FAKE_MONOTONIC"}


def fake_sf(tmp_path: Path, emulator: RunningEmulator, calls: Path) -> Path:
    """An `sf` executable that answers like the real CLI does (token redacted in display)."""
    script = tmp_path / "sf"
    display = {
        "status": 0,
        "result": {
            "id": "00D000000000001AAA",
            "apiVersion": "64.0",
            "instanceUrl": emulator.url,
            "username": emulator.settings.admin_username,
            "connectedStatus": "Connected",
            "alias": "emu",
            "accessToken": "[REDACTED] Use 'sf org auth show-access-token' to view",
        },
        "warnings": [],
    }
    script.write_text(f"""#!{sys.executable}
import json, sys, urllib.request, ssl
open({str(calls)!r}, "a").write(" ".join(sys.argv[1:]) + "\\n")
if sys.argv[1:3] == ["org", "display"]:
    print(json.dumps({json.dumps(display)}))
else:
    ctx = ssl.create_default_context(cafile={emulator.ca_bundle!r})
    body = ("grant_type=password&client_id={emulator.settings.client_id}&client_secret="
            "{emulator.settings.client_secret}&username={emulator.settings.admin_username}&password="
            "{emulator.settings.admin_password}").encode()
    token = json.load(urllib.request.urlopen({emulator.url + "/services/oauth2/token"!r}, body, context=ctx))
    print(json.dumps({{"status": 0, "result": {{"accessToken": token["access_token"]}}}}))
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_sf_cli_auth_reuses_the_cli_and_refetches_on_expiry(tmp_path: Path, emulator: RunningEmulator) -> None:
    calls = tmp_path / "calls.log"
    sf = fake_sf(tmp_path, emulator, calls)
    # the fake `sf` runs with exactly this environment: it keeps the test's clock (a faked one under
    # scripts/suite-at-fake-dates.sh), or the emulator's certificate would not be valid yet for it
    clock_env = {k: v for k, v in os.environ.items() if k in CLOCK_VARIABLES}
    org = connect(
        emulator.org_config(auth="sfcli", sf_alias="emu", secrets={}),
        env={**clock_env, "SFOPS_SF_BIN": str(sf)},
        **NO_SLEEP,
    )
    assert org.query("SELECT Id FROM Organization")
    first = calls.read_text().splitlines()
    assert any(c.startswith("org display") and "--target-org emu" in c for c in first)
    assert any(c.startswith("org auth show-access-token") for c in first)
    emulator.faults(expire_sessions=True)
    assert org.query("SELECT Id FROM Organization")
    assert len(calls.read_text().splitlines()) > len(first), "expired token was not fetched again from sf"


def test_retries_injected_503s_on_idempotent_calls(emulator: RunningEmulator) -> None:
    org = connect(emulator.org_config(max_retries=3), env={}, **NO_SLEEP)
    org.query("SELECT Id FROM Organization")  # log in first
    before = len(data_calls(emulator))
    emulator.faults(
        fail={"count": 2, "status": 503, "errorCode": "SERVER_UNAVAILABLE", "path": "/services/data/*/query*"}
    )
    assert org.query("SELECT Id FROM Organization")
    assert len(data_calls(emulator)) - before == 3  # two 503s, then success


def test_persistent_503_gives_up_after_the_bound(emulator: RunningEmulator) -> None:
    org = connect(emulator.org_config(max_retries=2), env={}, **NO_SLEEP)
    org.query("SELECT Id FROM Organization")
    before = len(data_calls(emulator))
    emulator.faults(fail={"count": 50, "status": 503, "errorCode": "SERVER_UNAVAILABLE"})
    with pytest.raises(TransientError):
        org.query("SELECT Id FROM Organization")
    assert len(data_calls(emulator)) - before == 3  # 1 try + 2 retries


def test_reauthenticates_once_on_expired_session_and_replays(emulator: RunningEmulator) -> None:
    org = connect(emulator.org_config(auth="password"), env={}, **NO_SLEEP)
    org.query("SELECT Id FROM Organization")
    emulator.faults(expire_sessions=True)
    assert org.query("SELECT Id FROM Organization")
    logins = [r for r in emulator.requests_journal() if r["path"].startswith("/services/Soap/u/")]
    assert len(logins) == 2


def test_simple_salesforce_calls_through_the_gateway_also_reauthenticate(emulator: RunningEmulator) -> None:
    org = connect(emulator.org_config(auth="password"), env={}, **NO_SLEEP)
    org.query("SELECT Id FROM Organization")
    emulator.faults(expire_sessions=True)
    result = org.sf_call(org.sf.query, "SELECT Id FROM Organization")
    assert result["totalSize"] == 1


def test_no_retry_storm_on_request_limit_exceeded(emulator: RunningEmulator) -> None:
    org = connect(emulator.org_config(max_retries=4), env={}, **NO_SLEEP)
    org.query("SELECT Id FROM Organization")
    emulator.faults(api_usage={"used": emulator.settings.api_max, "max": emulator.settings.api_max})
    before = len(data_calls(emulator))
    with pytest.raises(RequestLimitExceededError) as info:
        org.query("SELECT Id FROM Organization")
    assert info.value.error_code == "REQUEST_LIMIT_EXCEEDED" and info.value.status == 403
    assert len(data_calls(emulator)) - before == 1


def test_api_usage_is_tracked_from_every_response(emulator: RunningEmulator) -> None:
    org = connect(emulator.org_config(), env={}, **NO_SLEEP)
    org.query("SELECT Id FROM Organization")
    first = org.api_usage
    org.describe("Kill_Switch__c")
    assert first is not None and org.api_usage is not None
    assert org.api_usage.used == first.used + 1 and org.api_usage.max == emulator.settings.api_max
    limits = org.limits()["DailyApiRequests"]
    assert limits["Max"] - limits["Remaining"] == org.api_usage.used


def test_query_iter_pages_with_batch_size(emulator: RunningEmulator) -> None:
    org = connect(emulator.org_config(), env={}, **NO_SLEEP)
    records = [{"attributes": {"type": "Error_Log__c"}, "Message__c": f"m{i}"} for i in range(450)]
    for start in range(0, len(records), 200):
        results = org.composite_sobjects("POST", records[start : start + 200])
        assert all(r["success"] for r in results)
    before = len([r for r in data_calls(emulator) if "/query" in r["path"]])
    seen = list(org.query_iter("SELECT Id FROM Error_Log__c", batch_size=200))
    pages = len([r for r in data_calls(emulator) if "/query" in r["path"]]) - before
    assert len(seen) == 450 and len({r["Id"] for r in seen}) == 450
    assert pages == 3


def test_ca_bundle_is_required_to_trust_the_local_org(emulator: RunningEmulator) -> None:
    org = connect(replace(emulator.org_config(), ca_bundle=None), env={}, **NO_SLEEP)
    with pytest.raises(SalesforceError) as info:
        org.query("SELECT Id FROM Organization")
    assert info.value.error_code == "TLS_VERIFY_FAILED" and "ca_bundle" in info.value.message
