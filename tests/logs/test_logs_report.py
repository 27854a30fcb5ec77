"""`build_report` aggregation on hand-made summaries (no org, no store)."""

from __future__ import annotations

from typing import Any

from sfops.logs.report import build_report


def tx(
    entry: str,
    soql: int,
    *,
    cpu: int = 0,
    category: str = "none",
    fingerprint: str | None = None,
    ns: str = "(default)",
    soql_max: int = 100,
) -> dict[str, Any]:
    limits = {"soql_queries": [soql, soql_max]}
    if cpu:
        limits["cpu_time"] = [cpu, 10000]
    return {
        "entry_point": entry,
        "limits": {ns: limits},
        "category": category,
        "fingerprint": fingerprint,
        "failed": category != "none",
        "limit": "soql_queries" if category == "governor_limit" else None,
        "exceptions": f"{category} example",
        "hint": "",
    }


def test_max_p95_and_over_80_per_entry_point_and_limit() -> None:
    summaries = [
        ({"start_time": 1}, [tx("A", 10), tx("A", 50), tx("A", 90, cpu=2000)]),
        ({"start_time": 2}, [tx("A", 100), tx("A", 85), tx("B", 150, soql_max=200), tx("B", 0)]),
    ]
    report = build_report(summaries)
    assert (report.logs, report.transactions) == (2, 7)
    rows = {(r["entry_point"], r["limit"]): r for r in report.limits.to_dict(orient="records")}
    a = rows[("A", "soql_queries")]
    # pct values 10, 50, 90, 100, 85 -> max 100, p95 by linear interpolation 90 + 0.8 * 10 = 98
    assert (a["transactions"], a["max_pct"], a["p95_pct"], a["over_80"], a["max_used"], a["max"]) == (
        5,
        100.0,
        98.0,
        3,
        100,
        100,
    )
    assert rows[("B", "soql_queries")]["max_pct"] == 75.0  # the transaction's own maximum (async 200)
    assert rows[("B", "soql_queries")]["transactions"] == 1  # unused limits are not counted
    assert rows[("A", "cpu_time")]["max_pct"] == 20.0
    assert report.limits.iloc[0]["entry_point"] == "A"  # closest to its limit first


def test_failures_grouped_by_category_and_fingerprint() -> None:
    summaries = [
        ({"start_time": 10}, [tx("A", 101, category="governor_limit", fingerprint="f1")]),
        (
            {"start_time": 20},
            [
                tx("A", 101, category="governor_limit", fingerprint="f1"),
                tx("C", 1, category="row_lock", fingerprint="f2"),
            ],
        ),
        ({"start_time": 30}, [tx("A", 5)]),
    ]
    failures = build_report(summaries).failures.to_dict(orient="records")
    assert [(f["category"], f["fingerprint"], f["count"], f["first_seen"], f["last_seen"]) for f in failures] == [
        ("governor_limit", "f1", 2, 10, 20),
        ("row_lock", "f2", 1, 20, 20),
    ]
    assert failures[0]["limit"] == "soql_queries" and failures[0]["entry_point"] == "A"
