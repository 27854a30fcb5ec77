"""Migrations from branches developed in parallel can land out of order: a store that already has a
higher version still gets a lower one it never recorded, exactly once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, inspect, select

from sfops.store import Store, migrations, schema


def test_an_unrecorded_lower_version_is_applied_once(tmp_path: Path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    store = Store.open(url)
    top = max(v for v, _, _ in migrations.MIGRATIONS)
    # pretend migration 5 (error_event) arrived later than the ones above it
    with store.begin() as conn:
        schema.error_event.drop(conn)
        conn.execute(delete(schema.schema_version).where(schema.schema_version.c.version == 5))
    assert migrations.current_version(store.engine) == top
    assert migrations.migrate(store.engine) == [5]
    with store.engine.connect() as conn:
        assert inspect(conn).has_table("error_event")
        versions = conn.execute(select(schema.schema_version.c.version)).scalars().all()
    assert sorted(versions) == sorted(v for v, _, _ in migrations.MIGRATIONS)
    assert migrations.migrate(store.engine) == []
