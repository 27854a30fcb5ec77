"""`sfops logs report`: which entry points come closest to which governor limits, and what fails how often.

Built with pandas from the per-transaction summaries stored by `sfops logs pull` (or from any iterable of
summaries, e.g. from `sfops logs analyze`).
"""

from __future__ import annotations

import datetime as dt
import gc
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sfops.store import Store
from sfops.store.apex_logs import iter_summaries
from sfops.store.error_events import ERROR_COLUMNS, error_records

NEAR = 80.0
LIMIT_COLUMNS = [
    "entry_point",
    "limit",
    "namespace",
    "transactions",
    "max_pct",
    "p95_pct",
    "over_80",
    "max_used",
    "max",
]
FAILURE_COLUMNS = [
    "source",
    "category",
    "fingerprint",
    "count",
    "entry_point",
    "limit",
    "example",
    "first_seen",
    "last_seen",
]


@dataclass
class LogsReport:
    """Two tables: limit usage per entry point and limit, and failures by category and fingerprint."""

    limits: pd.DataFrame
    failures: pd.DataFrame
    logs: int
    transactions: int


def _columns(
    summaries: Iterable[tuple[dict[str, Any], list[dict[str, Any]]]],
) -> tuple[dict[str, array[int]], dict[str, list[str]], list[dict[str, Any]], int, int]:
    """Integer-coded columns (entry point, limit, namespace, used, max) for every limit a transaction used,
    the code tables, the failure rows, and the log and transaction counts."""
    codes: dict[str, dict[str, int]] = {"entry_point": {}, "limit": {}, "namespace": {}}
    entry_codes, key_codes, ns_codes = codes["entry_point"], codes["limit"], codes["namespace"]
    # array('q') rather than lists: appends cost the same and numpy reads the buffer without converting.
    entries, keys, namespaces, used_col, max_col = (array("q") for _ in range(5))
    failure_rows: list[dict[str, Any]] = []
    logs = transactions = 0
    for meta, txs in summaries:
        logs += 1
        seen = meta.get("start_time")
        for tx in txs:
            transactions += 1
            entry = tx.get("entry_point") or "(unknown)"
            entry_code = entry_codes.setdefault(entry, len(entry_codes))
            for namespace, usages in (tx.get("limits") or {}).items():
                ns_code = ns_codes.setdefault(namespace, len(ns_codes))
                for key, (used, maximum) in usages.items():
                    if used and maximum:
                        entries.append(entry_code)
                        keys.append(key_codes.setdefault(key, len(key_codes)))
                        namespaces.append(ns_code)
                        used_col.append(used)
                        max_col.append(maximum)
            if tx.get("failed") or tx.get("category") not in (None, "none"):
                failure_rows.append(
                    {
                        "category": tx.get("category"),
                        "fingerprint": tx.get("fingerprint"),
                        "entry_point": entry,
                        "limit": tx.get("limit"),
                        "example": tx.get("exceptions") or tx.get("hint"),
                        "seen": seen,
                    }
                )
    columns = {"entry_point": entries, "limit": keys, "namespace": namespaces, "used": used_col, "max": max_col}
    names = {name: list(table) for name, table in codes.items()}  # code -> name (dicts keep insertion order)
    return columns, names, failure_rows, logs, transactions


def build_report(summaries: Iterable[tuple[dict[str, Any], list[dict[str, Any]]]]) -> LogsReport:
    """The report from (log metadata, transaction summaries) pairs.

    Limit rows count only the transactions that used a limit at all (used > 0); percentages are of the
    maximum the log itself reported, per namespace.
    """
    gc_was_enabled = gc.isenabled()
    gc.disable()  # millions of small objects: the cyclic GC would rescan them on every allocation burst
    try:
        columns, names, failure_rows, logs, transactions = _columns(summaries)
    finally:
        if gc_was_enabled:
            gc.enable()
    frame = pd.DataFrame(
        {k: np.frombuffer(v, dtype=np.int64) if len(v) else np.zeros(0, np.int64) for k, v in columns.items()}
    )
    if frame.empty:
        limits = pd.DataFrame(columns=LIMIT_COLUMNS)
    else:
        frame["pct"] = 100.0 * frame["used"] / frame["max"]
        frame["near"] = frame["pct"] >= NEAR
        grouped = frame.groupby(["entry_point", "limit", "namespace"], sort=False)
        limits = grouped.agg(
            transactions=("pct", "size"),
            max_pct=("pct", "max"),
            over_80=("near", "sum"),
            max_used=("used", "max"),
            max=("max", "max"),
        )
        limits["p95_pct"] = grouped["pct"].quantile(0.95)
        limits = limits.reset_index()
        for name in ("entry_point", "limit", "namespace"):
            limits[name] = np.asarray(names[name], dtype=object)[limits[name].to_numpy()]
        limits["max_pct"] = limits["max_pct"].round(1)
        limits["p95_pct"] = limits["p95_pct"].round(1)
        limits["over_80"] = limits["over_80"].astype(int)
        limits = limits.sort_values(["max_pct", "p95_pct"], ascending=False)[LIMIT_COLUMNS].reset_index(drop=True)
    fails = pd.DataFrame(failure_rows, columns=["category", "fingerprint", "entry_point", "limit", "example", "seen"])
    if fails.empty:
        failures = pd.DataFrame(columns=FAILURE_COLUMNS)
    else:
        failures = (
            fails.groupby(["category", "fingerprint"], dropna=False, sort=False)
            .agg(
                count=("entry_point", "size"),
                entry_point=("entry_point", "first"),
                limit=("limit", "first"),
                example=("example", "first"),
                first_seen=("seen", "min"),
                last_seen=("seen", "max"),
            )
            .reset_index()
            .sort_values("count", ascending=False)
        )
        failures.insert(0, "source", "ApexLog")
        failures = failures[FAILURE_COLUMNS].reset_index(drop=True)
    return LogsReport(limits, failures, logs, transactions)


def error_history(store: Store, alias: str | None = None, since: dt.datetime | None = None) -> pd.DataFrame:
    """Imported Error_Log__c / EventLogFile errors grouped by source, category and fingerprint."""
    frame = pd.DataFrame(error_records(store, alias, since), columns=list(ERROR_COLUMNS))
    if frame.empty:
        return pd.DataFrame(columns=FAILURE_COLUMNS)
    frame["example"] = frame["exception_type"].fillna("") + ": " + frame["message"].fillna("").str.slice(0, 120)
    frame["limit"] = None
    grouped = (
        frame.groupby(["source", "category", "fingerprint"], dropna=False, sort=False)
        .agg(
            count=("example", "size"),
            entry_point=("entry_point", "first"),
            limit=("limit", "first"),
            example=("example", "first"),
            first_seen=("occurred_at", "min"),
            last_seen=("occurred_at", "max"),
        )
        .reset_index()
        .sort_values("count", ascending=False)
    )
    return grouped[FAILURE_COLUMNS].reset_index(drop=True)


def logs_report(store: Store, alias: str | None = None, since: dt.datetime | None = None) -> LogsReport:
    """The report over the logs pulled into `store` (optionally one org, optionally since a time); the failures
    table also holds the imported Error_Log__c / EventLogFile history."""
    report = build_report(iter_summaries(store, alias, since))
    errors = error_history(store, alias, since)
    if not errors.empty:
        frames = [f for f in (report.failures, errors) if not f.empty]
        report.failures = (
            pd.concat(frames, ignore_index=True)
            .sort_values("count", ascending=False, kind="stable")
            .reset_index(drop=True)
        )
    return report
