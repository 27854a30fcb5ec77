"""The incident timeline merges audit records that name the incident, written briefly."""

from __future__ import annotations

from pathlib import Path

from sfops.incidents.model import Incident, Status
from sfops.incidents.records import timeline
from sfops.store import Store


def test_switch_flips_and_rollbacks_on_the_timeline_read_briefly(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    incident = Incident(
        id="a035g000000001hAAA",
        org="prod",
        severity="P1",
        status=Status("Mitigated"),
        summary="SOQL 101",
        name="INC-00007",
    )
    store.record_audit(
        actor="ana",
        alias="prod",
        action="switch.off",
        target="Kill_Switch__c.New_Pricing__c",
        before=True,
        after=False,
        reason="P1",
        incident_id="INC-00007",
    )
    store.record_audit(
        actor="ana",
        alias="prod",
        action="rollback.quick",
        target="v1.1->v1.0",
        before={"sha": "ef4b34dd33" + "0" * 30},
        after={"sha": "40daa6ddc0" + "1" * 30},
        incident_id="a035g000000001hAAA",
    )
    store.record_audit(actor="bob", alias="prod", action="switch.on", target="Other", incident_id="INC-00008")
    texts = {e.kind: e.text for e in timeline(store, incident)}
    assert texts == {
        "switch.off": "Kill_Switch__c.New_Pricing__c True -> False (P1)",
        "rollback.quick": "v1.1->v1.0 ef4b34dd33 -> 40daa6ddc0",
    }
