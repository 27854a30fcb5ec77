"""Incident metrics with pandas: MTTA, MTTR, time to mitigate; counts by severity over time;
change failure rate from releases linked to rollbacks or P1/P2 incidents.

All durations are in minutes, measured from Detected_At. An incident that has not reached a
phase does not count towards that phase's mean.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sfops.incidents.model import Incident

_PHASES = {"mtta": "acknowledged_at", "time_to_mitigate": "mitigated_at", "mttr": "resolved_at"}


def frame(incidents: Iterable[Incident]) -> pd.DataFrame:
    """One row per incident with phase durations in minutes."""
    rows = [
        {
            "id": i.id,
            "ref": i.ref,
            "severity": i.severity,
            "category": i.category or "Other",
            "status": i.status.value,
            "release": i.release,
            "detected_at": i.detected_at,
            "acknowledged_at": i.acknowledged_at,
            "mitigated_at": i.mitigated_at,
            "resolved_at": i.resolved_at,
        }
        for i in incidents
        if i.detected_at is not None
    ]
    columns = [
        "id",
        "ref",
        "severity",
        "category",
        "status",
        "release",
        "detected_at",
        "acknowledged_at",
        "mitigated_at",
        "resolved_at",
    ]
    df = pd.DataFrame(rows, columns=columns)
    for col in ("detected_at", "acknowledged_at", "mitigated_at", "resolved_at"):
        df[col] = pd.to_datetime(df[col], utc=True)
    for name, col in _PHASES.items():
        df[name] = (df[col] - df["detected_at"]).dt.total_seconds() / 60
    df["month"] = df["detected_at"].dt.strftime("%Y-%m")
    return df


def _agg(df: pd.DataFrame, by: str | None) -> list[dict[str, Any]]:
    spec = {
        "incidents": ("id", "count"),
        "mtta": ("mtta", "mean"),
        "time_to_mitigate": ("time_to_mitigate", "mean"),
        "mttr": ("mttr", "mean"),
    }
    if by is None:
        out = {k: (df[c].count() if how == "count" else df[c].mean()) for k, (c, how) in spec.items()}
        return [{k: _round(v) for k, v in out.items()}]
    grouped = df.groupby(by, dropna=False).agg(**spec).reset_index()
    return [{k: _round(v) for k, v in row.items()} for row in grouped.to_dict(orient="records")]


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return None if pd.isna(value) else round(value, 1)
    if hasattr(value, "item"):
        return value.item()
    return value


@dataclass
class Metrics:
    """Every figure `sfops incident metrics` reports."""

    overall: dict[str, Any]
    by_severity: list[dict[str, Any]]
    by_category: list[dict[str, Any]]
    by_month: list[dict[str, Any]]
    counts_by_severity: list[dict[str, Any]]
    change_failure: dict[str, Any] = field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        """A flat table: one row per (dimension, value)."""
        out = [{"dimension": "overall", "value": "all", **self.overall}]
        for dim, items, key in (
            ("severity", self.by_severity, "severity"),
            ("category", self.by_category, "category"),
            ("month", self.by_month, "month"),
        ):
            out += [{"dimension": dim, "value": r[key], **{k: v for k, v in r.items() if k != key}} for r in items]
        return out


def counts_over_time(df: pd.DataFrame, freq: str = "month") -> list[dict[str, Any]]:
    """Incident counts per period (month or week) and severity: [{period, P1, P2, P3, P4, total}]."""
    if df.empty:
        return []
    period = df["month"] if freq == "month" else df["detected_at"].dt.strftime("%G-W%V")
    table = pd.crosstab(period, df["severity"])
    for sev in ("P1", "P2", "P3", "P4"):
        if sev not in table.columns:
            table[sev] = 0
    table = table[["P1", "P2", "P3", "P4"]]
    table["total"] = table.sum(axis=1)
    table.index.name = "period"
    return [{k: _round(v) for k, v in r.items()} for r in table.reset_index().to_dict(orient="records")]


def change_failure_rate(releases: Iterable[str], failed_releases: Iterable[str]) -> dict[str, Any]:
    """Share of releases that failed (rolled back or linked to a P1/P2 incident)."""
    known = sorted({r for r in releases if r})
    failed = sorted({r for r in failed_releases if r} & set(known))
    rate = round(100 * len(failed) / len(known), 1) if known else None
    return {"releases": len(known), "failed": len(failed), "rate_percent": rate, "failed_releases": failed}


def compute(
    incidents: Iterable[Incident],
    *,
    since: dt.datetime | None = None,
    deployed_releases: Iterable[str] = (),
    rolled_back_releases: Iterable[str] = (),
) -> Metrics:
    """Metrics over the incidents detected since `since`."""
    df = frame(incidents)
    if since is not None:
        df = df[df["detected_at"] >= pd.Timestamp(since)]
    serious = df[df["severity"].isin(["P1", "P2"])]["release"].dropna().tolist()
    releases = list(deployed_releases) + df["release"].dropna().tolist() + list(rolled_back_releases)
    cfr = change_failure_rate(releases, list(rolled_back_releases) + serious)
    return Metrics(
        overall=_agg(df, None)[0],
        by_severity=_agg(df, "severity"),
        by_category=_agg(df, "category"),
        by_month=_agg(df, "month"),
        counts_by_severity=counts_over_time(df),
        change_failure=cfr,
    )
