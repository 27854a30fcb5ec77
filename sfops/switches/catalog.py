"""Which switches exist, and everything a switch command needs before it reads the records.

Every custom, updateable checkbox field of Kill_Switch__c's describe is a switch, so a
toggle added in Salesforce needs no sfops change. The describe and the org id are cached in
the local store (per org alias, with a TTL); what is missing is fetched together with the
scope lookup (profile or user) in ONE API call (the composite resource). A name that is not
in a cached describe triggers one fresh describe before it is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sfops.errors import UsageError
from sfops.salesforce import batch_get, page_records, query_path, soql_quote
from sfops.switches.model import SETTING_OBJECT, Level, Scope, Switch

if TYPE_CHECKING:
    from sfops.salesforce import Org
    from sfops.store import Store

DESCRIBE_TTL = dt.timedelta(minutes=10)
DESCRIBE_PATH = f"sobjects/{SETTING_OBJECT}/describe"


def switches_from_describe(describe: Mapping[str, Any]) -> list[Switch]:
    """Every custom, updateable boolean field is a switch (label and inline help text kept)."""
    out = []
    for f in describe.get("fields", []):
        if f.get("type") != "boolean" or not f.get("custom") or f.get("calculated"):
            continue
        if f.get("updateable") is False:
            continue
        default = f.get("defaultValue")
        out.append(
            Switch(
                name=str(f["name"]),
                label=str(f.get("label") or f["name"]),
                help=f.get("inlineHelpText") or None,
                default=default if isinstance(default, bool) else None,
            )
        )
    return sorted(out, key=lambda s: s.name.lower())


def match_names(requested: Iterable[str], switches: Sequence[Switch]) -> tuple[list[str], list[str]]:
    """(canonical API names, unknown names): case-insensitive, `__c` optional."""
    index: dict[str, str] = {}
    for s in switches:
        index[s.name.lower()] = s.name
        if s.name.lower().endswith("__c"):
            index.setdefault(s.name[:-3].lower(), s.name)
    found: list[str] = []
    unknown: list[str] = []
    for name in requested:
        canonical = index.get(name.strip().lower())
        (found if canonical else unknown).append(canonical or name)
    return found, unknown


@dataclass(frozen=True)
class SwitchContext:
    """What a command knows before reading Kill_Switch__c rows."""

    switches: list[Switch]
    names: list[str]  # the requested names, canonical
    org_id: str | None
    scope: Scope | None  # resolved (owner id filled in)


def _cache_key(org: Org) -> str:
    return f"switches.describe.{org.alias}"


def _org_url(org: Org) -> str:
    return str(org.config.instance_url or org.config.login_url or "")


def _scope_soql(scope: Scope) -> str:
    if scope.level is Level.PROFILE:
        return f"SELECT Id, Name FROM Profile WHERE Name = {soql_quote(scope.name or '')}"  # noqa: S608
    return f"SELECT Id, Username, ProfileId FROM User WHERE Username = {soql_quote(scope.name or '')}"  # noqa: S608


def _resolved(scope: Scope, rows: list[dict[str, Any]]) -> Scope:
    if not rows:
        what = "profile named" if scope.level is Level.PROFILE else "user with username"
        raise UsageError(f"No {what} '{scope.name}' in this org.")
    row = rows[0]
    if scope.level is Level.PROFILE:
        return Scope(Level.PROFILE, name=row["Name"], owner_id=row["Id"], profile_id=row["Id"])
    return Scope(Level.USER, name=row["Username"], owner_id=row["Id"], profile_id=row.get("ProfileId"))


def load_context(
    org: Org,
    store: Store,
    *,
    scope: Scope | None = None,
    names: Sequence[str] = (),
    need_org_id: bool = False,
    refresh: bool = False,
    now: dt.datetime | None = None,
) -> SwitchContext:
    """Switches (validated `names`), org id and resolved scope, in at most one API call when cached
    data is stale, zero when it is fresh and the scope is the org."""
    now = now or dt.datetime.now(dt.UTC)
    cached = store.get_state(_cache_key(org)) or {}
    if cached.get("url") != _org_url(org):
        cached = {}
    fresh = bool(cached) and not refresh and now - dt.datetime.fromisoformat(cached["fetched_at"]) < DESCRIBE_TTL
    org_id = cached.get("org_id")
    if scope is not None and scope.level is Level.ORG:
        need_org_id = True
    paths: dict[str, str] = {}
    if not fresh:
        paths["describe"] = DESCRIBE_PATH
    if need_org_id and not org_id:
        paths["org"] = query_path("SELECT Id FROM Organization")
    if scope is not None and scope.level is not Level.ORG:
        paths["scope"] = query_path(_scope_soql(scope))
    bodies = batch_get(org, paths)
    if "org" in bodies:
        org_id = str(page_records(org, bodies["org"])[0]["Id"])
    if "describe" in bodies:
        switches = switches_from_describe(bodies["describe"])
    else:
        switches = [Switch(**s) for s in cached["switches"]]
    found, unknown = match_names(names, switches)
    if unknown and "describe" not in bodies:  # maybe added in Salesforce since we cached
        bodies["describe"] = org.request("GET", DESCRIBE_PATH)
        switches = switches_from_describe(bodies["describe"])
        found, unknown = match_names(names, switches)
    if "describe" in bodies or "org" in bodies:
        store.set_state(
            _cache_key(org),
            {
                "fetched_at": now.isoformat() if "describe" in bodies else cached["fetched_at"],
                "url": _org_url(org),
                "org_id": org_id,
                "switches": [s.__dict__ for s in switches],
            },
        )
    if unknown:
        valid = ", ".join(s.name for s in switches) or "(none: Kill_Switch__c has no checkbox fields)"
        raise UsageError(
            f"Unknown switch {', '.join(repr(u) for u in unknown)}. Valid switches: {valid}.",
            data={"unknown": unknown, "valid": [s.name for s in switches]},
        )
    resolved = None
    if scope is not None:
        resolved = (
            Scope(Level.ORG, owner_id=org_id)
            if scope.level is Level.ORG
            else _resolved(scope, page_records(org, bodies["scope"]))
        )
    return SwitchContext(switches=switches, names=found, org_id=org_id, scope=resolved)


def load_switches(org: Org, store: Store, *, refresh: bool = False) -> list[Switch]:
    """The switches of the org (cached describe)."""
    return load_context(org, store, refresh=refresh).switches
