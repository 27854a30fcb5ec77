"""`GET query?q=...&columns=true`: the column metadata the `sf data query` command asks for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sfops.emulator.schema import FieldDef, ObjectDef

if TYPE_CHECKING:
    from sfops.emulator.app import Emulator

APEX_TYPES = {
    "id": "Id",
    "reference": "Id",
    "boolean": "Boolean",
    "double": "Double",
    "int": "Integer",
    "long": "Long",
    "currency": "Decimal",
    "percent": "Double",
    "date": "Date",
    "datetime": "Datetime",
    "time": "Time",
    "base64": "Blob",
}


def _column(
    name: str,
    f: FieldDef | None,
    *,
    aggregate: bool = False,
    display: str | None = None,
    join: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    ftype = f.type if f else "string"
    return {
        "aggregate": aggregate,
        "apexType": APEX_TYPES.get(ftype, "String") if f else None,
        "booleanType": ftype == "boolean" and f is not None,
        "columnName": name,
        "custom": bool(f and f.custom),
        "displayName": display or name,
        "foreignKeyName": None,
        "insertable": bool(f and f.createable),
        "joinColumns": join or [],
        "numberType": ftype in ("double", "int", "long", "currency", "percent") and f is not None,
        "textType": f is not None and APEX_TYPES.get(ftype) is None,
        "updatable": bool(f and f.updateable),
    }


def _path(emu: Emulator, obj: ObjectDef | None, path: tuple[str, ...]) -> dict[str, Any]:
    if len(path) == 1:
        f = obj.field(path[0]) if obj else None
        return _column(f.name if f else path[0], f)
    rel = obj.relationship(path[0]) if obj else None
    target = emu.schema.get(rel.reference_to[0]) if rel and rel.reference_to else None
    name = rel.relationship_name if rel and rel.relationship_name else path[0]
    return _column(name, None, join=[_path(emu, target, path[1:])])


def _items(emu: Emulator, query: Any, obj: ObjectDef | None) -> list[dict[str, Any]]:
    from sfops.emulator.soql.nodes import Aggregate, DateFunc, FieldRef, SubQuery

    out = []
    expr = 0
    for item in query.select:
        if isinstance(item, FieldRef):
            column = _path(emu, obj, item.path)
            if item.alias:
                column["columnName"] = item.alias
            out.append(column)
        elif isinstance(item, Aggregate | DateFunc):
            arg = item.arg.text if item.arg is not None else ""
            name = item.alias or f"expr{expr}"
            if not item.alias:
                expr += 1
            out.append(_column(name, None, aggregate=True, display=f"{item.func}({arg})"))
        elif isinstance(item, SubQuery):
            child = None
            if obj is not None:
                found = emu.schema.child_relationship(obj.name, item.query.from_name)
                child = found[0] if found else None
            out.append(_column(item.query.from_name, None, aggregate=True, join=_items(emu, item.query, child)))
    return out


def column_metadata(emu: Emulator, text: str, tooling: bool, version: str = "64.0") -> dict[str, Any]:
    """The body Salesforce answers for `columns=true` (the query must already be valid)."""
    from sfops.emulator.soql import parse
    from sfops.emulator.soql.fields import expand
    from sfops.emulator.soql.nodes import FieldRef
    from sfops.emulator.soql.resolve import Context
    from sfops.emulator.values import now_utc

    query = parse(text)
    obj = emu.schema.get(query.from_name)
    if obj is not None:  # FIELDS(...) lists the object's fields as columns
        query = expand(query, Context(emu.catalog(tooling), now_utc(), False, "", text), obj.name, version)
    return {
        "columnMetadata": [] if query.count_only else _items(emu, query, obj),
        "entityName": obj.name if obj else query.from_name,
        "groupBy": bool(query.group_by),
        "idSelected": any(
            isinstance(i, FieldRef) and len(i.path) == 1 and i.path[0].lower() == "id" for i in query.select
        ),
        "keyPrefix": obj.key_prefix if obj else None,
    }
