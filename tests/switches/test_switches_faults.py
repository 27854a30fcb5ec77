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
            flip(
                self._other,
                self._store,
                {"External_Sync__c": False},
                actor="bob",
                reason="ERP down",
                restore_after=dt.timedelta(minutes=30),
                now=self._at,
            )
        return self._org.update(*args, **kwargs)


def test_a_for_flip_made_while_restore_due_runs_keeps_its_restore(emu: Any, org: Any, store: Any) -> None:
    t0 = dt.datetime.now(dt.UTC)
    flip(org, store, {"New_Pricing__c": False}, actor="alice", reason="P1", restore_after=dt.timedelta(hours=1), now=t0)
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
    flip(org, store, {"New_Pricing__c": False}, actor="alice", reason="P1", restore_after=dt.timedelta(hours=1), now=t0)
    (pending,) = pending_restores(store, "emu")
    # a store written by an earlier sfops: one list under one key
    ((key, value),) = store.state_items("switches.pending_restore.emu.")
    store.delete_state(key)
    store.set_state("switches.pending_restores.emu", [value])
    assert pending_restores(store, "emu") == [pending]
    assert store.get_state("switches.pending_restores.emu") is None
    (outcome,) = restore_due(org, store, actor="cron", now=t0 + dt.timedelta(hours=2))
    assert outcome.restored == {"New_Pricing__c": True} and pending_restores(store, "emu") == []


# --- item 6 and 7: writes whose reply is lost, and one transient error on the most urgent writes ----------------
SWITCH_PATCH = "/services/data/*/sobjects/Kill_Switch__c/*"


@pytest.fixture
def cli(emu: Any, tmp_path: Any, proxy: Any) -> dict[str, str]:
    from emulator_cli_support import emulator_cli_env
    from fault_proxy import proxied_cli_env

    return proxied_cli_env(emulator_cli_env(emu, tmp_path, aliases=("emu", "prod"), production=("prod",)), emu, proxy)


def cli_audits(env: dict[str, str]) -> list[tuple[str, str, str]]:
    from sfops.store import Store

    store = Store.open(env["SFOPS_STORE_URL"])
    return [(a.action, a.target, a.outcome) for a in reversed(store.audit_history(limit=100))]


def test_a_lost_patch_reply_is_retried_and_audited_once(emu: Any, org: Any, cli: dict[str, str], proxy: Any) -> None:
    from sfops.cli.app import invoke

    proxy.add("lose_reply", method="PATCH", path=SWITCH_PATCH)
    code, _out, err = invoke(["switch", "off", "New_Pricing__c", "-o", "prod", "--reason", "P1", "--yes"], cli)
    assert code == 0, err
    assert len(proxy.faults_applied("lose_reply")) == 1
    assert org_values(org)["New_Pricing__c"] is False
    assert cli_audits(cli) == [("switch.off", "Kill_Switch__c.New_Pricing__c", "done")]


def test_a_patch_whose_reply_never_comes_back_is_confirmed_by_reading_the_org(
    emu: Any, org: Any, cli: dict[str, str], proxy: Any
) -> None:
    from sfops.cli.app import invoke
    from sfops.store import Store

    proxy.add("lose_reply", method="PATCH", path=SWITCH_PATCH, count=3)  # the write and both retries
    code, _out, err = invoke(["--json", "switch", "off", "New_Pricing__c", "--reason", "P1"], cli)
    assert code == 0, err
    assert org_values(org)["New_Pricing__c"] is False
    (audit,) = Store.open(cli["SFOPS_STORE_URL"]).audit_history()
    assert audit.outcome == "done" and "gave up after 3 attempt(s)" in audit.details["confirmed_by_read_back"]
    code, _out, err = invoke(["switch", "off", "New_Pricing__c", "--reason", "P1"], cli)  # re-run: nothing to do
    assert code == 0 and len(cli_audits(cli)) == 1


def test_a_flip_whose_outcome_is_unknown_stays_pending_until_a_read_settles_it(
    emu: Any, org: Any, store: Any, proxy: Any
) -> None:
    proxied = connect(emu.org_config(alias="emu", instance_url=proxy.url, login_url=proxy.url), env={})
    flip(proxied, store, {"External_Sync__c": True}, actor="warm", reason="warm the caches")  # nothing to change
    proxy.add("lose_reply", method="PATCH", path=SWITCH_PATCH, count=3)
    proxy.add("lose_reply", method="GET", path="*/query*", count=3, skip=1)  # after the flip's read: the read-back
    with pytest.raises(Exception, match="gave up after 3 attempt"):
        flip(proxied, store, {"External_Sync__c": False}, actor="alice", reason="P1")
    (pending,) = store.audit_history()
    assert pending.outcome == "pending" and org_values(org)["External_Sync__c"] is False
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=3)
    result = flip(org, store, {"External_Sync__c": False}, actor="alice", reason="P1", now=later)
    assert result.audit_ids == []  # nothing to change in the org...
    (settled,) = store.audit_history()  # ...and the earlier flip is now known to have been applied
    assert settled.id == pending.id and settled.outcome == "done" and settled.details["settled_by_read_back"]


def test_one_503_on_a_cold_cache_and_one_on_the_patch_do_not_fail_switch_off(
    emu: Any, org: Any, cli: dict[str, str]
) -> None:
    from sfops.cli.app import invoke

    emu.faults(
        fail=[
            {"count": 1, "status": 503, "method": "POST", "path": "/services/data/*/composite"},
            {"count": 1, "status": 503, "method": "PATCH", "path": SWITCH_PATCH},
        ]
    )
    code, _out, err = invoke(["switch", "off", "New_Pricing__c", "--reason", "P1"], cli)
    assert code == 0, err
    assert emu.control("GET", "faults")["fail"] == []  # both faults fired
    assert org_values(org)["New_Pricing__c"] is False
    assert cli_audits(cli) == [("switch.off", "Kill_Switch__c.New_Pricing__c", "done")]
