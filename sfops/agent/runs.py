"""The record of job runs (`agent_run`): every run the agent starts, its outcome and summary."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from sfops.store import Store, schema

RUNNING, OK, PARTIAL, FAILED = "running", "ok", "partial", "failed"


@dataclass(frozen=True)
class RunRecord:
    """One run of one job for one org."""

    id: int
    org: str
    job: str
    holder: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    outcome: str
    summary: str | None
    error: str | None
    details: Any = None


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _record(row: Any) -> RunRecord:
    m = row._mapping
    return RunRecord(id=m["id"], org=m["org"], job=m["job"], holder=m["holder"],
                     started_at=_aware(m["started_at"]) or dt.datetime.min.replace(tzinfo=dt.UTC),
                     finished_at=_aware(m["finished_at"]), outcome=m["outcome"], summary=m["summary"],
                     error=m["error"], details=m["details"])


def start_run(store: Store, *, org: str, job: str, holder: str, started_at: dt.datetime) -> int:
    """Record that a run started (outcome 'running'); returns its id."""
    with store.begin() as conn:
        return int(conn.execute(schema.agent_run.insert().values(
            org=org, job=job, holder=holder, started_at=started_at, outcome=RUNNING)).inserted_primary_key[0])


def finish_run(store: Store, run_id: int, *, finished_at: dt.datetime, outcome: str, summary: str | None = None,
               error: str | None = None, details: Any = None) -> None:
    """Record how a run ended."""
    with store.begin() as conn:
        conn.execute(schema.agent_run.update().where(schema.agent_run.c.id == run_id).values(
            finished_at=finished_at, outcome=outcome, summary=summary, error=error, details=details))


def get_run(store: Store, run_id: int) -> RunRecord:
    with store.engine.connect() as conn:
        return _record(conn.execute(select(schema.agent_run).where(schema.agent_run.c.id == run_id)).one())


def last_runs(store: Store, orgs: list[str] | None = None) -> dict[tuple[str, str], RunRecord]:
    """The latest run of every (org, job)."""
    table = schema.agent_run
    latest = select(func.max(table.c.id)).group_by(table.c.org, table.c.job)
    if orgs:
        latest = latest.where(table.c.org.in_(orgs))
    with store.engine.connect() as conn:
        rows = conn.execute(select(table).where(table.c.id.in_(latest))).all()
    return {(r.org, r.job): r for r in map(_record, rows)}


def run_history(store: Store, *, org: str | None = None, job: str | None = None, limit: int = 50) -> list[RunRecord]:
    """Runs, newest first."""
    table = schema.agent_run
    query = select(table).order_by(table.c.id.desc()).limit(limit)
    if org:
        query = query.where(table.c.org == org)
    if job:
        query = query.where(table.c.job == job)
    with store.engine.connect() as conn:
        return [_record(r) for r in conn.execute(query)]
