"""PagerDuty Change Events: each newly collected org change is sent once to every PagerDuty channel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from changes_support import deploy_quote_guard

from sfops.changes import collect_changes, send_change_events
from sfops.config import load_settings


def test_org_changes_go_to_pagerduty_as_change_events_once(
    org: Any, store: Any, tmp_path: Path, hook: list[dict[str, Any]]
) -> None:
    config = tmp_path / "sfops.toml"
    config.write_text(f'[alerts.channels.pd]\ntype = "pagerduty"\nurl = "{hook[0]["url"]}/v2/enqueue"\n')
    settings = load_settings(
        {"SFOPS_ALERT_PD_ROUTING_KEY": "R0UTING", "SFOPS_DOTENV": str(tmp_path / "no.env"), "HOME": str(tmp_path)},
        config,
        tmp_path,
    )
    deploy_quote_guard(org)
    collected = collect_changes(org, store, "emu")
    deploys = [r for r in collected.new_rows if r["kind"] == "deploy"]
    assert len(deploys) == 1
    sent = send_change_events(settings, store, "emu", collected.new_rows)
    assert sent == len(collected.new_rows) >= 2  # the deploy and its Setup Audit Trail entries
    events = hook[1:]
    deploy_event = next(e for e in events if e["payload"]["custom_details"]["source"] == "DeployRequest")
    assert deploy_event["routing_key"] == "R0UTING" and deploy_event["payload"]["source"] == "salesforce:emu"
    assert "ApexClass:QuoteGuard" in deploy_event["payload"]["custom_details"]["components"]
    assert send_change_events(settings, store, "emu", collected.new_rows) == 0  # never twice
    assert len(hook) == 1 + sent
