"""The console's handler against the emulator: pages, read-only by default, sign-in, CSRF and Origin
refusals, production confirmation, and write actions leaving the CLI's records (actor '... (console)')."""

from __future__ import annotations

import re

import pytest

from sfops.errors import ConfigError
from sfops.incidents import records
from sfops.web.console import ConsoleConfig

pytestmark = pytest.mark.integration
WRITES = "[console]\nwrites = true\n"
TOKEN = "s3cret-console-token-for-tests"  # what the web_settings fixture puts in SFOPS_CONSOLE_TOKEN


def _csrf(page: bytes) -> str:
    found = re.search(rb'name="csrf" value="([0-9a-f]{64})"', page)
    assert found, "no CSRF field in the page"
    return found.group(1).decode()


def test_pages_are_read_only_by_default(web_settings, make_console, client_for, raise_incident) -> None:
    console = make_console(web_settings())  # a token in the environment alone does not enable writes
    inc = raise_incident(console, "emu", "Checkout <slow>")
    client = client_for(console)
    for path in ("/", "/org/emu", f"/incident/emu/{inc.id}", "/analytics?org=emu&period=all&bucket=week"):
        page = client.get(path)
        assert page.status == 200 and page.content_type.startswith("text/html"), path
        assert b'method="post"' not in page.body and b"<script" not in page.body, path
        assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert b"Checkout &lt;slow&gt;" in client.get("/org/emu").body
    refused = client.post(f"/incident/emu/{inc.id}/ack", {"note": "x"})
    assert refused.status == 403 and b"read-only" in refused.body
    assert client.get("/org/nope").status == 404
    assert client.get("/incident/emu/a03000000000000AAA").status == 404
    assert client.get("/analytics?period=2d").status == 400
    assert client.get("/login").status == 404  # no sign-in without writes


def test_writes_need_the_token_in_the_environment(web_settings, make_console, client_for) -> None:
    client = client_for(make_console(web_settings(WRITES, token=None)))
    assert client.post("/login", {"token": ""}).status == 403


def test_sign_in_csrf_origin_and_an_acknowledgement(web_settings, make_console, client_for, raise_incident) -> None:
    console = make_console(web_settings(WRITES))
    inc = raise_incident(console, "emu", "Payments failing")
    client = client_for(console)
    ack = f"/incident/emu/{inc.id}/ack"
    assert client.post(ack, {"note": "on it"}).status == 401  # not signed in
    wrong = client.post("/login", {"token": "guess"})
    assert wrong.status == 303 and wrong.headers["Location"].startswith("/login?err=")
    assert not client.cookies
    assert client.post("/login", {"token": TOKEN}, Origin="http://evil.example").status == 403
    signed = client.post("/login", {"token": TOKEN})
    assert signed.status == 303 and "HttpOnly; SameSite=Strict" in signed.headers["Set-Cookie"]
    page = client.get(f"/incident/emu/{inc.id}").body
    csrf = _csrf(page)
    assert b'id="ack-form"' in page and b'name="confirm"' not in page  # emu is not production
    missing = client.post(ack, {"note": "on it"})
    assert missing.status == 403 and b"CSRF" in missing.body
    assert client.post(ack, {"note": "on it", "csrf": "0" * 64}).status == 403
    assert client.post(ack, {"note": "on it", "csrf": csrf}, Origin="http://evil.example").status == 403
    stranger = client_for(console)  # another browser: its own session has its own CSRF token
    stranger.post("/login", {"token": TOKEN})
    assert stranger.post(ack, {"note": "x", "csrf": csrf}).status == 403
    assert records.load_incident(console.store, "emu", inc.id).status.value == "New"  # nothing changed so far
    done = client.post(ack, {"note": "on it", "csrf": csrf}, Origin="http://127.0.0.1:8766")
    assert done.status == 303 and "msg=" in done.headers["Location"], done.body
    assert records.load_incident(console.store, "emu", inc.id).status.value == "Triaged"
    events = records.events(console.store, "emu", inc.id)
    assert any(e["actor"] == "alice (console)" and e["status_to"] == "Triaged" for e in events)
    shown = client.get(done.headers["Location"]).body
    assert b'id="flash"' in shown and b"New -&gt; Triaged" in shown
    resolve = f"/incident/emu/{inc.id}/resolve"
    page = client.get(f"/incident/emu/{inc.id}").body
    assert b'id="ack-form"' not in page and b'id="resolve-form"' in page  # Triaged: only resolve is offered
    empty = client.post(resolve, {"resolution": " ", "csrf": csrf})
    assert empty.status == 303 and "err=" in empty.headers["Location"]  # the service's own rule, one line
    assert (
        client.post(resolve, {"resolution": "rolled back the trigger", "root_cause": "bad deploy", "csrf": csrf}).status
        == 303
    )
    resolved = records.load_incident(console.store, "emu", inc.id)
    assert resolved.status.value == "Resolved" and resolved.resolution == "rolled back the trigger"
    client.post("/logout", {"csrf": csrf})
    assert client.post(ack, {"csrf": csrf}).status == 401


def test_a_production_org_needs_the_alias_typed(web_settings, make_console, client_for) -> None:
    console = make_console(web_settings(WRITES))
    client = client_for(console)
    client.post("/login", {"token": TOKEN})
    page = client.get("/org/prod").body
    names = re.findall(rb'name="switch" value="([A-Za-z_0-9]+)"', page)
    assert names and b'name="confirm"' in page
    switch = names[0].decode()
    value = (
        re.search(rb'name="switch" value="' + names[0] + rb'"><input type="hidden" name="value" value="(on|off)"', page)
        .group(1)
        .decode()
    )
    form = {"switch": switch, "value": value, "reason": "INC test", "csrf": _csrf(page)}
    unconfirmed = client.post("/org/prod/switch", form)
    assert unconfirmed.status == 409 and b"production org" in unconfirmed.body
    assert console.store.audit_history(action_prefix="switch.") == []
    done = client.post("/org/prod/switch", {**form, "confirm": "prod"})
    assert done.status == 303 and "msg=" in done.headers["Location"], done.headers["Location"]
    [audit] = console.store.audit_history(action_prefix="switch.")
    assert audit.actor == "alice (console)" and audit.reason == "INC test" and audit.target.endswith(switch)
    refreshed = client.get("/org/prod").body  # the cache was dropped: the page shows the new value
    row = re.search(rb'<tr data-switch="' + names[0] + rb'">(.*?)</tr>', refreshed).group(1)
    assert (b'class="on">on' in row) == (value == "on")


def test_console_config_errors(web_settings) -> None:
    with pytest.raises(ConfigError, match="unknown key"):
        ConsoleConfig.from_settings(web_settings("[console]\nwrite = true\n"))
    with pytest.raises(ConfigError, match="writes must be true or false"):
        ConsoleConfig.from_settings(web_settings('[console]\nwrites = "yes"\n'))
