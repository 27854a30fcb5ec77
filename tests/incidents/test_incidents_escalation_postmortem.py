"""Escalation with an injected clock, and post-mortem drafts, against the emulator."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from clock_support import Clock
from incidents_support import ONCALL_SECTION, Mailbox, Receiver, alerts_section
from paths import REPO

from sfops.config import Settings
from sfops.incidents.escalation import escalate_due
from sfops.incidents.postmortem import ActionItem, add_business_days, draft, limits_hit, load_template
from sfops.incidents.postmortem_template import DEFAULT_TEMPLATE
from sfops.incidents.wiring import Incidents, build
from sfops.salesforce import Org
from sfops.store import Store

pytestmark = pytest.mark.integration


def _settings(raw: dict[str, Any], env: dict[str, str]) -> Settings:
    from pathlib import Path

    return Settings(
        orgs={}, default_org=None, config_path=Path("sfops.toml"), home=Path("."), store_url="", env=env, raw=raw
    )


@pytest.fixture
def wired(
    org: Org, store: Store, clock: Clock, receiver: Receiver, smtp_server: Mailbox, alerts_env: dict[str, str]
) -> Incidents:
    alerts = alerts_section(receiver, smtp_server)
    alerts["channels"]["secondary-email"] = {
        "type": "email",
        "smtp_host": smtp_server.host,
        "smtp_port": smtp_server.port,
        "from": "sfops@example.com",
    }
    alerts["escalation"] = {
        "severities": ["P1"],
        "levels": [
            {"after_minutes": 15, "channels": ["secondary-email"], "rotation": "secondary"},
            {"after_minutes": 30, "channels": ["hook"]},
        ],
    }
    return build(
        _settings({"alerts": alerts, "oncall": ONCALL_SECTION}, alerts_env),
        org,
        store,
        alias="emu",
        actor="agent",
        clock=clock,
    )


def test_unacknowledged_p1_escalates_level_by_level_once(
    wired: Incidents, clock: Clock, receiver: Receiver, smtp_server: Mailbox
) -> None:
    svc = wired.service
    p1 = svc.raise_incident("P1", "Payments down", dedup_key="pay").incident
    svc.raise_incident("P2", "Slow search", dedup_key="search")  # P2: not in escalation severities
    mails_after_raise = len(smtp_server.messages)
    clock.advance(minutes=10)
    assert escalate_due(svc, wired.notifier, wired.alerts) == []
    clock.advance(minutes=6)  # 16 min
    (fired,) = escalate_due(svc, wired.notifier, wired.alerts)
    assert fired["id"] == p1.id and fired["level"] == 1 and fired["statuses"] == ["sent"]
    mail = smtp_server.messages[mails_after_raise]
    # level 1 mails whoever is on call in the secondary rotation (week 2: dave)
    assert mail["rcpt"] == ["dave@example.com"]
    assert mail["msg"]["Subject"].startswith(f"[{p1.ref}] ESCALATION - P1 not acknowledged")
    clock.advance(minutes=1)
    assert escalate_due(svc, wired.notifier, wired.alerts) == []  # level 1 fires once
    clock.advance(minutes=14)  # 31 min
    (fired,) = escalate_due(svc, wired.notifier, wired.alerts)
    assert fired["level"] == 2
    escalation_hooks = [r for r in receiver.for_path("/hook") if r["json"]["event"] == "incident.escalation"]
    assert len(escalation_hooks) == 1 and escalation_hooks[0]["json"]["incident"]["id"] == p1.id
    _, timeline = svc.timeline(p1.id)
    assert [e.details.get("level") for e in timeline if e.kind == "escalated"] == [1, 2]


def test_acknowledging_stops_escalation(wired: Incidents, clock: Clock) -> None:
    svc = wired.service
    p1 = svc.raise_incident("P1", "Payments down", dedup_key="pay").incident
    clock.advance(minutes=5)
    svc.acknowledge(p1.id)
    clock.advance(minutes=60)
    assert escalate_due(svc, wired.notifier, wired.alerts) == []


def test_postmortem_draft_from_the_timeline(wired: Incidents, clock: Clock, store: Store) -> None:
    svc = wired.service
    inc = svc.raise_incident(
        "P1",
        "Order save fails: System.LimitException: Too many SOQL queries: 101",
        context="OrderTrigger line 40\nSystem.LimitException: Apex CPU time limit exceeded",
        category="Governor Limit",
        dedup_key="soql-101",
        release="R42",
        source="apex_exception",
    ).incident
    clock.advance(minutes=3)
    svc.acknowledge(inc.id)
    store.record_audit(
        actor="bob",
        alias="emu",
        action="switch.off",
        target="Kill_Switch__c.Order_Automation__c",
        before=True,
        after=False,
        reason="contain",
        incident_id=inc.id,
    )
    store.record_audit(
        actor="bob",
        alias="emu",
        action="rollback.deploy",
        target="R42",
        incident_id=inc.id,
        details={"release": "R42", "to_release": "R41"},
    )
    clock.advance(minutes=20)
    svc.resolve(inc.id, resolution="Rolled back R42 to R41", root_cause="SOQL in a loop in OrderTrigger")
    incident, timeline = svc.timeline(inc.id)
    due = dt.date(2026, 11, 20)
    text = draft(
        incident,
        timeline,
        authors="alice",
        action_items=[
            ActionItem.parse("Bulkify OrderTrigger;carol;2026-11-20", "alice", due),
            ActionItem.parse("Add a SOQL-count test", "alice", due),
        ],
    )
    assert text.startswith(f"# Post-mortem: {incident.ref} - Order save fails")
    for heading in (
        "## Summary",
        "## Impact",
        "## Timeline (UTC)",
        "## Root cause",
        "## What went well",
        "## What went badly",
        "## Action items",
        "## Salesforce specifics",
    ):
        assert heading in text
    assert "Time to acknowledge: 3 min." in text and "Time to resolve: 23 min." in text
    assert "**Release:** R42" in text
    assert "**Governor limits hit:** Queries, CpuTime" in text
    assert "Kill_Switch__c.Order_Automation__c" in text and "by bob" in text
    assert "**Rollback:** rollback.deploy R42" in text
    assert "| Bulkify OrderTrigger | carol | 2026-11-20 |" in text
    assert "| Add a SOQL-count test | alice | 2026-11-20 |" in text
    assert "SOQL in a loop in OrderTrigger" in text
    assert "A kill switch contained the impact without a deploy." in text
    # review due 5 business days after resolution (Mon 2 Nov -> Mon 9 Nov)
    assert "review due 2026-11-09" in text
    assert "$" not in text.replace("$name", "")  # every placeholder filled


def test_template_copy_in_docs_matches_the_packaged_default() -> None:
    assert (REPO / "docs" / "postmortem-template.md").read_text(encoding="utf-8") == DEFAULT_TEMPLATE


def test_template_override_and_helpers(tmp_path: Any) -> None:
    custom = tmp_path / "pm.md"
    custom.write_text("Incident $ref: $root_cause\n", encoding="utf-8")
    assert load_template(custom) == "Incident $ref: $root_cause\n"
    assert load_template(None) == DEFAULT_TEMPLATE
    assert add_business_days(dt.date(2026, 11, 6), 1) == dt.date(2026, 11, 9)  # Friday -> Monday
    with pytest.raises(Exception, match="does not exist"):
        load_template(tmp_path / "missing.md")
    with pytest.raises(Exception, match="YYYY-MM-DD"):
        ActionItem.parse("x;y;tomorrow", "a", dt.date(2026, 1, 1))


def test_limits_found_in_free_text() -> None:
    from sfops.incidents.model import Incident, Status

    inc = Incident(
        id="x",
        org="o",
        severity="P2",
        status=Status.NEW,
        summary="UNABLE_TO_LOCK_ROW on Account",
        context="Too many DML statements: 151",
    )
    assert limits_hit(inc, []) == ["Row lock (UNABLE_TO_LOCK_ROW)", "DmlStatements"]  # order of mention
