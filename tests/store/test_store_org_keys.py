"""Store data is keyed by org id, not alias (issue 15 item 11): two aliases of one org see one history of
audit records, limit snapshots and incidents (mirror, timeline, outbox), each once; rows stored under an
alias by an earlier sfops move to the org id the first time it is learned; offline reads work by alias."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from cli_support import run_cli
from emulator_cli_support import emulator_cli_env
from sqlalchemy import select, text

from sfops.incidents import records
from sfops.store import Store, limit_snapshots, notifications, org_keys, schema

pytestmark = pytest.mark.integration


def run(env: dict[str, str], *args: str) -> Any:
    result = run_cli([*args, "--json"], env)
    assert result.exit_code == 0, f"sfops {' '.join(args)} -> {result.exit_code}: {result.stdout}{result.stderr}"
    return result.json["result"]


def _two_aliases(emu: Any, tmp_path: Path, store_url: str | None = None) -> dict[str, str]:
    env = emulator_cli_env(emu, tmp_path, aliases=("prod", "ops"))
    return {**env, "SFOPS_STORE_URL": store_url} if store_url else env


def _one_history_through_either_alias(env: dict[str, str]) -> None:
    store = Store.open(env["SFOPS_STORE_URL"])
    # a switch flip, a limit snapshot and an incident, all made through `prod`
    run(env, "switch", "off", "External_Sync__c", "--reason", "two aliases", "-o", "prod", "--yes")
    run(env, "limits", "snapshot", "-o", "prod")
    raised = run(env, "incident", "raise", "-s", "P3", "-m", "two aliases", "--dedup-key", "two-aliases", "-o", "prod")
    assert raised["created"]
    key = store.org_key("prod")
    assert key.startswith("00D") and len(key) == 18

    # an offline read through `ops` before any command connected it cannot know it is the same org
    assert run(env, "switch", "history", "-o", "ops") == []
    # once `ops` has connected (here: the same incident raised again), it sees the one history, once
    again = run(env, "incident", "raise", "-s", "P3", "-m", "two aliases", "--dedup-key", "two-aliases", "-o", "ops")
    assert not again["created"] and again["incident"]["occurrence_count"] == 2
    assert store.org_key("ops") == key
    history = run(env, "switch", "history", "-o", "ops")  # offline reads of the store
    assert [h["switch"] for h in history] == ["External_Sync__c"]
    trends = run(env, "limits", "report", "-o", "ops")["trends"]
    assert [t["name"] for t in trends].count("DailyApiRequests") == 1
    mirrored = records.list_incidents(store, "ops")
    assert [i.dedup_key for i in mirrored] == ["two-aliases"]  # one mirror row, not one per alias
    assert mirrored[0].org in ("prod", "ops")  # shown by alias, never by org id
    assert records.list_incidents(store, "prod") == mirrored
    assert len(store.audit_history(alias="ops", action_prefix="switch.")) == 1
    assert {r.alias for r in store.audit_history(alias="ops")} <= {"prod", "ops"}
    assert records.events(store, "ops", mirrored[0].id) == records.events(store, "prod", mirrored[0].id)
    assert notifications.outbox_rows(store, "ops") == notifications.outbox_rows(store, "prod")
    assert len({r[0] for r in limit_snapshots.snapshot_records(store, "ops")}) == 1  # one snapshot
    with store.engine.connect() as conn:  # nothing left under either alias
        for table in (schema.audit, schema.limit_snapshot, schema.incident, schema.incident_event):
            assert conn.execute(select(table.c.org).where(table.c.org.in_(["prod", "ops"]))).first() is None


def test_two_aliases_of_one_org_see_one_history(emu: Any, tmp_path: Path) -> None:
    _one_history_through_either_alias(_two_aliases(emu, tmp_path))


def test_two_aliases_of_one_org_see_one_history_on_postgresql(emu: Any, postgres: Any, tmp_path: Path) -> None:
    _one_history_through_either_alias(_two_aliases(emu, tmp_path, postgres.new_database()))


def test_rows_stored_under_an_alias_move_to_the_org_id_when_it_is_learned(emu: Any, tmp_path: Path) -> None:
    env = _two_aliases(emu, tmp_path)
    store = Store.open(env["SFOPS_STORE_URL"])
    at = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    # what an earlier sfops (or a command before the org id was known) stored under each alias
    store.record_audit(actor="bob", alias="prod", action="switch.off", target="Kill_Switch__c.A", at=at)
    store.record_audit(actor="bob", alias="ops", action="switch.on", target="Kill_Switch__c.A", at=at)
    limit_snapshots.insert_snapshot(
        store, "prod", at, [{"name": "DailyApiRequests", "app": "", "max": 10, "remaining": 9}]
    )
    same = {"id": "a0X000000000001AAA", "severity": "P2", "status": "New", "summary": "old", "name": "INC-1"}
    store_rows = [{"alias": "prod", **same}, {"alias": "ops", **same}]
    from sfops.store import incidents as incident_table

    incident_table.upsert_incidents(store, store_rows)
    records.add_event(store, alias="prod", incident_id=same["id"], kind="raised", actor="bob", at=at)
    assert store.org_key("prod") == "prod" and len(store.audit_history(alias="ops")) == 1  # not learned yet

    run(env, "limits", "snapshot", "-o", "prod")  # learns prod's org id
    run(env, "limits", "snapshot", "-o", "ops")  # and ops'
    key = store.org_key("ops")
    assert key == store.org_key("prod") and key.startswith("00D")
    assert sorted(r.action for r in store.audit_history(alias="prod")) == ["switch.off", "switch.on"]
    assert [r.alias for r in store.audit_history(alias="ops", target="Kill_Switch__c.A")] == ["ops", "prod"]
    assert [i.id for i in records.list_incidents(store, "ops")] == [same["id"]]  # the two copies are one
    assert len(records.events(store, "ops", same["id"])) == 1
    assert len({r[0] for r in limit_snapshots.snapshot_records(store, "ops")}) == 3


def test_an_older_store_gets_the_alias_column_and_keeps_its_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = Store.open(url)
    at = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    store.record_audit(actor="bob", alias="prod", action="switch.off", target="Kill_Switch__c.A", at=at)
    with store.begin() as conn:  # as a store before migration 8: no alias column, the alias in `org`
        conn.execute(text("ALTER TABLE audit DROP COLUMN alias"))
        conn.execute(text("DELETE FROM schema_version WHERE version = 8"))
    reopened = Store.open(url)
    [record] = reopened.audit_history(alias="prod")
    assert (record.alias, record.org_key, record.target) == ("prod", "prod", "Kill_Switch__c.A")
    assert org_keys.rekey(reopened, "prod", "00D000000000001AAA")["audit"] == 1
    assert reopened.audit_history(alias="prod") == []  # the map is not learned: offline reads by alias...
    org_keys.remember(reopened, "prod", "00D000000000001AAA", "https://x.my.salesforce.com")
    [moved] = reopened.audit_history(alias="prod")  # ...and by org id once it is
    assert (moved.alias, moved.org_key) == ("prod", "00D000000000001AAA")


class _FakeOrg:
    """Just what org_keys needs; `identity` fails, so a test sees any API call key_for would make."""

    def __init__(self, alias: str, org_id: str | None, instance_url: str = "https://a.my.salesforce.com") -> None:
        self.alias, self.instance_url = alias, instance_url
        self.credentials = type("Creds", (), {"org_id": org_id})()

    @property
    def identity(self) -> Any:
        raise AssertionError("key_for must not ask the org who it is")


def test_key_for_takes_the_org_id_from_the_login_and_never_calls_the_org(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    at = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    store.record_audit(actor="bob", alias="prod", action="switch.off", target="Kill_Switch__c.A", at=at)
    assert org_keys.key_for(store, _FakeOrg("prod", None)) == "prod"  # unknown: stays under the alias
    assert org_keys.key_for(store, _FakeOrg("prod", "00D00000000001")) == "prod"  # a 15-char id is not used
    org_id = "00D000000000001AAA"
    assert org_keys.key_for(store, _FakeOrg("prod", org_id)) == org_id
    assert [r.org_key for r in store.audit_history(alias="prod")] == [org_id]
    assert org_keys.aliases_of(store, org_id) == ["prod"]
    # the same alias on another instance (a sandbox refreshed elsewhere) is learned again, not trusted
    other = "00D000000000002AAA"
    assert org_keys.key_for(store, _FakeOrg("prod", other, "https://b.my.salesforce.com")) == other
    assert store.org_key("prod") == other
