"""Versioned schema migrations. Append only: never edit a migration that has shipped.

Each migration is (version, description, function(connection)). `migrate` applies the ones
a store has not seen, in order, each in its own transaction, and records them in
`schema_version`, so later features add tables without breaking existing stores.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import Connection, Engine, inspect, select

from sfops.store import schema

Migration = tuple[int, str, Callable[[Connection], None]]


def _create(*tables: str) -> Callable[[Connection], None]:
    def run(conn: Connection) -> None:
        for name in tables:
            schema.metadata.tables[name].create(conn, checkfirst=True)
    return run


MIGRATIONS: list[Migration] = [
    (1, "audit trail and key/value state", _create("audit", "state")),
    (2, "pulled Apex debug logs", _create("apex_log")),
    (3, "incidents: mirror, timeline, notification outbox, on-call overrides",
     _create("incident", "incident_event", "notification", "oncall_override")),
    (4, "governor limit snapshots; agent leader lease and job runs",
     _create("limit_snapshot", "agent_lease", "agent_run")),
    (5, "error history: Error_Log__c and EventLogFile ApexUnexpectedException rows", _create("error_event")),
    (6, "detection: alert states, firings, seen fingerprints; org changes (DeployRequest, SetupAuditTrail)",
     _create("detect_alert", "detect_firing", "detect_fingerprint", "change_event")),
]


def current_version(engine: Engine) -> int:
    """The highest migration applied to this store (0 for a new one)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("schema_version"):
            return 0
        versions = conn.execute(select(schema.schema_version.c.version)).scalars().all()
    return max(versions, default=0)


def migrate(engine: Engine) -> list[int]:
    """Apply pending migrations; returns the versions applied."""
    with engine.begin() as conn:
        schema.schema_version.create(conn, checkfirst=True)
    applied = []
    done = current_version(engine)
    for version, description, run in sorted(MIGRATIONS):
        if version <= done:
            continue
        with engine.begin() as conn:
            run(conn)
            conn.execute(schema.schema_version.insert().values(
                version=version, description=description, applied_at=dt.datetime.now(dt.UTC)))
        applied.append(version)
    return applied
