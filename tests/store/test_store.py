"""Local store: migrations are versioned and idempotent, audit and state round-trip."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from sfops.store import Store
from sfops.store.migrations import MIGRATIONS, current_version, migrate


def test_new_store_is_migrated_to_latest_and_uses_wal(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'deep' / 'sfops.db'}")
    assert current_version(store.engine) == max(v for v, _, _ in MIGRATIONS)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_migrate_again_applies_nothing_and_keeps_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    store = Store.open(url)
    store.record_audit(actor="ana", alias="prod", action="switch.off", target="New_Pricing__c")
    assert migrate(create_engine(url)) == []
    assert [r.actor for r in Store.open(url).audit_history()] == ["ana"]


def test_partial_store_gets_only_missing_migrations(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'p.db'}")
    assert migrate(engine)[0] == 1
    assert inspect(engine).has_table("audit")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("postgres").new_database()
    return f"sqlite:///{tmp_path / 'a.db'}"


def test_every_migration_applies_and_reapplies_cleanly(url: str) -> None:
    store = Store.open(url)
    assert current_version(store.engine) == max(v for v, _, _ in MIGRATIONS)
    assert migrate(create_engine(url)) == []


def test_audit_filters_and_newest_first(url: str) -> None:
    store = Store.open(url)
    store.record_audit(
        actor="a",
        alias="prod",
        action="switch.off",
        target="X",
        before={"X": True},
        after={"X": False},
        reason="P1",
        incident_id="INC-1",
    )
    store.record_audit(actor="b", alias="uat", action="breaker.open", target="ERP")
    store.record_audit(actor="c", alias="prod", action="switch.on", target="X")
    prod = store.audit_history(alias="prod")
    assert [r.actor for r in prod] == ["c", "a"]
    assert prod[1].before == {"X": True} and prod[1].at.tzinfo is not None
    assert [r.actor for r in store.audit_history(action_prefix="breaker.")] == ["b"]
    assert [r.actor for r in store.audit_history(incident_id="INC-1")] == ["a"]


def test_state_upsert(url: str) -> None:
    store = Store.open(url)
    assert store.get_state("wm", "none") == "none"
    store.set_state("wm", {"t": "2026-01-01"})
    store.set_state("wm", {"t": "2026-02-01"})
    assert store.get_state("wm") == {"t": "2026-02-01"}
