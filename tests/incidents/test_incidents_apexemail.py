"""Apex exception email recipients at the domain level: the audit trail and the confirmation are the domain's."""

from __future__ import annotations

import pytest

from sfops.errors import Aborted
from sfops.incidents import apexemail
from sfops.salesforce import Org
from sfops.store import Store

pytestmark = pytest.mark.integration


def test_add_and_remove_are_audited_by_the_domain(emu, org: Org, store: Store) -> None:
    row = apexemail.add_recipient(org, store, actor="alice", email="pager@example.com", reason="P1 paging")
    assert row["created"] and row["id"]
    again = apexemail.add_recipient(org, store, actor="bob", email="PAGER@example.com", reason="twice")
    assert not again["created"]  # nothing written, nothing audited
    removed = apexemail.remove_recipient(org, store, "pager@example.com", actor="carol", reason="rotation over")
    assert [r["id"] for r in removed] == [row["id"]]
    audit = store.audit_history(alias=org.alias, action_prefix="alerts.apex-email")
    assert [(r.action, r.actor, r.reason, r.target) for r in audit] == [
        ("alerts.apex-email.remove", "carol", "rotation over", "ApexEmailNotification:pager@example.com"),
        ("alerts.apex-email.add", "alice", "P1 paging", "ApexEmailNotification:pager@example.com"),
    ]


def test_a_refused_confirmation_writes_nothing_and_a_dry_run_does_not_ask(emu, org: Org, store: Store) -> None:
    before = apexemail.list_recipients(org)

    def refuse(what: str) -> None:
        raise Aborted(f"not confirmed: {what}")

    with pytest.raises(Aborted, match="Add an Apex exception email recipient"):
        apexemail.add_recipient(org, store, actor="alice", email="pager@example.com", confirm=refuse)
    planned = apexemail.add_recipient(
        org, store, actor="alice", email="pager@example.com", dry_run=True, confirm=refuse
    )
    assert planned["created"] and planned["id"] is None
    assert apexemail.list_recipients(org) == before and store.audit_history(alias=org.alias) == []
