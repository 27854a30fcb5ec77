"""Which switches exist: every custom, updateable checkbox field of Kill_Switch__c's describe.

The describe is cached in the local store (per org, with a TTL) so that `switch off` and
`switch list` do not spend an API call on it every time; a name that is not in the cached
describe triggers one refresh before it is refused, so a toggle added in Salesforce a minute
ago is found.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sfops.errors import UsageError
from sfops.switches.model import SETTING_OBJECT, Switch
from sfops.switches.orgio import org_key

DESCRIBE_TTL = dt.timedelta(minutes=10)


def switches_from_describe(describe: Mapping[str, Any]) -> list[Switch]:
    """Every custom, updateable boolean field is a switch (label and inline help text kept)."""
    out = []
    for f in describe.get("fields", []):
        if f.get("type") != "boolean" or not f.get("custom") or f.get("calculated"):
            continue
        if f.get("updateable") is False:
            continue
        default = f.get("defaultValue")
        out.append(Switch(name=str(f["name"]), label=str(f.get("label") or f["name"]),
                          help=f.get("inlineHelpText") or None,
                          default=default if isinstance(default, bool) else None))
    return sorted(out, key=lambda s: s.name.lower())


def _cache_key(org: Any) -> str:
    return f"switches.describe.{org_key(org)}"


def load_switches(org: Any, store: Any, *, refresh: bool = False, now: dt.datetime | None = None,
                  ttl: dt.timedelta = DESCRIBE_TTL) -> list[Switch]:
    """The switches of the org, from the store's cache when fresh, else from a describe."""
    now = now or dt.datetime.now(dt.UTC)
    if not refresh:
        cached = store.get_state(_cache_key(org))
        if cached:
            fetched = dt.datetime.fromisoformat(cached["fetched_at"])
            if now - fetched < ttl:
                return [Switch(**s) for s in cached["switches"]]
    switches = switches_from_describe(org.describe(SETTING_OBJECT))
    store.set_state(_cache_key(org), {"fetched_at": now.isoformat(),
                                      "switches": [s.__dict__ for s in switches]})
    return switches


def match_names(requested: Iterable[str], switches: list[Switch]) -> tuple[list[str], list[str]]:
    """(canonical API names, unknown names): case-insensitive, `__c` optional."""
    index: dict[str, str] = {}
    for s in switches:
        index[s.name.lower()] = s.name
        if s.name.lower().endswith("__c"):
            index.setdefault(s.name[:-3].lower(), s.name)
    found, unknown = [], []
    for name in requested:
        canonical = index.get(name.strip().lower())
        (found if canonical else unknown).append(canonical or name)
    return found, unknown


def validate_names(org: Any, store: Any, requested: Iterable[str], *,
                   now: dt.datetime | None = None) -> tuple[list[str], list[Switch]]:
    """Canonical names for `requested`; unknown ones raise a UsageError listing the valid ones."""
    requested = list(requested)
    switches = load_switches(org, store, now=now)
    names, unknown = match_names(requested, switches)
    if unknown:
        switches = load_switches(org, store, refresh=True, now=now)
        names, unknown = match_names(requested, switches)
    if unknown:
        valid = ", ".join(s.name for s in switches) or "(none: Kill_Switch__c has no checkbox fields)"
        raise UsageError(f"Unknown switch {', '.join(repr(u) for u in unknown)}. Valid switches: {valid}.",
                         data={"unknown": unknown, "valid": [s.name for s in switches]})
    return names, switches
