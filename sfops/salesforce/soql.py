"""Building SOQL safely: quoting strings and rendering Python values as SOQL literals.

Escape sequences follow Salesforce's "Quoted String Escape Sequences" for SOQL: inside a
single-quoted string, backslash, single quote, double quote, newline, carriage return, tab,
backspace and form feed must be written as `\\\\ \\' \\" \\n \\r \\t \\b \\f`. In LIKE patterns
`\\%` and `\\_` match a literal percent sign or underscore.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_TABLE = str.maketrans(_ESCAPES)


def soql_escape(value: str) -> str:
    """The escaped body of a SOQL string literal (no surrounding quotes)."""
    if not isinstance(value, str):
        raise TypeError(f"soql_escape expects str, got {type(value).__name__}")
    return value.translate(_TABLE)


def soql_quote(value: str) -> str:
    """A single-quoted SOQL string literal: `O'Brien` -> `'O\\'Brien'`."""
    return f"'{soql_escape(value)}'"


def soql_like(value: str, *, prefix: bool = False, suffix: bool = False) -> str:
    """A quoted LIKE pattern matching `value` literally (its % and _ escaped), optionally with
    a leading and/or trailing `%` wildcard."""
    body = soql_escape(value).replace("%", "\\%").replace("_", "\\_")
    return f"'{'%' if prefix else ''}{body}{'%' if suffix else ''}'"


def soql_literal(value: Any) -> str:
    """A SOQL literal for a Python value.

    bool -> true/false, None -> null, int/float/Decimal -> number, date -> YYYY-MM-DD,
    datetime -> YYYY-MM-DDTHH:MM:SSZ in UTC (naive datetimes are taken as UTC), str -> quoted,
    list/tuple/set -> `(a, b)` for IN.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"{value} cannot be written in SOQL")
        return repr(value) if "e" not in repr(value) else format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be written in SOQL")
        return format(value, "f")
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        stamp = value.strftime("%Y-%m-%dT%H:%M:%S")
        if value.microsecond:
            stamp += f".{value.microsecond // 1000:03d}"
        return stamp + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return soql_quote(value)
    if isinstance(value, Iterable) and not isinstance(value, bytes | bytearray | dict):
        items = [soql_literal(v) for v in value]
        if not items:
            raise ValueError("an empty list cannot be used with IN in SOQL")
        return "(" + ", ".join(items) + ")"
    raise TypeError(f"no SOQL literal for {type(value).__name__}")
