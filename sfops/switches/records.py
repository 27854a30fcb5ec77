"""Reading Kill_Switch__c rows and the names of their owners.

Field names in SOQL come from the describe only; ids are quoted with `soql_quote`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sfops.salesforce import batch_get, page_records, parse_datetime, query_path, soql_literal
from sfops.switches.hierarchy import level_of
from sfops.switches.model import SETTING_OBJECT, SettingRecord, Switch

if TYPE_CHECKING:
    from sfops.salesforce import Org


def record_from_row(row: dict[str, Any], switches: Sequence[Switch]) -> SettingRecord | None:
    """A SettingRecord from a query row; None for an owner that is not org/profile/user."""
    owner = str(row.get("SetupOwnerId") or "")
    level = level_of(owner)
    if level is None:
        return None
    values = {s.name: bool(row[s.name]) for s in switches if row.get(s.name) is not None}
    return SettingRecord(
        id=str(row["Id"]),
        owner_id=owner,
        level=level,
        values=values,
        last_modified_at=parse_datetime(row.get("LastModifiedDate")),
        last_modified_by=row.get("LastModifiedById"),
    )


def fetch_records(org: Org, switches: Sequence[Switch], owner_ids: Iterable[str] | None = None) -> list[SettingRecord]:
    """Kill_Switch__c rows (all, or those of the given owners) in one query."""
    columns = ["Id", "SetupOwnerId", "LastModifiedDate", "LastModifiedById", *(s.name for s in switches)]
    soql = f"SELECT {', '.join(columns)} FROM {SETTING_OBJECT}"  # noqa: S608 - names from the describe
    if owner_ids is not None:
        ids = sorted({i for i in owner_ids if i})
        if not ids:
            return []
        soql += f" WHERE SetupOwnerId IN {soql_literal(ids)}"
    rows = org.query(soql)
    return [r for r in (record_from_row(row, switches) for row in rows) if r is not None]


def owner_names(org: Org, user_ids: Iterable[str], profile_ids: Iterable[str]) -> dict[str, str]:
    """Id -> username / profile name, for display (one API call for both kinds)."""
    users, profiles = sorted(set(user_ids)), sorted(set(profile_ids))
    paths = {}
    if users:
        paths["users"] = query_path(f"SELECT Id, Username FROM User WHERE Id IN {soql_literal(users)}")  # noqa: S608
    if profiles:
        paths["profiles"] = query_path(f"SELECT Id, Name FROM Profile WHERE Id IN {soql_literal(profiles)}")  # noqa: S608
    names: dict[str, str] = {}
    for ref, body in batch_get(org, paths).items():
        for row in page_records(org, body):
            names[str(row["Id"])] = str(row["Username"] if ref == "users" else row["Name"])
    return names
