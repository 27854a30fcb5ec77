"""Date literal ranges (half-open, in the time zone of `now`), computed from `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from sfops.emulator.soql.dates import DATE_LITERALS, N_DATE_LITERALS, date_literal_range

NOW = datetime(2026, 11, 26, 18, 30, tzinfo=UTC)  # Thursday


def d(y: int, m: int, day: int) -> datetime:
    return datetime(y, m, day, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "n", "start", "end"),
    [
        ("TODAY", None, d(2026, 11, 26), d(2026, 11, 27)),
        ("YESTERDAY", None, d(2026, 11, 25), d(2026, 11, 26)),
        ("TOMORROW", None, d(2026, 11, 27), d(2026, 11, 28)),
        ("THIS_WEEK", None, d(2026, 11, 22), d(2026, 11, 29)),  # weeks start on Sunday
        ("LAST_WEEK", None, d(2026, 11, 15), d(2026, 11, 22)),
        ("NEXT_WEEK", None, d(2026, 11, 29), d(2026, 12, 6)),
        ("THIS_MONTH", None, d(2026, 11, 1), d(2026, 12, 1)),
        ("LAST_MONTH", None, d(2026, 10, 1), d(2026, 11, 1)),
        ("NEXT_MONTH", None, d(2026, 12, 1), d(2027, 1, 1)),
        ("THIS_QUARTER", None, d(2026, 10, 1), d(2027, 1, 1)),
        ("LAST_QUARTER", None, d(2026, 7, 1), d(2026, 10, 1)),
        ("NEXT_QUARTER", None, d(2027, 1, 1), d(2027, 4, 1)),
        ("THIS_YEAR", None, d(2026, 1, 1), d(2027, 1, 1)),
        ("LAST_YEAR", None, d(2025, 1, 1), d(2026, 1, 1)),
        ("THIS_FISCAL_YEAR", None, d(2026, 1, 1), d(2027, 1, 1)),
        ("LAST_90_DAYS", None, d(2026, 8, 28), d(2026, 11, 27)),
        ("LAST_N_DAYS", 7, d(2026, 11, 19), d(2026, 11, 27)),
        ("LAST_N_DAYS", 0, d(2026, 11, 26), d(2026, 11, 27)),
        ("NEXT_N_DAYS", 2, d(2026, 11, 27), d(2026, 11, 29)),
        ("N_DAYS_AGO", 3, d(2026, 11, 23), d(2026, 11, 24)),
        ("LAST_N_WEEKS", 2, d(2026, 11, 8), d(2026, 11, 22)),
        ("N_WEEKS_AGO", 1, d(2026, 11, 15), d(2026, 11, 22)),
        ("LAST_N_MONTHS", 2, d(2026, 9, 1), d(2026, 11, 1)),
        ("NEXT_N_MONTHS", 2, d(2026, 12, 1), d(2027, 2, 1)),
        ("N_MONTHS_AGO", 11, d(2025, 12, 1), d(2026, 1, 1)),
        ("LAST_N_QUARTERS", 1, d(2026, 7, 1), d(2026, 10, 1)),
        ("LAST_N_YEARS", 2, d(2024, 1, 1), d(2026, 1, 1)),
        ("NEXT_N_YEARS", 1, d(2027, 1, 1), d(2028, 1, 1)),
        ("N_YEARS_AGO", 1, d(2025, 1, 1), d(2026, 1, 1)),
        ("LAST_N_HOURS", 2, NOW - timedelta(hours=2), NOW + timedelta(microseconds=1)),
        ("NEXT_N_HOURS", 3, NOW, NOW + timedelta(hours=3)),
    ],
)
def test_ranges(name: str, n: int | None, start: datetime, end: datetime) -> None:
    assert date_literal_range(name, n, NOW) == (start, end)


def test_days_start_at_midnight_in_the_zone_of_now() -> None:
    # Salesforce evaluates date literals in the user's time zone: at 20:00 on the 26th in UTC-8 (04:00 UTC
    # on the 27th) TODAY is still the 26th there, from 08:00 UTC to 08:00 UTC
    west = timezone(timedelta(hours=-8))
    late_evening_west = datetime(2026, 11, 26, 20, 0, tzinfo=west)
    start, end = date_literal_range("TODAY", None, late_evening_west)
    assert (start, end) == (datetime(2026, 11, 26, tzinfo=west), datetime(2026, 11, 27, tzinfo=west))
    assert start.astimezone(UTC) == datetime(2026, 11, 26, 8, tzinfo=UTC)


def test_every_literal_has_a_range() -> None:
    for name in DATE_LITERALS:
        start, end = date_literal_range(name, None, NOW)
        assert start < end
    for name in N_DATE_LITERALS:
        start, end = date_literal_range(name, 3, NOW)
        assert start < end, name
