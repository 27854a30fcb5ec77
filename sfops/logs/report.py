"""`sfops logs report`: which entry points come closest to which governor limits, and what fails how often.

Built with pandas from the per-transaction summaries stored by `sfops logs pull` (or from any iterable of
summaries, e.g. from `sfops logs analyze`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sfops.logs.store import iter_summaries
from sfops.store import Store

NEAR = 80.0
LIMIT_COLUMNS = ["entry_point", "limit", "namespace", "transactions", "max_pct", "p95_pct", "over_80",
                 "max_used", "max"]
FAILURE_COLUMNS = ["category", "fingerprint", "count", "entry_point", "limit", "example", "first_seen",
                   "last_seen"]


@dataclass
class LogsReport:
    """Two tables: limit usage per entry point and limit, and failures by category and fingerprint."""

    limits: pd.DataFrame
    failures: pd.DataFrame
    logs: int
    transactions: int


def _rows(summaries: Iterable[tuple[dict[str, Any], list[dict[str, Any]]]]
          ) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]], int, int]:
    limit_rows: list[tuple[Any, ...]] = []
    failure_rows: list[dict[str, Any]] = []
    logs = transactions = 0
    for meta, txs in summaries:
        logs += 1
        seen = meta.get("start_time")
        for tx in txs:
            transactions += 1
            entry = tx.get("entry_point") or "(unknown)"
            for namespace, usages in (tx.get("limits") or {}).items():
                for key, (used, maximum) in usages.items():
                    if maximum:
                        limit_rows.append((entry, key, namespace, used, maximum, 100.0 * used / maximum))
            if tx.get("failed") or tx.get("category") not in (None, "none"):
                failure_rows.append({"category": tx.get("category"), "fingerprint": tx.get("fingerprint"),
                                     "entry_point": entry, "limit": tx.get("limit"),
                                     "example": tx.get("exceptions") or tx.get("hint"), "seen": seen})
    return limit_rows, failure_rows, logs, transactions


def build_report(summaries: Iterable[tuple[dict[str, Any], list[dict[str, Any]]]]) -> LogsReport:
    """The report from (log metadata, transaction summaries) pairs."""
    limit_rows, failure_rows, logs, transactions = _rows(summaries)
    frame = pd.DataFrame(limit_rows, columns=["entry_point", "limit", "namespace", "used", "max", "pct"])
    if frame.empty:
        limits = pd.DataFrame(columns=LIMIT_COLUMNS)
    else:
        grouped = frame.groupby(["entry_point", "limit", "namespace"], sort=False)
        limits = grouped.agg(transactions=("pct", "size"), max_pct=("pct", "max"),
                             p95_pct=("pct", lambda s: s.quantile(0.95)),
                             over_80=("pct", lambda s: int((s >= NEAR).sum())), max_used=("used", "max"),
                             max=("max", "max")).reset_index()
        limits["max_pct"] = limits["max_pct"].round(1)
        limits["p95_pct"] = limits["p95_pct"].round(1)
        limits = limits[limits["max_used"] > 0].sort_values(["max_pct", "p95_pct"], ascending=False)
        limits = limits[LIMIT_COLUMNS].reset_index(drop=True)
    fails = pd.DataFrame(failure_rows, columns=["category", "fingerprint", "entry_point", "limit", "example",
                                                "seen"])
    if fails.empty:
        failures = pd.DataFrame(columns=FAILURE_COLUMNS)
    else:
        failures = (fails.groupby(["category", "fingerprint"], dropna=False, sort=False)
                    .agg(count=("entry_point", "size"), entry_point=("entry_point", "first"),
                         limit=("limit", "first"), example=("example", "first"), first_seen=("seen", "min"),
                         last_seen=("seen", "max"))
                    .reset_index().sort_values("count", ascending=False)[FAILURE_COLUMNS]
                    .reset_index(drop=True))
    return LogsReport(limits, failures, logs, transactions)


def logs_report(store: Store, org: str | None = None, since: dt.datetime | None = None) -> LogsReport:
    """The report over the logs pulled into `store` (optionally one org, optionally since a time)."""
    return build_report(iter_summaries(store, org, since))
