"""What each console page shows, read from the store (and, for switch values only, from the org).

Pages never call the org on their own: switch values come through `SwitchCache` (at most one read per
org per `ttl` seconds, and none at all for the static export without an org), everything else from the
store the agent keeps filling.
"""

from __future__ import annotations

import datetime as dt
import statistics
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sfops.store import agent_status, console_reads

OPEN = ("New", "Triaged", "Investigating", "Mitigated")
SEVERITIES = ("P1", "P2", "P3", "P4")
PERIODS = {"7d": 7, "30d": 30, "90d": 90, "365d": 365, "all": None}
FAILURE_WINDOW = dt.timedelta(hours=24)


@dataclass
class SwitchCache:
    """Effective org-wide switch values per org, read from the org at most every `ttl` seconds."""

    get_org: Callable[[str], Any] | None
    ttl: float = 60.0
    _cache: dict[str, tuple[float, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def values(self, alias: str, store: Any) -> list[tuple[str, Any, int]] | str:
        """[(switch, org-wide value or None when unset, number of profile/user overrides)] or why not shown."""
        if self.get_org is None:
            return "not read (no org connection in this export)"
        with self._lock:
            hit = self._cache.get(alias)
            if hit and time.monotonic() - hit[0] < self.ttl:
                return hit[1]
        try:
            from sfops.switches import list_switches

            rows = list_switches(self.get_org(alias), store)
            result: list[tuple[str, Any, int]] | str = [
                (r.name, r.org_value, len(r.profile_overrides) + len(r.user_overrides)) for r in rows
            ]
        except Exception as exc:  # a page must render even when the org does not answer
            result = f"could not read the org: {getattr(exc, 'message', None) or type(exc).__name__}"
        with self._lock:
            self._cache[alias] = (time.monotonic(), result)
        return result

    def forget(self, alias: str) -> None:
        """Drop the cached values (after a flip from the console)."""
        with self._lock:
            self._cache.pop(alias, None)


@dataclass(frozen=True)
class LimitLine:
    name: str
    used_pct: float
    max: int
    forecast: str
    trend: list[tuple[dt.datetime, float]]


def limit_lines(store: Any, alias: str, now: dt.datetime, top: int = 8) -> list[LimitLine]:
    """The `top` most used limits in the newest snapshot, with their last 24 h and the exhaustion forecast."""
    import pandas as pd

    from sfops.limits import forecast, is_daily

    latest = [
        (name, maximum, remaining)
        for org, name, maximum, remaining, _ in agent_status.latest_limits(store, [alias])
        if maximum > 0
    ]
    latest.sort(key=lambda r: (-(r[1] - r[2]) / r[1], r[0]))
    chosen = latest[:top]
    series: dict[str, list[tuple[dt.datetime, int, int]]] = defaultdict(list)
    for name, taken_at, maximum, remaining in console_reads.snapshot_series(
        store, alias, [c[0] for c in chosen], now - dt.timedelta(hours=24)
    ):
        series[name].append((taken_at, maximum, remaining))
    lines = []
    for name, maximum, remaining in chosen:
        points = series.get(name, [])
        text = "-"
        if is_daily(name):
            frame = pd.DataFrame(points, columns=["taken_at", "max", "remaining"])
            frame["taken_at"] = pd.to_datetime(frame["taken_at"], utc=True)
            text = forecast(frame)[3]
        lines.append(
            LimitLine(
                name,
                round(100 * (maximum - remaining) / maximum, 1),
                maximum,
                text,
                [(t, round(100 * (m - r) / m, 1)) for t, m, r in points if m > 0],
            )
        )
    return lines


def failure_groups(store: Any, alias: str, now: dt.datetime, top: int = 15) -> list[dict[str, Any]]:
    """Failures of the last 24 h grouped by fingerprint: failed debug-log transactions and imported errors."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    since = now - FAILURE_WINDOW
    for start, summaries in console_reads.failing_log_summaries(store, alias, since):
        for tx in summaries or []:
            if not (tx.get("failed") or tx.get("category") not in (None, "none")):
                continue
            key = ("ApexLog", str(tx.get("fingerprint") or "-"))
            group = groups.setdefault(
                key,
                {
                    "source": "ApexLog",
                    "fingerprint": key[1],
                    "count": 0,
                    "category": tx.get("category") or "-",
                    "entry_point": tx.get("entry_point") or "-",
                    "last_seen": start,
                },
            )
            group["count"] += 1
            group["last_seen"] = max(group["last_seen"], start)
    for row in console_reads.error_groups(store, alias, since, top):
        groups[("errors", str(row["fingerprint"]))] = {
            "source": "imported error",
            "fingerprint": row["fingerprint"] or "-",
            "count": row["count"],
            "category": row["category"] or "-",
            "entry_point": row["entry_point"] or row["exception_type"] or "-",
            "last_seen": row["last_seen"],
        }
    return sorted(groups.values(), key=lambda g: (-g["count"], g["fingerprint"]))[:top]


@dataclass(frozen=True)
class Analytics:
    """The analytics page's figures (minutes from detection), per period bucket."""

    orgs: tuple[str, ...]
    period: str
    bucket: str
    incidents: int
    mtta: float | None
    mttr: float | None
    labels: list[str]
    mtta_series: list[float | None]
    mttr_series: list[float | None]
    by_severity: dict[str, list[int]]
    by_category: list[tuple[str, int]]
    mttr_by_severity: list[tuple[str, float | None]]


def _mean(values: Sequence[float]) -> float | None:
    return round(statistics.fmean(values), 1) if values else None


def _bucket(moment: dt.datetime, bucket: str) -> str:
    if bucket == "week":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    return moment.strftime("%Y-%m")


def _continuous(labels: list[str], bucket: str) -> list[str]:
    """Every bucket from the first to the last label, so quiet months/weeks show as gaps on the time axis."""
    if len(labels) < 2:
        return labels
    if bucket == "week":
        start = dt.datetime.strptime(labels[0] + "-1", "%G-W%V-%u")
        end = dt.datetime.strptime(labels[-1] + "-1", "%G-W%V-%u")
        return [_bucket(start + dt.timedelta(weeks=n), "week") for n in range((end - start).days // 7 + 1)]
    (y0, m0), (y1, m1) = (map(int, labels[0].split("-")), map(int, labels[-1].split("-")))
    return [f"{(m - 1) // 12:04d}-{(m - 1) % 12 + 1:02d}" for m in range(y0 * 12 + m0, y1 * 12 + m1 + 1)]


def analytics(store: Any, orgs: Sequence[str], period: str, bucket: str, now: dt.datetime) -> Analytics:
    """MTTA/MTTR over time, incidents by severity per bucket and by category, for the orgs and period."""
    days = PERIODS[period]
    since = None if days is None else now - dt.timedelta(days=days)
    facts = console_reads.incident_facts(store, orgs, since)
    acks: dict[str, list[float]] = defaultdict(list)
    fixes: dict[str, list[float]] = defaultdict(list)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    categories: Counter[str] = Counter()
    sev_fixes: dict[str, list[float]] = defaultdict(list)
    all_acks, all_fixes = [], []
    for _org, severity, category, detected, acked, resolved in facts:
        label = _bucket(detected, bucket)
        counts[label][severity] += 1
        categories[category or "Other"] += 1
        if acked is not None:
            minutes = (acked - detected).total_seconds() / 60
            acks[label].append(minutes)
            all_acks.append(minutes)
        if resolved is not None:
            minutes = (resolved - detected).total_seconds() / 60
            fixes[label].append(minutes)
            all_fixes.append(minutes)
            sev_fixes[severity].append(minutes)
    labels = _continuous(sorted(counts), bucket)
    return Analytics(
        orgs=tuple(orgs),
        period=period,
        bucket=bucket,
        incidents=len(facts),
        mtta=_mean(all_acks),
        mttr=_mean(all_fixes),
        labels=labels,
        mtta_series=[_mean(acks[lb]) for lb in labels],
        mttr_series=[_mean(fixes[lb]) for lb in labels],
        by_severity={sev: [counts[lb][sev] for lb in labels] for sev in SEVERITIES},
        by_category=categories.most_common(12),
        mttr_by_severity=[(s, _mean(sev_fixes[s])) for s in SEVERITIES],
    )
