"""`sfops drill run` against the emulator: steady state, injection through the control endpoint, each stage
timed (detected, raised, paged, switch flipped, recovered), the steady state restored, a Markdown and JSON
report; a production org is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from emulator_cli_support import emulator_cli_env

from sfops.cli.app import invoke

RULES = """
[alerts.routes]
P2 = ["hook"]
[alerts.channels.hook]
type = "webhook"
[[detect.rules]]
name = "limit-exception-event"
actions = [{ type = "switch_off", switch = "New_Pricing__c" }]
"""


def test_drill_times_every_stage_and_restores_the_steady_state(
    emu: Any, tmp_path: Path, hook: list[dict[str, Any]]
) -> None:
    env = emulator_cli_env(emu, tmp_path, extra_toml=RULES)
    env["SFOPS_ALERT_HOOK_URL"] = hook[0]["url"]
    out_dir = tmp_path / "reports"
    out_dir.mkdir()
    code, out, err = invoke(
        ["drill", "run", "governor-limit", "--via", "control", "--out", str(out_dir), "--json"], env
    )
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


def test_the_domain_drill_never_addresses_a_control_endpoint_itself() -> None:
    # `--via control` needs the injector the CLI passes (the local emulator's endpoint); the domain has none
    from sfops.detect import load_config
    from sfops.detect.drill import DRILLS, run_drill
    from sfops.errors import UsageError

    with pytest.raises(UsageError, match="needs an injector"):
        run_drill(
            None,
            None,  # type: ignore[arg-type]
            load_config({}),
            alias="x",
            production=False,
            actor="t",
            incidents=lambda: None,
            drill=DRILLS["governor-limit"],
            via="control",
        )
