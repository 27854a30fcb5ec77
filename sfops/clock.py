"""Time in sfops: every moment is an aware UTC datetime.

Domain functions take a `clock` (a callable returning now) so tests can pin time; `utcnow` is the
default. `aware` repairs what SQLite hands back: it drops tzinfo, and every time sfops stores is UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, overload

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    """Now, as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


@overload
def aware(value: dt.datetime) -> dt.datetime: ...
@overload
def aware(value: None) -> None: ...
def aware(value: dt.datetime | None) -> dt.datetime | None:
    """`value` in UTC; a naive datetime is taken to be UTC already. None stays None."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def aware_row(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A store row with every naive datetime made aware (UTC)."""
    return {k: aware(v) if isinstance(v, dt.datetime) else v for k, v in row.items()}
