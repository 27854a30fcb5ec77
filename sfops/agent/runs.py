"""The record of job runs (`agent_run`): every run the agent starts, its outcome and summary."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sfops.clock import aware
from sfops.store import Store, agent_runs

RUNNING, OK, PARTIAL, FAILED, ABANDONED = "running", "ok", "partial", "failed", "abandoned"


@dataclass(frozen=True)
class RunRecord:
    """One run of one job for one org (by the alias the agent runs it for)."""

    id: int
    alias: str
    job: str
    holder: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    outcome: str
    summary: str | None
    error: str | None
    details: Any = None


def _record(m: dict[str, Any]) -> RunRecord:
    return RunRecord(
        id=m["id"],
        alias=m["org"],
        job=m["job"],
        holder=m["holder"],
        started_at=aware(m["started_at"]) or dt.datetime.min.replace(tzinfo=dt.UTC),
        finished_at=aware(m["finished_at"]),
        outcome=m["outcome"],
        summary=m["summary"],
        error=m["error"],
        details=m["details"],
    )


def start_run(store: Store, *, alias: str, job: str, holder: str, started_at: dt.datetime) -> int:
    """Record that a run started (outcome 'running'); returns its id."""
    return agent_runs.insert_run(store, org=alias, job=job, holder=holder, started_at=started_at, outcome=RUNNING)


def finish_run(
    store: Store,
    run_id: int,
    *,
    finished_at: dt.datetime,
    outcome: str,
    summary: str | None = None,
    error: str | None = None,
    details: Any = None,
) -> None:
    """Record how a run ended."""
    agent_runs.update_run(
        store, run_id, finished_at=finished_at, outcome=outcome, summary=summary, error=error, details=details
    )


def get_run(store: Store, run_id: int) -> RunRecord:
    """One run by id."""
    return _record(agent_runs.run_row(store, run_id))


def last_runs(store: Store, orgs: list[str] | None = None) -> dict[tuple[str, str], RunRecord]:
    """The latest run of every (org, job)."""
    return {(r.alias, r.job): r for r in map(_record, agent_runs.latest_rows(store, orgs))}


def run_history(store: Store, *, alias: str | None = None, job: str | None = None, limit: int = 50) -> list[RunRecord]:
    """Runs, newest first."""
    return [_record(m) for m in agent_runs.run_rows(store, org=alias, job=job, limit=limit)]


def claim_run(
    store: Store,
    *,
    lease: str,
    generation: int,
    alias: str,
    job: str,
    holder: str,
    started_at: dt.datetime,
    tick: dt.datetime | None,
) -> int | str:
    """Record a run as leader of `lease` at `generation` (fenced): its id, or `agent_runs.FENCED` /
    `agent_runs.TAKEN` (the tick already has a run)."""
    return agent_runs.claim_run(
        store,
        lease=lease,
        generation=generation,
        now=started_at,
        org=alias,
        job=job,
        holder=holder,
        scheduled_at=tick,
        outcome=RUNNING,
    )


def abandon_dead_runs(store: Store, *, alias: str, leader: str, at: dt.datetime) -> list[int]:
    """Runs of `alias` left "running" by an agent that died mid-job become "abandoned".

    Call it as the new holder of the org's lease: the lease is exclusive, so any other holder's
    running run cannot still be going on (its holder's lease expired or was released)."""
    return agent_runs.abandon_running(
        store,
        org=alias,
        live_holder=leader,
        finished_at=at,
        outcome=ABANDONED,
        error="abandoned: its agent stopped (lease expired) before the run finished",
    )
