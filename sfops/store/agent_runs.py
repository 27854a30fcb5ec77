"""The `agent_run` table: every job run the agent starts, its outcome and summary (plain dict rows)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from sfops.store import Store, inserted_id, schema

FENCED, TAKEN = "fenced", "taken"


def insert_run(store: Store, *, org: str, job: str, holder: str, started_at: dt.datetime, outcome: str) -> int:
    """Record a run; returns its id."""
    with store.begin() as conn:
        return inserted_id(
            conn.execute(
                schema.agent_run.insert().values(
                    org=org, job=job, holder=holder, started_at=started_at, outcome=outcome
                )
            )
        )


def claim_run(
    store: Store,
    *,
    lease: str,
    generation: int,
    now: dt.datetime,
    org: str,
    job: str,
    holder: str,
    scheduled_at: dt.datetime | None,
    outcome: str,
) -> int | str:
    """Record a run as leader: the new run's id, or why not (`FENCED`: `holder` no longer holds `lease` at
    `generation`; `TAKEN`: the tick `scheduled_at` already has a run).

    One transaction: the lease row is read FOR UPDATE (PostgreSQL: a takeover waits for this claim to
    commit, and a claim after a takeover sees the new holder), then the run is inserted; the unique index
    on (org, job, scheduled_at) refuses a second run of one tick whatever happens to the leases.
    """
    leases, runs = schema.agent_lease, schema.agent_run
    try:
        with store.begin() as conn:
            current = conn.execute(
                select(leases.c.generation)
                .where(
                    leases.c.name == lease,
                    leases.c.holder == holder,
                    leases.c.generation == generation,
                    leases.c.expires_at > now,
                )
                .with_for_update()
            ).first()
            if current is None:
                return FENCED
            if (
                scheduled_at is not None
                and conn.execute(
                    select(runs.c.id).where(runs.c.org == org, runs.c.job == job, runs.c.scheduled_at == scheduled_at)
                ).first()
                is not None
            ):
                return TAKEN
            key = conn.execute(
                runs.insert().values(
                    org=org,
                    job=job,
                    holder=holder,
                    scheduled_at=scheduled_at,
                    started_at=now,
                    outcome=outcome,
                    lease_generation=generation,
                )
            ).inserted_primary_key
            assert key is not None
            return int(key[0])
    except IntegrityError:
        return TAKEN


def update_run(store: Store, run_id: int, **values: Any) -> None:
    """Set columns of one run (finished_at, outcome, summary, error, details)."""
    with store.begin() as conn:
        conn.execute(schema.agent_run.update().where(schema.agent_run.c.id == run_id).values(**values))


def run_row(store: Store, run_id: int) -> dict[str, Any]:
    """One run's row (NoResultFound if there is none)."""
    with store.engine.connect() as conn:
        return dict(conn.execute(select(schema.agent_run).where(schema.agent_run.c.id == run_id)).mappings().one())


def latest_rows(store: Store, orgs: list[str] | None = None) -> list[dict[str, Any]]:
    """The latest run of every (org, job), optionally only for `orgs`."""
    table = schema.agent_run
    latest = select(func.max(table.c.id)).group_by(table.c.org, table.c.job)
    if orgs:
        latest = latest.where(table.c.org.in_(orgs))
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(table).where(table.c.id.in_(latest))).mappings()]


def run_rows(store: Store, *, org: str | None = None, job: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Runs, newest first, optionally of one org and/or job."""
    table = schema.agent_run
    query = select(table).order_by(table.c.id.desc()).limit(limit)
    if org:
        query = query.where(table.c.org == org)
    if job:
        query = query.where(table.c.job == job)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def abandon_running(
    store: Store, *, org: str, live_holder: str, finished_at: dt.datetime, outcome: str, error: str
) -> list[int]:
    """Close the runs of `org` still marked running by any other holder than `live_holder`; their ids."""
    table = schema.agent_run
    where = (table.c.org == org) & (table.c.outcome == "running") & (table.c.holder != live_holder)
    with store.begin() as conn:
        ids = [int(i) for i in conn.execute(select(table.c.id).where(where)).scalars()]
        if ids:
            conn.execute(
                table.update()
                .where(table.c.id.in_(ids), table.c.outcome == "running")
                .values(outcome=outcome, finished_at=finished_at, error=error)
            )
    return ids
