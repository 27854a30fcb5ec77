"""Hostile or broken answers end in one error line (or the JSON error envelope), never a traceback
(issue 15 items 12 and 13's paging guard). The fault proxy rewrites the org's answers; the CLI runs in-process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from emulator_cli_support import emulator_cli_env
from fault_proxy import FaultProxy, assert_one_error_line, proxied_cli_env

from sfops.cli.app import invoke

pytestmark = pytest.mark.integration
QUERY = "/services/data/*/query*"
JSON_HEADERS = {"Content-Type": "application/json;charset=UTF-8"}
BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
    b"<loginResponse><result><sessionId>&lol3;</sessionId></result></loginResponse></soapenv:Body>"
    b"</soapenv:Envelope>"
)


@pytest.fixture
def env(emu: Any, tmp_path: Path, proxy: FaultProxy) -> dict[str, str]:
    return proxied_cli_env(emulator_cli_env(emu, tmp_path), emu, proxy)


def page(next_url: str) -> bytes:
    return json.dumps({"totalSize": 4000, "done": False, "nextRecordsUrl": next_url, "records": []}).encode()


CASES = {
    "malformed JSON": ({"path": QUERY, "body": b'{"totalSize": 1, "records": [{"Id": '}, "Malformed JSON"),
    "deeply nested JSON": ({"path": QUERY, "body": b"[" * 200_000 + b"]" * 200_000}, "Malformed JSON"),
    "foreign-host nextRecordsUrl": (
        {"path": QUERY, "body": page("https://evil.example/services/data/v64.0/query/x")},
        "Refusing to send the org's token to https://evil.example",
    ),
    "the same nextRecordsUrl forever": (
        {"path": QUERY, "count": 100, "body": page("/services/data/v64.0/query/01gL-2000")},
        "twice: stopping a paging loop",
    ),
    "an XML bomb as the login answer": (
        {"path": "/services/Soap/u/*", "body": BOMB, "headers": {"Content-Type": "text/xml"}},
        "not XML sfops will read",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_one_error_line_and_a_json_envelope(env: dict[str, str], proxy: FaultProxy, case: str) -> None:
    spec, expected = CASES[case]
    rule = {"status": 200, "headers": JSON_HEADERS, **spec}  # answered by the proxy, never by the org
    proxy.add("respond", **rule)
    code, out, err = invoke(["incident", "list"], env)
    line = assert_one_error_line(code, out, err, expected_code=1)
    assert expected in line
    proxy.clear()
    proxy.add("respond", **rule)
    code, out, err = invoke(["--json", "incident", "list"], env)
    body = json.loads(out)
    assert code == 1 and body["status"] == 1 and expected in body["message"] and err == ""


def test_an_error_nothing_understood_is_still_one_line(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import IntegrityError

    from sfops.store import Store

    def collide(*args: Any, **kwargs: Any) -> Any:
        raise IntegrityError(
            "INSERT INTO state ...",
            {},
            Exception("duplicate key value violates unique constraint\nDETAIL: Key (key)=(x) already exists."),
        )

    monkeypatch.setattr(Store, "audit_history", collide)
    code, out, err = invoke(["switch", "history"], env)
    line = assert_one_error_line(code, out, err, expected_code=1)
    assert "Unexpected IntegrityError" in line and "duplicate key value" in line and "--debug" in line
    code, out, err = invoke(["--json", "switch", "history"], env)
    assert code == 1 and "Unexpected IntegrityError" in json.loads(out)["message"] and err == ""
    code, out, err = invoke(["--debug", "switch", "history"], env)
    assert code == 1 and "Traceback" in err


# --- item 13: bounds --------------------------------------------------------------------------------------------
def bounded_env(emu: Any, tmp_path: Path, proxy: FaultProxy, **keys: float) -> dict[str, str]:
    extra = "".join(f"{k} = {v}\n" for k, v in keys.items())
    env = proxied_cli_env(emulator_cli_env(emu, tmp_path), emu, proxy)
    config = Path(env["SFOPS_CONFIG"])
    config.write_text(
        config.read_text(encoding="utf-8").replace("max_retries = 2\n", f"max_retries = 2\n{extra}"), encoding="utf-8"
    )
    return env


def test_a_trickling_answer_hits_the_deadline(emu: Any, tmp_path: Path, proxy: FaultProxy) -> None:
    import time

    env = bounded_env(emu, tmp_path, proxy, request_deadline=2)
    proxy.add("trickle", path="/services/data/*/limits*", chunk=20, interval=0.25)  # about 40 s for the body
    started = time.monotonic()
    code, out, err = invoke(["limits", "show"], env)
    line = assert_one_error_line(code, out, err, expected_code=1)
    assert "did not finish within 2 s" in line and time.monotonic() - started < 15


def test_an_oversized_answer_is_refused_before_it_is_read(emu: Any, tmp_path: Path, proxy: FaultProxy) -> None:
    env = bounded_env(emu, tmp_path, proxy, max_response_mb=1)
    proxy.add(
        "respond",
        path="/services/data/*/limits*",
        status=200,
        headers=JSON_HEADERS,
        body=b'{"pad": "' + b"x" * (3 * 1024 * 1024) + b'"}',
    )
    code, out, err = invoke(["limits", "show"], env)
    line = assert_one_error_line(code, out, err, expected_code=1)
    assert "larger than 1 MB" in line


@pytest.mark.parametrize(
    "location",
    ["https://evil.example/services/data/v64.0/limits/", "http://localhost:{port}/services/data/v64.0/limits/"],
)
def test_a_redirect_off_the_org_is_refused(env: dict[str, str], proxy: FaultProxy, location: str) -> None:
    port = proxy.url.rsplit(":", 1)[1]
    proxy.add("respond", path="/services/data/*/limits*", status=302, headers={"Location": location.format(port=port)})
    code, out, err = invoke(["limits", "show"], env)
    line = assert_one_error_line(code, out, err, expected_code=1)
    assert "not followed" in line
    assert [h.path for h in proxy.hits if "limits" in h.path] == ["/services/data/v64.0/limits/"]  # asked once
