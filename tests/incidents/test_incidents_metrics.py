"""Metrics on a seeded history whose expected figures are computed by hand below."""

from __future__ import annotations

import datetime as dt

from sfops.incidents import records
from sfops.incidents.metrics import change_failure_rate, compute
from sfops.incidents.metrics_source import compute_for
from sfops.incidents.model import Incident, Status
from sfops.store import Store


def _at(month: int, day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)


def _inc(
    n: int,
    sev: str,
    cat: str,
    detected: dt.datetime,
    ack: int | None,
    mit: int | None,
    res: int | None,
    release: str | None = None,
) -> Incident:
    def plus(minutes: int | None) -> dt.datetime | None:
        return None if minutes is None else detected + dt.timedelta(minutes=minutes)

    status = Status.RESOLVED if res is not None else (Status.TRIAGED if ack is not None else Status.NEW)
    return Incident(
        id=f"a03000000000{n:03d}AAA",
        org="emu",
        severity=sev,
        status=status,
        summary=f"#{n}",
        category=cat,
        detected_at=detected,
        acknowledged_at=plus(ack),
        mitigated_at=plus(mit),
        resolved_at=plus(res),
        release=release,
    )


HISTORY = [
    #    sev   category          detected         ack  mit  resolve
    _inc(1, "P1", "Integration", _at(9, 3, 10), 5, 20, 60, "R1"),
    _inc(2, "P1", "Governor Limit", _at(9, 20, 12), 15, 30, 90, "R2"),
    _inc(3, "P2", "Integration", _at(10, 5, 8), 10, 40, 120),
    _inc(4, "P3", "Other", _at(10, 10, 9), 30, None, None),
    _inc(5, "P4", "Other", _at(10, 11, 9), None, None, None),
]


def test_overall_and_by_severity_by_hand() -> None:
    m = compute(HISTORY)
    # MTTA = (5 + 15 + 10 + 30) / 4; time to mitigate = (20 + 30 + 40) / 3; MTTR = (60 + 90 + 120) / 3
    assert m.overall == {"incidents": 5, "mtta": 15.0, "time_to_mitigate": 30.0, "mttr": 90.0}
    by_sev = {r["severity"]: r for r in m.by_severity}
    assert by_sev["P1"] == {"severity": "P1", "incidents": 2, "mtta": 10.0, "time_to_mitigate": 25.0, "mttr": 75.0}
    assert by_sev["P2"]["mttr"] == 120.0 and by_sev["P2"]["mtta"] == 10.0
    assert by_sev["P3"]["mtta"] == 30.0 and by_sev["P3"]["mttr"] is None
    assert by_sev["P4"]["mtta"] is None


def test_by_category_and_month_by_hand() -> None:
    m = compute(HISTORY)
    by_cat = {r["category"]: r for r in m.by_category}
    assert by_cat["Integration"] == {
        "category": "Integration",
        "incidents": 2,
        "mtta": 7.5,
        "time_to_mitigate": 30.0,
        "mttr": 90.0,
    }
    by_month = {r["month"]: r for r in m.by_month}
    assert by_month["2026-09"]["mtta"] == 10.0 and by_month["2026-09"]["mttr"] == 75.0
    assert by_month["2026-10"]["incidents"] == 3 and by_month["2026-10"]["mtta"] == 20.0
    assert by_month["2026-10"]["mttr"] == 120.0


def test_counts_by_severity_over_time_and_since() -> None:
    m = compute(HISTORY)
    assert m.counts_by_severity == [
        {"period": "2026-09", "P1": 2, "P2": 0, "P3": 0, "P4": 0, "total": 2},
        {"period": "2026-10", "P1": 0, "P2": 1, "P3": 1, "P4": 1, "total": 3},
    ]
    recent = compute(HISTORY, since=_at(10, 1, 0))
    assert recent.overall["incidents"] == 3 and recent.overall["mttr"] == 120.0


def test_change_failure_rate_from_releases() -> None:
    # deployed R1..R4; R2 rolled back; R1 and R2 carry P1 incidents -> 2 of 4 failed
    m = compute(HISTORY, deployed_releases=["R1", "R2", "R3", "R4"], rolled_back_releases=["R2"])
    assert m.change_failure == {"releases": 4, "failed": 2, "rate_percent": 50.0, "failed_releases": ["R1", "R2"]}
    assert change_failure_rate([], [])["rate_percent"] is None


def test_empty_history() -> None:
    m = compute([])
    assert m.overall["incidents"] == 0 and m.overall["mttr"] is None and m.counts_by_severity == []


def test_from_the_store_with_releases_from_the_audit_trail(store: Store) -> None:
    for inc in HISTORY:
        records.save_incident(store, inc)
    for release in ("R1", "R2", "R3", "R4"):
        store.record_audit(actor="ci", alias="emu", action="deploy.release", target=release)
    store.record_audit(actor="bob", alias="emu", action="rollback.deploy", target="whatever", details={"release": "R2"})
    store.record_audit(actor="bob", alias="other", action="deploy.release", target="R9")
    m = compute_for(store, "emu", None)
    assert m.overall["mttr"] == 90.0
    assert m.change_failure["releases"] == 4 and m.change_failure["rate_percent"] == 50.0
