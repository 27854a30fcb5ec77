"""Done when, driven by the agent alone (`sfops agent run --once`) against the emulator: failing logs and
exception events appear after a deploy -> one incident is raised and paged, the rule's switch is flipped and
the deploy is the first change listed; the next tick with more failures updates the same incident; when the
failures stop the incident is marked mitigated."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from changes_support import deploy_quote_guard
from detect_support import LIMIT_EXCEPTION, iso
from emulator_cli_support import emulator_cli_env

from sfops.cli.app import invoke

RULES = """
[alerts.routes]
P1 = ["hook"]
[alerts.channels.hook]
type = "webhook"
[[detect.rules]]
name = "limit-exception-event"
severity = "P1"
window = "15m"
actions = [{ type = "switch_off", switch = "New_Pricing__c" }]
"""


def agent_tick(env: dict[str, str], at: dt.datetime) -> list[dict[str, Any]]:
    code, out, err = invoke(["agent", "run", "--once", "--force", "--at", iso(at), "--json"], env)
    assert code in (0, 68), out + err
    return json.loads(out)["result"]


def test_the_agent_alone_detects_pages_flips_explains_updates_and_mitigates(
    emu: Any, org: Any, tmp_path: Path, hook: list[dict[str, Any]]
) -> None:
    env = emulator_cli_env(emu, tmp_path, production=["emu"], extra_toml=RULES)
    env["SFOPS_ALERT_HOOK_URL"] = hook[0]["url"]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    emu.control("POST", "clock", {"offset_seconds": -45 * 60})
    deploy_quote_guard(org)  # the deploy that precedes the failure, 45 minutes ago
    emu.control("POST", "clock", {"offset_seconds": 0})
    start = now - dt.timedelta(minutes=36)
    emu.control(
        "POST",
        "inject",
        {"exceptions": [{**LIMIT_EXCEPTION, "at": iso(start + dt.timedelta(seconds=i))} for i in range(3)]},
    )

    first = {a["job"]: a for a in agent_tick(env, start + dt.timedelta(minutes=1))}
    assert "limit-exception-event -> INC-00001" in first["errors-pull"]["summary"]
    triggered = [b for b in hook[1:] if b.get("event") == "incident.triggered"]
    assert len(triggered) == 1
    out = invoke(["incident", "show", "INC-00001", "--json"], env)[1]
    body = json.loads(out)["result"]
    changes = next(e for e in body["timeline"] if e["kind"] == "changes")["details"]["changes"]
    assert changes[0]["source"] == "DeployRequest" and changes[0]["touches"] == ["QuoteGuard"]
    assert any(e["kind"] == "switch.off" for e in body["timeline"])

    emu.control("POST", "inject", {"exceptions": [{**LIMIT_EXCEPTION, "at": iso(start + dt.timedelta(minutes=4))}]})
    second = {a["job"]: a for a in agent_tick(env, start + dt.timedelta(minutes=5))}
    assert "1 updated" in second["errors-pull"]["summary"] or "1 updated" in second["detect"]["summary"]
    out = invoke(["incident", "list", "--json"], env)[1]
    incidents = json.loads(out)["result"]
    assert len(incidents) == 1 and incidents[0]["occurrence_count"] == 2
    assert len([b for b in hook[1:] if b.get("event") == "incident.triggered"]) == 1  # updated, not paged again

    assert invoke(["incident", "ack", "INC-00001", "--at", iso(start + dt.timedelta(minutes=6))], env)[0] == 0
    agent_tick(env, start + dt.timedelta(minutes=26))  # last failure +4 min, out of the window at +19: quiet 7 < 15
    assert (
        json.loads(invoke(["incident", "show", "INC-00001", "--json"], env)[1])["result"]["incident"]["status"]
        == "Triaged"
    )
    agent_tick(env, start + dt.timedelta(minutes=35))  # quiet 16 >= clear_after
    assert (
        json.loads(invoke(["incident", "show", "INC-00001", "--json"], env)[1])["result"]["incident"]["status"]
        == "Mitigated"
    )
