"""Plain JSON types from the dataclasses, datetimes, enums and DataFrames the domain returns."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any


def to_jsonable(value: Any) -> Any:
    """Plain JSON types from dataclasses, datetimes, enums, paths and DataFrames."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value) if not f.name.startswith("_")
        }
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        # a naive datetime is UTC here (the store and Salesforce keep UTC): JSON always carries the offset
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # pandas DataFrame
        return [to_jsonable(r) for r in value.to_dict(orient="records")]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return value.item()
    return value
