"""Reading Kill_Switch__c rows and resolving scopes to SetupOwnerIds (the only SOQL of switches).

Field names in SOQL come from the describe only; every value typed by a user goes through
`soql_quote`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sfops.errors import UsageError
from sfops.salesforce.soql import soql_quote
from sfops.switches.hierarchy import level_of
from sfops.switches.model import SETTING_OBJECT, Level, Scope, SettingRecord, Switch
from sfops.switches.orgio import parse_datetime, query_records, soql_in


def record_from_row(row: dict[str, Any], switches: Sequence[Switch]) -> SettingRecord | None:
    """A SettingRecord from a query row; None for an owner that is not org/profile/user."""
    owner = str(row.get("SetupOwnerId") or "")
    level = level_of(owner)
    if level is None:
        return None
    values = {s.name: bool(row[s.name]) for s in switches if row.get(s.name) is not None}
    return SettingRecord(id=str(row["Id"]), owner_id=owner, level=level, values=values,
                         last_modified_at=parse_datetime(row.get("LastModifiedDate")),
                         last_modified_by=row.get("LastModifiedById"))


def fetch_records(org: Any, switches: Sequence[Switch],
                  owner_ids: Iterable[str] | None = None) -> list[SettingRecord]:
    """Kill_Switch__c rows (all, or those of the given owners) in one query."""
    columns = ["Id", "SetupOwnerId", "LastModifiedDate", "LastModifiedById", *(s.name for s in switches)]
    soql = f"SELECT {', '.join(columns)} FROM {SETTING_OBJECT}"  # noqa: S608 - names from the describe
    if owner_ids is not None:
        ids = sorted({i for i in owner_ids if i})
        if not ids:
            return []
        soql += f" WHERE SetupOwnerId IN {soql_in(ids, soql_quote)}"
    rows = query_records(org, soql)
    return [r for r in (record_from_row(row, switches) for row in rows) if r is not None]


def resolve_scope(org: Any, scope: Scope) -> Scope:
    """Fill in the SetupOwnerId of a scope (and a user's profile id); one query for profile/user."""
    if scope.level is Level.ORG:
        return Scope(Level.ORG, owner_id=str(org.identity.org_id))
    if scope.level is Level.PROFILE:
        soql = f"SELECT Id, Name FROM Profile WHERE Name = {soql_quote(scope.name or '')}"  # noqa: S608
        rows = query_records(org, soql)
        if not rows:
            raise UsageError(f"No profile named '{scope.name}' in this org.")
        return Scope(Level.PROFILE, name=rows[0]["Name"], owner_id=rows[0]["Id"], profile_id=rows[0]["Id"])
    soql = f"SELECT Id, Username, ProfileId FROM User WHERE Username = {soql_quote(scope.name or '')}"  # noqa: S608
    rows = query_records(org, soql)
    if not rows:
        raise UsageError(f"No user with username '{scope.name}' in this org.")
    return Scope(Level.USER, name=rows[0]["Username"], owner_id=rows[0]["Id"],
                 profile_id=rows[0].get("ProfileId"))


def owner_names(org: Any, user_ids: Iterable[str], profile_ids: Iterable[str]) -> dict[str, str]:
    """Id -> username / profile name, for display (at most one query per kind)."""
    names: dict[str, str] = {}
    users, profiles = sorted(set(user_ids)), sorted(set(profile_ids))
    if users:
        soql = f"SELECT Id, Username FROM User WHERE Id IN {soql_in(users, soql_quote)}"  # noqa: S608
        for row in query_records(org, soql):
            names[row["Id"]] = row["Username"]
    if profiles:
        soql = f"SELECT Id, Name FROM Profile WHERE Id IN {soql_in(profiles, soql_quote)}"  # noqa: S608
        for row in query_records(org, soql):
            names[row["Id"]] = row["Name"]
    return names
