"""Change-freeze guard: configured freeze windows and risky times block deploys unless overridden.

Configuration (sfops.toml):

    [rollback]
    freeze = [{ start = "2026-12-20T00:00:00Z", end = "2027-01-03T00:00:00Z", reason = "year-end freeze" }]
    risky = [{ days = ["Fri"], from = "14:00", to = "23:59", tz = "Europe/Paris", reason = "Friday afternoon" }]

A rollback is usually the fix for an incident, so an override is expected; it must carry a reason,
which is recorded with the rollback.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sfops.errors import ConfigError, SfopsError, UsageError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ChangeFreezeError(SfopsError):
    """A deploy was attempted during a change freeze or a risky time without an override."""


@dataclass(frozen=True)
class Block:
    """One active freeze window or risky time."""

    kind: str  # freeze | risky
    reason: str
    until: str | None = None


def _when(value: Any, where: str) -> dt.datetime:
    try:
        parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ConfigError(f"[rollback] {where}: {value!r} is not an ISO date-time.") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _clock(value: Any, where: str) -> dt.time:
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError as exc:
        raise ConfigError(f"[rollback] {where}: {value!r} is not a time like 14:00.") from exc


def _entries(section: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = section.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ConfigError(
            f"[rollback] {key} must be a list of tables, e.g. {key} = [{{ ... }}] (see docs/rollback.md)."
        )
    return value


def active_blocks(section: Mapping[str, Any], now: dt.datetime) -> list[Block]:
    """The freeze windows and risky times that contain `now`."""
    blocks: list[Block] = []
    for i, window in enumerate(_entries(section, "freeze")):
        start, end = _when(window.get("start"), f"freeze[{i}].start"), _when(window.get("end"), f"freeze[{i}].end")
        if start <= now < end:
            blocks.append(Block("freeze", str(window.get("reason") or "change freeze"), end.isoformat()))
    for i, risky in enumerate(_entries(section, "risky")):
        try:
            zone = ZoneInfo(str(risky.get("tz") or "UTC"))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"[rollback] risky[{i}].tz: unknown time zone {risky.get('tz')!r}.") from exc
        local = now.astimezone(zone)
        raw_days = risky.get("days") or list(DAYS)
        if not isinstance(raw_days, list):
            raise ConfigError(f'[rollback] risky[{i}].days must be a list like ["Fri", "Sat"].')
        days = [str(d).lower()[:3] for d in raw_days]
        unknown = [d for d in days if d not in DAYS]
        if unknown:
            raise ConfigError(f"[rollback] risky[{i}].days: unknown day(s) {', '.join(unknown)}.")
        opens = _clock(risky.get("from", "00:00"), f"risky[{i}].from")
        closes = _clock(risky.get("to", "23:59:59"), f"risky[{i}].to")
        if DAYS[local.weekday()] in days and opens <= local.time() <= closes:
            blocks.append(Block("risky", str(risky.get("reason") or "risky time")))
    return blocks


def check_freeze(section: Mapping[str, Any], now: dt.datetime, *, override: bool, reason: str | None) -> list[Block]:
    """Raise ChangeFreezeError when blocked and not overridden; return the blocks that were overridden."""
    blocks = active_blocks(section, now)
    if not blocks:
        return []
    if override and not (reason or "").strip():
        raise UsageError("--override-freeze needs --reason (it is recorded with the rollback).")
    if override:
        return blocks
    what = "; ".join(f"{b.kind}: {b.reason}" + (f" (until {b.until})" if b.until else "") for b in blocks)
    raise ChangeFreezeError(
        f"Deploys are blocked now ({what}).", actions=["re-run with --override-freeze --reason '<incident and why>'"]
    )
