"""The change history against the emulator: every deploy is a DeployRequest (Tooling) with its components and
Setup Audit Trail rows; collection is incremental; ranking puts the deploy touching the failing class first;
PagerDuty Change Events go out once per change."""

from __future__ import annotations

import datetime as dt
from typing import Any

from changes_support import deploy_quote_guard

from sfops.changes import apex_in_stack, collect_changes, list_changes
from sfops.changes.pagerduty import change_payload, change_url
from sfops.salesforce.soql import soql_literal


def test_a_deploy_is_collected_with_its_components_and_audit_trail(emu: Any, org: Any, store: Any) -> None:
    deploy_id = deploy_quote_guard(org)
    soql = f"SELECT Id, Status, CheckOnly FROM DeployRequest WHERE Id = {soql_literal(deploy_id)}"  # noqa: S608
    rows = org.tooling_query(soql)
    assert rows and rows[0]["Status"] == "Succeeded" and rows[0]["CheckOnly"] is False
    first = collect_changes(org, store, "emu")
    assert first.deploys_new >= 1 and first.audit_new >= 1
    again = collect_changes(org, store, "emu")
    assert (again.deploys_new, again.deploys_updated, again.audit_new) == (0, 0, 0)
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    ranked = list_changes(
        store,
        "emu",
        since=now - dt.timedelta(hours=1),
        until=now,
        stack_classes=apex_in_stack("Class.QuoteGuard.check: line 2, column 1"),
    )
    assert ranked[0].source == "DeployRequest" and ranked[0].id[:15] == deploy_id[:15]
    assert "ApexClass:QuoteGuard" in ranked[0].components and ranked[0].touches == ["QuoteGuard"]
    assert any(c.source == "SetupAuditTrail" and "QuoteGuard" in c.summary for c in ranked)


def test_stack_traces_name_classes_and_triggers() -> None:
    assert apex_in_stack(
        "Class.QuoteGuard.needsReview: line 4, column 1\nTrigger.QuoteTrigger: line 2, column 1", "QuoteService.run()"
    ) == ["QuoteGuard", "QuoteTrigger", "QuoteService"]


def test_pagerduty_change_event_shape_and_endpoint() -> None:
    row = {
        "id": "0Af000000000001",
        "at": dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC),
        "kind": "deploy",
        "status": "Succeeded",
        "who": "Release Bot",
        "summary": "Deployment Succeeded: 2 component(s)",
        "components": ["ApexClass:QuoteGuard"],
    }
    body = change_payload(row, "KEY", org="prod")
    assert body["routing_key"] == "KEY" and body["payload"]["timestamp"] == "2026-03-01T09:00:00+00:00"
    assert body["payload"]["source"] == "salesforce:prod"
    assert body["payload"]["custom_details"]["components"] == ["ApexClass:QuoteGuard"]
    assert change_url({}) == "https://events.pagerduty.com/v2/change/enqueue"
    assert (
        change_url({"url": "https://events.eu.pagerduty.com/v2/enqueue"})
        == "https://events.eu.pagerduty.com/v2/change/enqueue"
    )
