"""Flatten the /limits body into rows, and shape it like `sf org list limits --json`.

/limits answers `{Name: {"Max": m, "Remaining": r, <App name>: {"Max": m, "Remaining": r}, ...}}`:
some entries (DailyApiRequests, DailyBulkApiBatches, streaming events, PermissionSets) nest one entry
per connected app next to their own Max/Remaining. Rows keep those with the app name in `app`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sfops.limits.model import LimitRow


def _counts(entry: Any) -> tuple[int, int] | None:
    if not isinstance(entry, Mapping) or "Max" not in entry or "Remaining" not in entry:
        return None
    try:
        return int(entry["Max"]), int(entry["Remaining"])
    except (TypeError, ValueError):
        return None


def flatten_limits(body: Mapping[str, Any]) -> tuple[list[LimitRow], list[str]]:
    """Rows for every top-level limit and every nested per-app entry, in the body's order.

    Returns (rows, skipped): entries without integer Max/Remaining are skipped and named, never fatal.
    """
    rows: list[LimitRow] = []
    skipped: list[str] = []
    for name, entry in body.items():
        counts = _counts(entry)
        if counts is None:
            skipped.append(str(name))
            continue
        rows.append(LimitRow(str(name), counts[0], counts[1]))
        for app, sub in entry.items():
            if app in ("Max", "Remaining") or not isinstance(sub, Mapping):
                continue
            sub_counts = _counts(sub)
            if sub_counts is None:
                skipped.append(f"{name}/{app}")
                continue
            rows.append(LimitRow(str(name), sub_counts[0], sub_counts[1], app=str(app)))
    return rows, skipped


def sf_cli_rows(rows: list[LimitRow]) -> list[dict[str, Any]]:
    """`sf org list limits --json` result: top-level entries only, keys name/max/remaining."""
    return [{"name": r.name, "max": r.max, "remaining": r.remaining} for r in rows if r.app is None]
