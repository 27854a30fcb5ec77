"""sfops.clock: every moment sfops handles is aware and in UTC."""

from __future__ import annotations

import datetime as dt

from sfops.clock import aware, aware_row, utcnow

PARIS = dt.timezone(dt.timedelta(hours=1))


def test_utcnow_is_aware_utc() -> None:
    assert utcnow().utcoffset() == dt.timedelta(0)


def test_aware_takes_naive_as_utc_and_converts_other_zones() -> None:
    naive = dt.datetime(2026, 3, 1, 9, 0)
    assert aware(naive) == dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    converted = aware(dt.datetime(2026, 3, 1, 10, 0, tzinfo=PARIS))
    assert converted.tzinfo is dt.UTC and converted.hour == 9
    assert aware(None) is None


def test_aware_row_repairs_only_the_naive_datetimes_sqlite_hands_back() -> None:
    row = {
        "at": dt.datetime(2026, 3, 1, 9, 0),
        "id": 7,
        "note": None,
        "seen": dt.datetime(2026, 3, 1, 10, 0, tzinfo=PARIS),
    }
    fixed = aware_row(row)
    assert fixed == {
        "at": dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC),
        "id": 7,
        "note": None,
        "seen": dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC),
    }
    assert row["at"].tzinfo is None  # the input is not changed
