"""Typed views of wire values: comparison keys per describe type, and literal checking/coercion.

Every field value is turned into a *key* that compares the way Salesforce compares it: text
case-insensitively, ids by their 18-char form, dates as day ordinals, datetimes as UTC microseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sfops.emulator.ids import normalize
from sfops.emulator.soql.catalog import ID_TYPES, NUMBER_TYPES, TEXT_TYPES, is_id

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)

# what "value of filter criterion for field 'X' must be of type T" names each describe type
_FILTER_TYPE_NAMES = {"datetime": "dateTime", "int": "int", "boolean": "boolean", "date": "date"}


def kind_of(field_type: str) -> str:
    """Coarse comparison kind: text, id, number, boolean, date, datetime, multipicklist or time."""
    if field_type in ID_TYPES:
        return "id"
    if field_type in NUMBER_TYPES:
        return "number"
    if field_type in ("boolean", "date", "datetime", "multipicklist", "time"):
        return field_type
    return "text"


def filter_type_name(field_type: str) -> str:
    """The type name Salesforce uses in filter-criterion errors."""
    if field_type in NUMBER_TYPES and field_type != "int":
        return "double"
    if field_type in TEXT_TYPES or field_type in ("multipicklist", "time"):
        return "string"
    return _FILTER_TYPE_NAMES.get(field_type, field_type)


def micros(value: datetime) -> int:
    """UTC microseconds since the epoch (naive datetimes are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _US


@lru_cache(maxsize=65536)
def _datetime_key(text: str) -> int | None:
    try:
        return micros(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None


@lru_cache(maxsize=65536)
def _date_key(text: str) -> int | None:
    try:
        return date.fromisoformat(text[:10]).toordinal()
    except ValueError:
        return None


def _id_key(value: Any) -> Any:
    if isinstance(value, str):
        return normalize(value) if is_id(value) else value
    return value if value is None else str(value)


def _text_key(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value.lower() if value else value
    return str(value).lower()


def _number_key(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _bool_key(value: Any) -> Any:
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value) if value is not None else None


def _multi_key(value: Any) -> Any:
    if not isinstance(value, str) or not value:
        return None
    return frozenset(part.strip().lower() for part in value.split(";") if part.strip())


def _datetime_value_key(value: Any) -> Any:
    if isinstance(value, datetime):
        return micros(value)
    return _datetime_key(value) if isinstance(value, str) else None


def _date_value_key(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.toordinal()
    return _date_key(value) if isinstance(value, str) else None


_KEYS: dict[str, Callable[[Any], Any]] = {
    "text": _text_key,
    "id": _id_key,
    "number": _number_key,
    "boolean": _bool_key,
    "date": _date_value_key,
    "datetime": _datetime_value_key,
    "multipicklist": _multi_key,
    "time": _text_key,
}


def key_function(field_type: str) -> Callable[[Any], Any]:
    """Wire value -> comparison key (None stays None) for a describe type."""
    return _KEYS[kind_of(field_type)]


def sort_key(value: Any) -> Any:
    """A key for ORDER BY on already-keyed values (frozensets sort by their joined text)."""
    if isinstance(value, frozenset):
        return ";".join(sorted(value))
    return value
