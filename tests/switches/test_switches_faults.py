"""Kill switches when processes race and replies are lost (issue 15 items 2 and 6)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sfops.salesforce import connect
from sfops.switches import flip, history, pending_restores, restore_due

pytestmark = pytest.mark.integration


def org_values(org: Any) -> dict[str, bool]:
    org_id = org.query("SELECT Id FROM Organization")[0]["Id"]
    rows = org.query(f"SELECT New_Pricing__c, External_Sync__c FROM Kill_Switch__c WHERE SetupOwnerId = '{org_id}'")  # noqa: S608
    return {k: rows[0][k] for k in ("New_Pricing__c", "External_Sync__c")}


class FlipsDuringRestore:
    """An Org whose first PATCH (the restore's write) lets another process flip a switch with --for first."""

    def __init__(self, org: Any, other: Any, store: Any, at: dt.datetime) -> None:
        self._org, self._other, self._store, self._at, self.flipped = org, other, store, at, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._org, name)

    def update(self, *args: Any, **kwargs: Any) -> Any:
        if not self.flipped:
            self.flipped = True
            flip(self._other, self._store, {"External_Sync__c": False}, actor="bob", reason="ERP down",
                 restore_after=dt.timedelta(minutes=30), now=self._at)
        return self._org.update(*args, **kwargs)


def test_a_for_flip_made_while_restore_due_runs_keeps_its_restore(emu: Any, org: Any, store: Any) -> None:
    t0 = dt.datetime.now(dt.UTC)
    flip(org, store, {"New_Pricing__c": False}, actor="alice", reason="P1", restore_after=dt.timedelta(hours=1),
         now=t0)
    other = connect(emu.org_config(alias="emu"), env={})
    racing = FlipsDuringRestore(org, other, store, t0 + dt.timedelta(hours=1))
    (outcome,) = restore_due(racing, store, actor="cron", now=t0 + dt.timedelta(hours=1, seconds=1))
    assert racing.flipped and outcome.status == "restored"
    assert org_values(org) == {"New_Pricing__c": True, "External_Sync__c": False}
    (left,) = pending_restores(store, "emu")  # bob's restore survived the run that was going on
    assert left.values == {"External_Sync__c": True} and left.actor == "bob"
    (outcome,) = restore_due(org, store, actor="cron", now=t0 + dt.timedelta(hours=2))
    assert outcome.restored == {"External_Sync__c": True}
    assert org_values(org) == {"New_Pricing__c": True, "External_Sync__c": True}
    assert pending_restores(store, "emu") == []
    restores = [(e.switch, e.outcome) for e in history(store, "emu") if e.action == "switch.restore"]
    assert sorted(restores) == [("External_Sync__c", "done"), ("New_Pricing__c", "done")]


def test_pending_restores_of_the_old_single_list_are_kept(emu: Any, org: Any, store: Any) -> None:
    t0 = dt.datetime.now(dt.UTC)
    flip(org, store, {"New_Pricing__c": False}, actor="alice", reason="P1", restore_after=dt.timedelta(hours=1),
         now=t0)
    (pending,) = pending_restores(store, "emu")
    # a store written by an earlier sfops: one list under one key
    (key, value), = store.state_items("switches.pending_restore.emu.")
    store.delete_state(key)
    store.set_state("switches.pending_restores.emu", [value])
    assert pending_restores(store, "emu") == [pending]
    assert store.get_state("switches.pending_restores.emu") is None
    (outcome,) = restore_due(org, store, actor="cron", now=t0 + dt.timedelta(hours=2))
    assert outcome.restored == {"New_Pricing__c": True} and pending_restores(store, "emu") == []
