"""Salesforce datetime values as the REST API writes and accepts them (`2026-11-26T18:00:00.000+0000`).

SOQL literals (datetimes, IN lists) are written by `sfops.salesforce.soql.soql_literal`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def parse_datetime(value: Any) -> dt.datetime | None:
    """A Salesforce datetime as an aware datetime; None for None, "" and text that is not one.

    Accepts `...000+0000` (REST), `...Z`, `+00:00` offsets and datetimes (naive ones taken as UTC);
    the result is in UTC.
    """
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    text = str(value)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def require_datetime(value: Any) -> dt.datetime:
    """Like `parse_datetime`, for a field that must hold a datetime: anything else is a ValueError."""
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError(f"not a Salesforce datetime: {value!r}")
    return parsed


def format_datetime(value: dt.datetime) -> str:
    """An aware datetime in the REST form Salesforce writes (UTC, milliseconds kept)."""
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"
