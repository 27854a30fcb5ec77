"""List views: `sobjects/{T}/listviews`, `.../listviews/{id}/describe` and `.../listviews/{id}/results`
(REST API guide: "List Views", "Describe List Views", "List View Results").

Every object with an owner has the standard views a new org ships (All, My, Recently Viewed, New This
Week), with the default columns of the standard objects' "All" views; other objects get All only.
Results run the view's query through the emulator's SOQL engine; "mine" keeps the caller's rows,
"recent" the rows the caller viewed (FOR VIEW queries, see navigation.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sfops.emulator.layouts import stable_id
from sfops.emulator.schema import ObjectDef

# the default columns of the standard "All" views (fieldNameOrPath); the rest use the name field
DEFAULT_COLUMNS: dict[str, list[str]] = {
    "account": ["Name", "BillingState", "Phone", "Type", "Owner.Alias"],
    "contact": ["Name", "Account.Name", "Title", "Phone", "Email", "Owner.Alias"],
    "opportunity": ["Name", "Account.Name", "Amount", "CloseDate", "StageName", "Owner.Alias"],
    "lead": ["Name", "Company", "State", "Email", "Status", "CreatedDate"],
    "case": ["CaseNumber", "Subject", "Status", "Priority", "CreatedDate"],
}


@dataclass(frozen=True)
class ListView:
    """One list view of an object."""

    id: str
    developer_name: str
    label: str
    scope: str  # everything | mine | recent
    created_this_week: bool = False


def list_views(obj: ObjectDef) -> list[ListView]:
    """The object's list views, in the order a real org lists them (by label)."""
    plural = obj.label_plural.replace(" ", "")
    specs = [("All" + plural, "All " + obj.label_plural, "everything", False)]
    if obj.field("OwnerId") is not None:
        specs += [
            ("My" + plural, "My " + obj.label_plural, "mine", False),
            ("NewThisWeek", "New This Week", "everything", True),
            ("RecentlyViewed" + plural, "Recently Viewed " + obj.label_plural, "recent", False),
        ]
    views = [ListView(stable_id("00B", obj.key, name), name, label, scope, week) for name, label, scope, week in specs]
    return sorted(views, key=lambda v: v.label)


def find(obj: ObjectDef, view_id: str) -> ListView | None:
    """The view with this id (15 or 18 characters) or developer name."""
    for view in list_views(obj):
        if view_id in (view.id, view.id[:15], view.developer_name):
            return view
    return None


def _columns(obj: ObjectDef) -> list[str]:
    wanted = DEFAULT_COLUMNS.get(obj.key)
    if wanted is None:
        name = next((f.name for f in obj.fields.values() if f.name_field), "Id")
        wanted = [name] + (["CreatedDate"] if obj.field("CreatedDate") else [])
    return wanted


def _label(obj: ObjectDef, path: str, lookup: Callable[[str], ObjectDef | None]) -> tuple[str, str]:
    """(label, describe type) of a column path such as Owner.Alias."""
    owner, f = obj, obj.field(path)
    if "." in path:
        rel, _, name = path.partition(".")
        ref = obj.relationship(rel)
        target = lookup(ref.reference_to[0]) if ref is not None and ref.reference_to else None
        owner = target or obj
        f = owner.field(name)
        if f is not None and ref is not None:
            return (f"{ref.label.removesuffix(' ID')} {f.label}".strip(), f.type)
    return (f.label, f.type) if f is not None else (path, "string")


def _column(obj: ObjectDef, path: str, i: int, lookup: Callable[[str], ObjectDef | None]) -> dict[str, Any]:
    label, dtype = _label(obj, path, lookup)
    sortable = dtype not in ("textarea", "multipicklist")
    return {
        "ascendingLabel": "Z-A" if dtype in ("string", "picklist") else "High to Low",
        "descendingLabel": "A-Z" if dtype in ("string", "picklist") else "Low to High",
        "fieldNameOrPath": path,
        "hidden": False,
        "label": label,
        "searchable": dtype == "string",
        "selectListItem": f"toLabel({path})" if dtype == "picklist" else path,
        "sortDirection": "ascending" if i == 0 else None,
        "sortIndex": 0 if i == 0 else None,
        "sortable": sortable,
        "type": dtype,
    }


def _hidden(path: str) -> dict[str, Any]:
    return {
        "ascendingLabel": None,
        "descendingLabel": None,
        "fieldNameOrPath": path,
        "hidden": True,
        "label": path,
        "searchable": False,
        "selectListItem": path,
        "sortDirection": None,
        "sortIndex": None,
        "sortable": False,
        "type": "id" if path.endswith("Id") else "datetime",
    }


def _system_columns(obj: ObjectDef) -> list[str]:
    return [
        n for n in ("Id", "CreatedDate", "LastModifiedDate", "SystemModstamp", "OwnerId") if obj.field(n) is not None
    ]


def describe(obj: ObjectDef, view: ListView, lookup: Callable[[str], ObjectDef | None]) -> dict[str, Any]:
    """GET .../listviews/{id}/describe."""
    shown = _columns(obj)
    columns = [_column(obj, p, i, lookup) for i, p in enumerate(shown)] + [
        _hidden(p) for p in _system_columns(obj) if p not in shown
    ]
    select = ", ".join(c["selectListItem"] for c in columns)
    where = " WHERE CreatedDate = THIS_WEEK" if view.created_this_week else ""
    scope = "everything" if view.scope == "recent" else view.scope
    # schema names only (no caller text), so plain formatting is safe here
    query = (
        f"SELECT {select} FROM {obj.name} USING SCOPE {scope}{where} "  # noqa: S608
        f"ORDER BY {shown[0]} ASC NULLS FIRST, Id ASC NULLS FIRST"
    )
    condition = (
        {"conditions": [], "conjunction": "and"}
        if not view.created_this_week
        else {"field": "CreatedDate", "operator": "equals", "values": ["THIS_WEEK"]}
    )
    return {
        "columns": columns,
        "id": view.id,
        "orderBy": [
            {"fieldNameOrPath": shown[0], "nullsPosition": "first", "sortDirection": "ascending"},
            {"fieldNameOrPath": "Id", "nullsPosition": "first", "sortDirection": "ascending"},
        ],
        "query": query,
        "relatedEntityId": None,
        "scope": scope,
        "scopeEntityId": None,
        "sobjectType": obj.name,
        "whereCondition": condition,
    }


def results_query(obj: ObjectDef) -> str:
    """The SOQL the emulator runs for a view's rows (the view's columns plus the system ones)."""
    paths = _columns(obj) + [p for p in _system_columns(obj) if p not in _columns(obj)]
    return (
        f"SELECT {', '.join(paths)} FROM {obj.name} "  # noqa: S608 - schema names only
        f"ORDER BY {_columns(obj)[0]} ASC NULLS FIRST, Id ASC NULLS FIRST"
    )


def results(
    obj: ObjectDef,
    view: ListView,
    rows: list[dict[str, Any]],
    user_id: str,
    viewed: set[str],
    now: datetime,
    lookup: Callable[[str], ObjectDef | None],
    limit: int = 25,
) -> dict[str, Any]:
    """GET .../listviews/{id}/results from the query's rows (wire records)."""
    if view.scope == "mine":
        rows = [r for r in rows if r.get("OwnerId") == user_id]
    elif view.scope == "recent":
        rows = [r for r in rows if r.get("Id") in viewed]
    if view.created_this_week:
        start = (now - timedelta(days=now.weekday())).strftime("%Y-%m-%d")
        rows = [r for r in rows if str(r.get("CreatedDate") or "")[:10] >= start]
    described = describe(obj, view, lookup)
    paths = [c["fieldNameOrPath"] for c in described["columns"]]
    records = [{"columns": [{"fieldNameOrPath": p, "value": _value(r, p)} for p in paths]} for r in rows[:limit]]
    return {
        "columns": described["columns"],
        "developerName": view.developer_name,
        "done": len(rows) <= limit,
        "id": view.id,
        "label": view.label,
        "records": records,
        "size": len(rows),
    }


def _value(row: dict[str, Any], path: str) -> Any:
    value: Any = row
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return None if value is None else str(value) if not isinstance(value, str) else value


def list_body(obj: ObjectDef, version: str) -> dict[str, Any]:
    """GET sobjects/{T}/listviews."""
    base = f"/services/data/v{version}/sobjects/{obj.name}/listviews"
    views = [
        {
            "describeUrl": f"{base}/{v.id}/describe",
            "developerName": v.developer_name,
            "id": v.id,
            "label": v.label,
            "resultsUrl": f"{base}/{v.id}/results",
            "soqlCompatible": True,
            "url": f"{base}/{v.id}",
        }
        for v in list_views(obj)
    ]
    return {"done": True, "listviews": views, "nextRecordsUrl": None, "size": len(views), "sobjectType": obj.name}
