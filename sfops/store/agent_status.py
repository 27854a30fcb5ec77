"""Read-only aggregates for the agent's /metrics, /readyz and the console: a few GROUP BY queries over
`limit_snapshot`, `incident`, `agent_run` and `agent_lease`, each cheap whatever the number of orgs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select, text

from sfops.store import Store, schema


def _aware(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def ping(store: Store) -> None:
    """Raise if the store cannot answer a trivial query (readiness)."""
    with store.engine.connect() as conn:
        conn.execute(text("SELECT 1")).scalar_one()


def latest_limits(store: Store, aliases: Sequence[str]) -> list[tuple[str, str, int, int, dt.datetime]]:
    """(alias, limit name, max, remaining, taken_at) of each alias's org's newest snapshot (top-level entries
    only; whichever alias of the org took it)."""
    table = schema.limit_snapshot
    out: list[tuple[str, str, int, int, dt.datetime]] = []
    with store.engine.connect() as conn:
        # one index probe per org (ix_limit_snapshot_org_taken): a GROUP BY would scan every snapshot
        for alias in aliases:
            org = store.org_key(alias)
            newest = conn.execute(select(func.max(table.c.taken_at)).where(table.c.org == org)).scalar()
            if newest is None:
                continue
            rows = conn.execute(
                select(table.c.name, table.c.max, table.c.remaining).where(
                    table.c.org == org, table.c.taken_at == newest, table.c.app == ""
                )
            )
            out += [(alias, r[0], int(r[1]), int(r[2]), _aware(newest)) for r in rows]
    return out


def open_incident_counts(
    store: Store, aliases: Sequence[str], open_statuses: Iterable[str]
) -> list[tuple[str, str, int]]:
    """(alias, severity, count) of incidents whose status is one of `open_statuses` (an org known by two
    aliases is counted once, under the first)."""
    table = schema.incident
    alias_of = {store.org_key(a): a for a in reversed(aliases)}
    query = (
        select(table.c.org, table.c.severity, func.count())
        .where(table.c.org.in_(list(alias_of)), table.c.status.in_(list(open_statuses)))
        .group_by(table.c.org, table.c.severity)
    )
    with store.engine.connect() as conn:
        return [(alias_of[r[0]], r[1], int(r[2])) for r in conn.execute(query)]


def last_finished(store: Store, orgs: Sequence[str], outcomes: Iterable[str]) -> list[tuple[str, str, dt.datetime]]:
    """(org, job, newest finished_at) of runs that ended with one of `outcomes`."""
    table = schema.agent_run
    query = (
        select(table.c.org, table.c.job, func.max(table.c.finished_at))
        .where(table.c.org.in_(list(orgs)), table.c.outcome.in_(list(outcomes)), table.c.finished_at.is_not(None))
        .group_by(table.c.org, table.c.job)
    )
    with store.engine.connect() as conn:
        return [(r[0], r[1], _aware(r[2])) for r in conn.execute(query)]


def last_started(store: Store, orgs: Sequence[str], job: str, outcomes: Iterable[str]) -> list[tuple[str, dt.datetime]]:
    """(org, newest started_at) of runs of `job` that ended with one of `outcomes`."""
    table = schema.agent_run
    query = (
        select(table.c.org, func.max(table.c.started_at))
        .where(table.c.org.in_(list(orgs)), table.c.job == job, table.c.outcome.in_(list(outcomes)))
        .group_by(table.c.org)
    )
    with store.engine.connect() as conn:
        return [(r[0], _aware(r[1])) for r in conn.execute(query)]


def latest_details(store: Store, orgs: Sequence[str], job: str) -> dict[str, Any]:
    """org -> `details` of the newest finished run of `job`."""
    table = schema.agent_run
    newest = (
        select(func.max(table.c.id))
        .where(table.c.org.in_(list(orgs)), table.c.job == job, table.c.finished_at.is_not(None))
        .group_by(table.c.org)
    )
    with store.engine.connect() as conn:
        return {r[0]: r[1] for r in conn.execute(select(table.c.org, table.c.details).where(table.c.id.in_(newest)))}


def lease_rows(store: Store, names: Sequence[str]) -> list[dict[str, Any]]:
    """The lease rows of `names` (UTC-aware datetimes)."""
    table = schema.agent_lease
    with store.engine.connect() as conn:
        rows = conn.execute(select(table).where(table.c.name.in_(list(names)))).mappings()
        return [{k: _aware(v) for k, v in r.items()} for r in rows]
