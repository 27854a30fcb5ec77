"""Versioned schema migrations. Append only: never edit a migration that has shipped.

Each migration is (version, description, function(connection)). `migrate` applies the ones
a store has not seen, in order, each in its own transaction, and records them in
`schema_version`, so later features add tables without breaking existing stores.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import Connection, Engine, inspect, select, text

from sfops.store import schema

Migration = tuple[int, str, Callable[[Connection], None]]


def _create(*tables: str) -> Callable[[Connection], None]:
    def run(conn: Connection) -> None:
        for name in tables:
            schema.metadata.tables[name].create(conn, checkfirst=True)

    return run


def _agent_fencing(conn: Connection) -> None:
    """Lease generations (fencing), the run's tick and generation, one run per tick, agent membership."""
    columns = {c["name"] for c in inspect(conn).get_columns("agent_lease")}
    if "generation" not in columns:  # stores created before this migration (new ones have it from schema.py)
        conn.execute(text("ALTER TABLE agent_lease ADD COLUMN generation BIGINT NOT NULL DEFAULT 0"))
    columns = {c["name"] for c in inspect(conn).get_columns("agent_run")}
    if "lease_generation" not in columns:
        conn.execute(text("ALTER TABLE agent_run ADD COLUMN lease_generation BIGINT"))
    for index in (*schema.agent_run.indexes, *schema.limit_snapshot.indexes, *schema.apex_log.indexes):
        if index.name in ("ux_agent_run_tick", "ix_limit_snapshot_org_taken", "ix_apex_log_org_start"):
            index.create(conn, checkfirst=True)
    schema.agent_member.create(conn, checkfirst=True)


# the tables shown to people by org: they keep the alias a row was made through next to its org id
ALIAS_TABLES = ("audit", "limit_snapshot", "incident", "incident_event", "notification")


def _alias_columns(conn: Connection) -> None:
    """An `alias` display column beside `org`, which holds the org id from now on (sfops.store.org_keys).
    Rows of older stores keep their alias in `org` (filled into `alias` here) and move to the org id the
    first time a command learns it."""
    for name in ALIAS_TABLES:
        if "alias" not in {c["name"] for c in inspect(conn).get_columns(name)}:  # new stores have it
            conn.execute(text(f"ALTER TABLE {name} ADD COLUMN alias VARCHAR(200)"))
        table = schema.metadata.tables[name]
        conn.execute(table.update().where(table.c.alias.is_(None)).values(alias=table.c.org))


MIGRATIONS: list[Migration] = [
    (1, "audit trail and key/value state", _create("audit", "state")),
    (2, "pulled Apex debug logs", _create("apex_log")),
    (
        3,
        "incidents: mirror, timeline, notification outbox, on-call overrides",
        _create("incident", "incident_event", "notification", "oncall_override"),
    ),
    (
        4,
        "governor limit snapshots; agent leader lease and job runs",
        _create("limit_snapshot", "agent_lease", "agent_run"),
    ),
    (5, "error history: Error_Log__c and EventLogFile ApexUnexpectedException rows", _create("error_event")),
    (
        6,
        "detection: alert states, firings, seen fingerprints; org changes (DeployRequest, SetupAuditTrail)",
        _create("detect_alert", "detect_firing", "detect_fingerprint", "change_event"),
    ),
    # 7, not 6: detection (built in parallel) adds a migration 6; `migrate` applies any unrecorded version,
    # so either may land first
    (7, "agent: lease generations (fencing), one run per tick, agent membership; per-org time indexes", _agent_fencing),
    (
        8,
        "audit, limit snapshots, incidents, timeline and outbox keyed by org id, with an alias column for display",
        _alias_columns,
    ),
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
    with engine.connect() as conn:
        # every version not recorded yet, not only those above the highest: branches developed in parallel
        # add migrations whose numbers can land out of order, and a store must get each one exactly once
        done = set(conn.execute(select(schema.schema_version.c.version)).scalars())
    for version, description, run in sorted(MIGRATIONS):
        if version in done:
            continue
        with engine.begin() as conn:
            run(conn)
            conn.execute(
                schema.schema_version.insert().values(
                    version=version, description=description, applied_at=dt.datetime.now(dt.UTC)
                )
            )
        applied.append(version)
    return applied
