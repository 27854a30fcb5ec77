"""Parsing of what users type: scopes (`org`, `profile:NAME`, `user:USERNAME`), values, durations."""

from __future__ import annotations

import datetime as dt
import re

from sfops.errors import UsageError
from sfops.switches.model import Level, Scope

SCOPE_FORMS = "org, profile:NAME or user:USERNAME"
_ON = {"on", "true", "1", "yes", "enabled"}
_OFF = {"off", "false", "0", "no", "disabled"}
_DURATION = re.compile(r"(\d+)\s*([smhdw])", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_RESTORE_DELAY = dt.timedelta(days=30)


def parse_scope(text: str | None) -> Scope:
    """`org` (default), `profile:NAME` or `user:USERNAME` into an unresolved `Scope`."""
    if text is None or text.strip().lower() == "org":
        return Scope(Level.ORG)
    kind, sep, name = text.partition(":")
    kind, name = kind.strip().lower(), name.strip()
    if not sep or kind not in (Level.PROFILE.value, Level.USER.value):
        raise UsageError(f"Bad scope '{text}': use {SCOPE_FORMS}.")
    if not name:
        raise UsageError(f"Bad scope '{text}': the {kind} name is missing (use {SCOPE_FORMS}).")
    if len(name) > 255 or any(ch in name for ch in "\r\n\0"):
        raise UsageError(f"Bad scope '{text}': not a valid {kind} name.")
    return Scope(Level(kind), name=name)


def parse_value(text: str) -> bool:
    """`on`/`off` (and true/false, 1/0, yes/no, enabled/disabled)."""
    lowered = text.strip().lower()
    if lowered in _ON:
        return True
    if lowered in _OFF:
        return False
    raise UsageError(f"Bad switch value '{text}': use on or off.")


def parse_assignments(items: list[str] | tuple[str, ...]) -> dict[str, bool]:
    """`A=off B=on` into {"A": False, "B": True}; a name given twice is an error."""
    if not items:
        raise UsageError("Nothing to set: give one or more NAME=on|off.")
    out: dict[str, bool] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"Bad assignment '{item}': use NAME=on or NAME=off.")
        key = name.strip()
        if key.lower() in {k.lower() for k in out}:
            raise UsageError(f"Switch '{key}' is given twice.")
        out[key] = parse_value(value)
    return out


def parse_duration(text: str) -> dt.timedelta:
    """`90s`, `15m`, `2h`, `1d`, `1h30m` into a timedelta (at most 30 days)."""
    compact = text.strip().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not compact or "".join(n + u for n, u in parts).lower() != compact.lower():
        raise UsageError(f"Bad duration '{text}': use e.g. 30m, 2h, 1d or 1h30m.")
    delta = dt.timedelta(seconds=sum(int(n) * _UNIT_SECONDS[u.lower()] for n, u in parts))
    if delta <= dt.timedelta(0):
        raise UsageError(f"Bad duration '{text}': it must be longer than zero.")
    if delta > MAX_RESTORE_DELAY:
        raise UsageError(f"Duration '{text}' is longer than 30 days; flip it back by hand instead.")
    return delta
