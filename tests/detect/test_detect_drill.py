"""`sfops drill run` against the emulator: steady state, injection through the control endpoint, each stage
timed (detected, raised, paged, switch flipped, recovered), the steady state restored, a Markdown and JSON
report; a production org is refused."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from emulator_cli_support import emulator_cli_env

from sfops.cli.app import invoke


@pytest.fixture
def hook() -> Iterator[list[dict[str, Any]]]:
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    got.append({"url": f"http://127.0.0.1:{server.server_address[1]}/hook"})
    try:
        yield got
    finally:
        server.shutdown()


RULES = """
[alerts.routes]
P2 = ["hook"]
[alerts.channels.hook]
type = "webhook"
[[detect.rules]]
name = "limit-exception-event"
actions = [{ type = "switch_off", switch = "New_Pricing__c" }]
"""


def test_drill_times_every_stage_and_restores_the_steady_state(emu: Any, tmp_path: Path,
                                                               hook: list[dict[str, Any]]) -> None:
    env = emulator_cli_env(emu, tmp_path, extra_toml=RULES)
    env["SFOPS_ALERT_HOOK_URL"] = hook[0]["url"]
    out_dir = tmp_path / "reports"
    out_dir.mkdir()
    code, out, err = invoke(["drill", "run", "governor-limit", "--via", "control", "--out", str(out_dir), "--json"],
                            env)
    assert code == 0, out + err
    report = json.loads(out)["result"]["report"]
    stages = {s["name"]: s for s in report["stages"]}
    assert set(stages) == {"detected", "raised", "paged", "switch_flipped", "recovered"}
    assert all(s["passed"] and s["seconds"] is not None for s in stages.values()), stages
    assert report["steady_state_before"] == report["steady_state_after"] == {"open_incidents": 0}
    assert any("undid automatic action" in r for r in report["rollbacks"])
    assert any(body.get("event") == "incident.triggered" for body in hook[1:])
    code, out, _ = invoke(["switch", "list", "--json"], env)
    switches = {s["name"]: s for s in json.loads(out)["result"]}
    assert switches["New_Pricing__c"]["org_value"] is True  # restored
    md = next(out_dir.glob("drill-governor-limit-*.md")).read_text()
    assert "## Steady-state hypothesis" in md and "| detected |" in md and "PASSED" in md
    assert json.loads(next(out_dir.glob("drill-governor-limit-*.json")).read_text())["passed"] is True


def test_drill_refuses_a_production_org(emu: Any, tmp_path: Path) -> None:
    env = emulator_cli_env(emu, tmp_path, production=["emu"])
    code, _, err = invoke(["drill", "run", "governor-limit", "--via", "control"], env)
    assert code == 2 and "production org" in err
    code, _, err = invoke(["drill", "run", "nope"], env)
    assert code == 2 and "Unknown drill 'nope'" in err
