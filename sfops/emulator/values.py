"""Wire values: Salesforce date/datetime formats and lenient coercion of written values."""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sfops.emulator import ids
from sfops.emulator.schema import FieldDef


class FieldValueError(ValueError):
    """A written value that does not fit its field (error code + message + field)."""

    def __init__(self, code: str, message: str, field: str) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


def fmt_datetime(value: datetime) -> str:
    """Salesforce's REST datetime: 2022-03-17T16:21:26.000+0000."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


_ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def parse_datetime(value: Any) -> datetime:
    """Lenient datetime: ISO 8601 (+0000, Z, +00:00), epoch millis (number or digits), RFC 1123."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        raise ValueError("boolean is not a datetime")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000.0, UTC)
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000.0, UTC)
    m = _ISO_RE.match(text)
    if m:
        y, mo, d, h, mi, s, frac, tz = m.groups()
        micro = int((frac or "0").ljust(6, "0")[:6])
        dt = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), micro, tzinfo=UTC)
        if tz and tz != "Z":
            sign = 1 if tz[0] == "+" else -1
            digits = tz[1:].replace(":", "")
            offset = sign * (int(digits[:2]) * 60 + int(digits[2:]))
            dt = dt.replace(tzinfo=None)
            dt = (dt - timedelta(minutes=offset)).replace(tzinfo=UTC)
        return dt
    parsed = email.utils.parsedate_to_datetime(text)  # RFC 1123 / Date.toUTCString()
    if parsed is None:
        raise ValueError(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def coerce(f: FieldDef, value: Any, object_name: str) -> Any:
    """The stored wire value for a value written to field `f` (raises FieldValueError when it cannot fit)."""
    if value is None:
        if f.type == "boolean":
            return False
        return None
    t = f.type
    try:
        if t == "boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise ValueError(value)
        if t in ("double", "currency", "percent"):
            if isinstance(value, bool):
                raise ValueError(value)
            num = float(value)
            return int(num) if num.is_integer() and f.scale == 0 and isinstance(value, int) else num
        if t in ("int", "long"):
            if isinstance(value, bool):
                raise ValueError(value)
            return int(value)
        if t == "datetime":
            return fmt_datetime(parse_datetime(value))
        if t == "date":
            if isinstance(value, date) and not isinstance(value, datetime):
                return value.isoformat()
            return parse_datetime(value).date().isoformat()
        if t in ("reference", "id"):
            text = str(value)
            if text == "":
                return None
            if not ids.looks_like_id(text):
                raise FieldValueError("MALFORMED_ID", f"{f.label}: id value of incorrect type: {text}", f.name)
            return ids.normalize(text)
    except FieldValueError:
        raise
    except (ValueError, TypeError, OverflowError) as exc:
        raise FieldValueError(
            "JSON_PARSER_ERROR",
            f"Cannot deserialize instance of {t} from {type(value).__name__} value {value} "
            f"or request may be missing a required field",
            f.name,
        ) from exc
    if isinstance(value, dict | list):
        raise FieldValueError("JSON_PARSER_ERROR", f"Cannot deserialize instance of {t} from START_OBJECT", f.name)
    text = value if isinstance(value, str) else (str(value).lower() if isinstance(value, bool) else str(value))
    if (
        f.length
        and t in ("string", "email", "phone", "url", "picklist", "encryptedstring", "textarea")
        and len(text) > f.length
    ):
        raise FieldValueError(
            "STRING_TOO_LONG", f"{f.label}: data value too large: {text[:20]}... (max length={f.length})", f.name
        )
    return text


_clock = {"offset": timedelta(0)}


def now_utc() -> datetime:
    """The org's clock: real time plus the offset set through /__emulator__/clock (0 by default)."""
    return datetime.now(UTC) + _clock["offset"]


def set_clock_offset(offset: timedelta) -> None:
    """Shift the org's clock (rehearsals and demos that tell a story over hours); reset sets it back to 0."""
    _clock["offset"] = offset


def clock_offset() -> timedelta:
    return _clock["offset"]
