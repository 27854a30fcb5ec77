"""Store and read limit snapshots (table `limit_snapshot`: one row per limit and per connected app)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select

from sfops.limits.flatten import flatten_limits
from sfops.limits.model import LimitRow, SnapshotResult
from sfops.store import Store, schema

if TYPE_CHECKING:  # pandas is imported by load_snapshots only: taking a snapshot does not need it
    import pandas as pd

SNAPSHOT_COLUMNS = ["taken_at", "name", "app", "max", "remaining"]


class LimitsOrg(Protocol):
    """What snapshots need from an org: `Org.limits()` (GET /limits)."""

    def limits(self) -> dict[str, Any]: ...


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def current_limits(org: LimitsOrg) -> tuple[list[LimitRow], list[str]]:
    """The org's limits now (one GET /limits), flattened; (rows, skipped entry names)."""
    return flatten_limits(org.limits())


def save_snapshot(store: Store, alias: str, rows: list[LimitRow], taken_at: dt.datetime) -> None:
    """Append one snapshot (all rows share `taken_at`) in one transaction."""
    if not rows:
        return
    values = [{"org": alias, "taken_at": taken_at, "name": r.name, "app": r.app or "", "max": r.max,
               "remaining": r.remaining} for r in rows]
    with store.begin() as conn:
        conn.execute(schema.limit_snapshot.insert(), values)


def take_snapshot(org: LimitsOrg, store: Store, alias: str, *,
                  clock: Callable[[], dt.datetime] = _utcnow) -> SnapshotResult:
    """GET /limits once and store every entry, nested per-app entries flattened into rows with an app."""
    rows, skipped = current_limits(org)
    taken_at = clock()
    save_snapshot(store, alias, rows, taken_at)
    return SnapshotResult(org=alias, taken_at=taken_at, limits=sum(1 for r in rows if r.app is None),
                          app_entries=sum(1 for r in rows if r.app is not None), skipped=skipped)


def load_snapshots(store: Store, alias: str, since: dt.datetime | None = None, *,
                   include_apps: bool = True) -> pd.DataFrame:
    """Stored snapshot rows of an org (oldest first) as a DataFrame with UTC `taken_at`; org-wide rows
    have app "". `include_apps=False` loads the org-wide rows only."""
    import pandas as pd

    table = schema.limit_snapshot
    query = (select(table.c.taken_at, table.c.name, table.c.app, table.c.max, table.c.remaining)
             .where(table.c.org == alias).order_by(table.c.taken_at, table.c.id))
    if since is not None:
        query = query.where(table.c.taken_at >= since)
    if not include_apps:
        query = query.where(table.c.app == "")
    with store.engine.connect() as conn:
        records = [tuple(r) for r in conn.execute(query).all()]
    frame = pd.DataFrame.from_records(records, columns=SNAPSHOT_COLUMNS)
    # SQLite drops tzinfo; every stored time is UTC.
    frame["taken_at"] = pd.to_datetime(frame["taken_at"], utc=True)
    frame["max"] = frame["max"].astype("int64")
    frame["remaining"] = frame["remaining"].astype("int64")
    return frame
