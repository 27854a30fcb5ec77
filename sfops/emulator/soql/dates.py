"""Date literals (TODAY, LAST_N_DAYS:n, ...) as half-open ranges [start, end), computed from `now`.

Days start at midnight in the time zone of `now` (the caller passes `now` in the user's or org's time
zone, as Salesforce evaluates date literals there; a naive `now` is UTC). Weeks start on Sunday
(Salesforce's en_US locale) and fiscal periods are calendar periods (the default fiscal year starts
in January).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

DATE_LITERALS = frozenset(
    {
        "YESTERDAY",
        "TODAY",
        "TOMORROW",
        "LAST_WEEK",
        "THIS_WEEK",
        "NEXT_WEEK",
        "LAST_MONTH",
        "THIS_MONTH",
        "NEXT_MONTH",
        "LAST_90_DAYS",
        "NEXT_90_DAYS",
        "LAST_QUARTER",
        "THIS_QUARTER",
        "NEXT_QUARTER",
        "LAST_YEAR",
        "THIS_YEAR",
        "NEXT_YEAR",
        "LAST_FISCAL_QUARTER",
        "THIS_FISCAL_QUARTER",
        "NEXT_FISCAL_QUARTER",
        "LAST_FISCAL_YEAR",
        "THIS_FISCAL_YEAR",
        "NEXT_FISCAL_YEAR",
    }
)
N_DATE_LITERALS = frozenset(
    {
        "LAST_N_DAYS",
        "NEXT_N_DAYS",
        "N_DAYS_AGO",
        "N_DAYS_FROM_NOW",
        "LAST_N_WEEKS",
        "NEXT_N_WEEKS",
        "N_WEEKS_AGO",
        "N_WEEKS_FROM_NOW",
        "LAST_N_MONTHS",
        "NEXT_N_MONTHS",
        "N_MONTHS_AGO",
        "N_MONTHS_FROM_NOW",
        "LAST_N_QUARTERS",
        "NEXT_N_QUARTERS",
        "N_QUARTERS_AGO",
        "N_QUARTERS_FROM_NOW",
        "LAST_N_YEARS",
        "NEXT_N_YEARS",
        "N_YEARS_AGO",
        "N_YEARS_FROM_NOW",
        "LAST_N_FISCAL_QUARTERS",
        "NEXT_N_FISCAL_QUARTERS",
        "LAST_N_FISCAL_YEARS",
        "NEXT_N_FISCAL_YEARS",
        "LAST_N_HOURS",
        "NEXT_N_HOURS",
    }
)


def _midnight(d: date, tz: tzinfo = UTC) -> datetime:
    return datetime.combine(d, time(0), tzinfo=tz)


def _add_months(d: date, months: int) -> date:
    """First day of the month `months` after d's month (d must be a first-of-month)."""
    index = d.year * 12 + (d.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def date_literal_range(name: str, n: int | None, now: datetime) -> tuple[datetime, datetime]:
    """The [start, end) range a date literal denotes at instant `now` (aware, in `now`'s time zone)."""
    zone = now.tzinfo or UTC
    now = now.astimezone(zone) if now.tzinfo else now.replace(tzinfo=UTC)
    today = now.date()
    day = timedelta(days=1)
    week_start = today - timedelta(days=(today.weekday() + 1) % 7)  # Sunday
    month_start = today.replace(day=1)
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    year_start = date(today.year, 1, 1)
    name = name.replace("_FISCAL", "")
    count = n or 0

    def days(start: date, end: date) -> tuple[datetime, datetime]:
        return _midnight(start, zone), _midnight(end, zone)

    def months(start: date, a: int, b: int) -> tuple[datetime, datetime]:
        return _midnight(_add_months(start, a), zone), _midnight(_add_months(start, b), zone)

    table = {
        "YESTERDAY": lambda: days(today - day, today),
        "TODAY": lambda: days(today, today + day),
        "TOMORROW": lambda: days(today + day, today + 2 * day),
        "LAST_WEEK": lambda: days(week_start - 7 * day, week_start),
        "THIS_WEEK": lambda: days(week_start, week_start + 7 * day),
        "NEXT_WEEK": lambda: days(week_start + 7 * day, week_start + 14 * day),
        "LAST_MONTH": lambda: months(month_start, -1, 0),
        "THIS_MONTH": lambda: months(month_start, 0, 1),
        "NEXT_MONTH": lambda: months(month_start, 1, 2),
        "LAST_90_DAYS": lambda: days(today - 90 * day, today + day),
        "NEXT_90_DAYS": lambda: days(today + day, today + 91 * day),
        "LAST_QUARTER": lambda: months(quarter_start, -3, 0),
        "THIS_QUARTER": lambda: months(quarter_start, 0, 3),
        "NEXT_QUARTER": lambda: months(quarter_start, 3, 6),
        "LAST_YEAR": lambda: months(year_start, -12, 0),
        "THIS_YEAR": lambda: months(year_start, 0, 12),
        "NEXT_YEAR": lambda: months(year_start, 12, 24),
        # LAST_N_DAYS:n covers today and the n days before it; NEXT_N_DAYS:n starts tomorrow
        "LAST_N_DAYS": lambda: days(today - count * day, today + day),
        "NEXT_N_DAYS": lambda: days(today + day, today + (count + 1) * day),
        "N_DAYS_AGO": lambda: days(today - count * day, today - (count - 1) * day),
        "N_DAYS_FROM_NOW": lambda: days(today + count * day, today + (count + 1) * day),
        "LAST_N_WEEKS": lambda: days(week_start - 7 * count * day, week_start),
        "NEXT_N_WEEKS": lambda: days(week_start + 7 * day, week_start + 7 * (count + 1) * day),
        "N_WEEKS_AGO": lambda: days(week_start - 7 * count * day, week_start - 7 * (count - 1) * day),
        "N_WEEKS_FROM_NOW": lambda: days(week_start + 7 * count * day, week_start + 7 * (count + 1) * day),
        "LAST_N_MONTHS": lambda: months(month_start, -count, 0),
        "NEXT_N_MONTHS": lambda: months(month_start, 1, count + 1),
        "N_MONTHS_AGO": lambda: months(month_start, -count, -count + 1),
        "N_MONTHS_FROM_NOW": lambda: months(month_start, count, count + 1),
        "LAST_N_QUARTERS": lambda: months(quarter_start, -3 * count, 0),
        "NEXT_N_QUARTERS": lambda: months(quarter_start, 3, 3 * (count + 1)),
        "N_QUARTERS_AGO": lambda: months(quarter_start, -3 * count, -3 * count + 3),
        "N_QUARTERS_FROM_NOW": lambda: months(quarter_start, 3 * count, 3 * count + 3),
        "LAST_N_YEARS": lambda: months(year_start, -12 * count, 0),
        "NEXT_N_YEARS": lambda: months(year_start, 12, 12 * (count + 1)),
        "N_YEARS_AGO": lambda: months(year_start, -12 * count, -12 * count + 12),
        "N_YEARS_FROM_NOW": lambda: months(year_start, 12 * count, 12 * count + 12),
        "LAST_N_HOURS": lambda: (now - timedelta(hours=count), now + timedelta(microseconds=1)),
        "NEXT_N_HOURS": lambda: (now, now + timedelta(hours=count)),
    }
    return table[name]()
