"""The local history database: the only code that talks to it.

SQLite file by default (WAL mode), or any SQLAlchemy URL (PostgreSQL for teams).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, create_engine, event, select
from sqlalchemy.engine import make_url

from sfops.clock import aware_row
from sfops.store import schema
from sfops.store.migrations import migrate
from sfops.store.upserts import upsert_row


@dataclass(frozen=True)
class AuditRecord:
    """Who did what, when, where and why. `org_key` is the org id (the alias before sfops learned it),
    `alias` the alias the action was made through."""

    id: int
    at: dt.datetime
    actor: str
    org_key: str
    alias: str
    action: str
    target: str
    before: Any
    after: Any
    reason: str | None
    incident_id: str | None
    outcome: str
    details: Any


class Store:
    """Access to the local store. Create with `Store.open(url)`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Store:
        """Open (creating and migrating as needed) the store at a SQLAlchemy URL."""
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, future=True)
        if parsed.get_backend_name() == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        migrate(engine)
        return cls(engine)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction: committed on success, rolled back on error."""
        with self.engine.begin() as conn:
            yield conn

    # --- which org an alias points at (sfops.store.org_keys keeps the map) --------------------------
    def org_key(self, alias: str, conn: Connection | None = None) -> str:
        """The key rows of `alias` are stored under: its org id once a command has learned it, else the alias
        itself (an org id comes back unchanged). Two aliases of one org share one key. Pass `conn` inside a
        transaction."""
        query = select(schema.state.c.value).where(schema.state.c.key == f"org_id.{alias}")
        if conn is not None:
            value = conn.execute(query).scalar()
        else:
            with self.engine.connect() as c:
                value = c.execute(query).scalar()
        return str(value["org_id"]) if isinstance(value, dict) and value.get("org_id") else alias

    # --- audit -------------------------------------------------------------------------
    def record_audit(
        self,
        *,
        actor: str,
        alias: str,
        action: str,
        target: str,
        before: Any = None,
        after: Any = None,
        reason: str | None = None,
        incident_id: str | None = None,
        outcome: str = "done",
        details: Any = None,
        conn: Connection | None = None,
        at: dt.datetime | None = None,
    ) -> int:
        """Append an audit record of an action on the org of `alias` (at `at`, default now); returns its id."""
        values = dict(
            at=at or dt.datetime.now(dt.UTC),
            actor=actor,
            org=self.org_key(alias, conn),
            alias=alias,
            action=action,
            target=target,
            before=before,
            after=after,
            reason=reason,
            incident_id=incident_id,
            outcome=outcome,
            details=details,
        )
        if conn is not None:
            return inserted_id(conn.execute(schema.audit.insert().values(**values)))
        with self.begin() as c:
            return inserted_id(c.execute(schema.audit.insert().values(**values)))

    def audit_history(
        self,
        *,
        alias: str | None = None,
        action_prefix: str | None = None,
        target: str | None = None,
        incident_id: str | None = None,
        limit: int = 100,
    ) -> list[AuditRecord]:
        """Audit records, newest first, filtered (by `alias`: every record of its org, whichever alias made it)."""
        table = schema.audit
        query = select(table).order_by(table.c.id.desc()).limit(limit)
        if alias:
            query = query.where(table.c.org == self.org_key(alias))
        if action_prefix:
            query = query.where(table.c.action.startswith(action_prefix))
        if target:
            query = query.where(table.c.target == target)
        if incident_id:
            query = query.where(table.c.incident_id == incident_id)
        with self.engine.connect() as conn:
            return [_audit_record(row._mapping) for row in conn.execute(query)]

    def settle_audit(
        self, ids: list[int], outcome: str, details: Mapping[str, Any] | None = None, conn: Connection | None = None
    ) -> int:
        """Settle audit records written as "pending" before a write: set their outcome (and merge
        `details` into theirs). Only pending records change, so settling twice is harmless; returns how
        many changed."""
        table = schema.audit

        def settle(c: Connection) -> int:
            changed = 0
            rows = c.execute(
                select(table.c.id, table.c.details).where(table.c.id.in_(ids), table.c.outcome == "pending")
            ).all()
            for row in rows:
                merged = {**(row.details or {}), **dict(details or {})}
                changed += c.execute(
                    table.update()
                    .where(table.c.id == row.id, table.c.outcome == "pending")
                    .values(outcome=outcome, details=merged)
                ).rowcount
            return changed

        if conn is not None:
            return settle(conn)
        with self.begin() as c:
            return settle(c)

    def pending_audits(self, *, alias: str, action_prefix: str) -> list[AuditRecord]:
        """Audit records of the org of `alias` still "pending" (the write's outcome is not known yet), oldest
        first."""
        table = schema.audit
        query = (
            select(table)
            .where(
                table.c.org == self.org_key(alias),
                table.c.outcome == "pending",
                table.c.action.startswith(action_prefix),
            )
            .order_by(table.c.id)
        )
        with self.engine.connect() as conn:
            return [_audit_record(row._mapping) for row in conn.execute(query)]

    # --- key/value state (watermarks, caches) ------------------------------------------------
    def get_state(self, key: str, default: Any = None) -> Any:
        with self.engine.connect() as conn:
            value = conn.execute(select(schema.state.c.value).where(schema.state.c.key == key)).scalar()
        return default if value is None else value

    def set_state(self, key: str, value: Any, conn: Connection | None = None) -> None:
        """Insert or replace a state value: one INSERT ... ON CONFLICT, so racing processes both succeed."""

        def write(c: Connection) -> None:
            upsert_row(c, schema.state, {"key": key}, {"value": value, "updated_at": dt.datetime.now(dt.UTC)})

        if conn is not None:
            write(conn)
        else:
            with self.begin() as c:
                write(c)

    def state_items(self, prefix: str) -> list[tuple[str, Any]]:
        """Every (key, value) whose key starts with `prefix`, by key."""
        table = schema.state
        query = (
            select(table.c.key, table.c.value)
            .where(table.c.key.startswith(prefix, autoescape=True))
            .order_by(table.c.key)
        )
        with self.engine.connect() as conn:
            return [(row.key, row.value) for row in conn.execute(query)]

    def delete_state(self, key: str, conn: Connection | None = None) -> bool:
        """Remove a state value; True if there was one."""
        statement = schema.state.delete().where(schema.state.c.key == key)
        if conn is not None:
            return bool(conn.execute(statement).rowcount)
        with self.begin() as c:
            return bool(c.execute(statement).rowcount)


def _audit_record(row: Mapping[Any, Any]) -> AuditRecord:
    values = aware_row(row)
    org_key = values.pop("org")
    return AuditRecord(**{**values, "org_key": org_key, "alias": values.get("alias") or org_key})


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the row an INSERT just added."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the INSERT returned no primary key")
    return int(key[0])
