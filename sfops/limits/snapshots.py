"""Store and read limit snapshots (table `limit_snapshot`: one row per limit and per connected app)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sfops.clock import Clock, utcnow
from sfops.limits.flatten import flatten_limits
from sfops.limits.model import LimitRow, SnapshotResult
from sfops.store import Store, limit_snapshots, org_keys

if TYPE_CHECKING:  # pandas is imported by load_snapshots only: taking a snapshot does not need it
    import pandas as pd

    from sfops.salesforce import Org

SNAPSHOT_COLUMNS = list(limit_snapshots.COLUMNS)


def current_limits(org: Org) -> tuple[list[LimitRow], list[str]]:
    """The org's limits now (one GET /limits), flattened; (rows, skipped entry names)."""
    return flatten_limits(org.limits())


def save_snapshot(store: Store, alias: str, rows: list[LimitRow], taken_at: dt.datetime) -> None:
    """Append one snapshot (all rows share `taken_at`) in one transaction."""
    limit_snapshots.insert_snapshot(
        store,
        alias,
        taken_at,
        [{"name": r.name, "app": r.app or "", "max": r.max, "remaining": r.remaining} for r in rows],
    )


def take_snapshot(org: Org, store: Store, alias: str, *, clock: Clock = utcnow) -> SnapshotResult:
    """GET /limits once and store every entry, nested per-app entries flattened into rows with an app."""
    rows, skipped = current_limits(org)
    org_keys.key_for(store, org)  # stored under the org id: every alias of the org sees one history
    taken_at = clock()
    save_snapshot(store, alias, rows, taken_at)
    return SnapshotResult(
        org=alias,
        taken_at=taken_at,
        limits=sum(1 for r in rows if r.app is None),
        app_entries=sum(1 for r in rows if r.app is not None),
        skipped=skipped,
    )


def load_snapshots(
    store: Store, alias: str, since: dt.datetime | None = None, *, include_apps: bool = True
) -> pd.DataFrame:
    """Stored snapshot rows of an org (oldest first) as a DataFrame with UTC `taken_at`; org-wide rows
    have app "". `include_apps=False` loads the org-wide rows only."""
    import pandas as pd

    records = limit_snapshots.snapshot_records(store, alias, since, org_wide_only=not include_apps)
    frame = pd.DataFrame.from_records(records, columns=SNAPSHOT_COLUMNS)
    # SQLite drops tzinfo; every stored time is UTC.
    frame["taken_at"] = pd.to_datetime(frame["taken_at"], utc=True)
    frame["max"] = frame["max"].astype("int64")
    frame["remaining"] = frame["remaining"].astype("int64")
    return frame
