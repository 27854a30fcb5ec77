"""Describe Layouts: `sobjects/{T}/describe/layouts`, `.../namedLayouts/{name}`, `.../compactLayouts` and
`.../approvalLayouts`, generated from the object's schema in the shapes of the SOAP/REST describeLayout
results (SOAP API guide: DescribeLayoutResult, DescribeCompactLayoutsResult, DescribeApprovalLayoutResult).

The org's page layouts are not modelled: every object has one layout per record type (Master) with an
"<Label> Information" section of its writable fields, a "System Information" section, and a related list
per named child relationship. Approval layouts list the object's deployed approval processes.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sfops.emulator import ids
from sfops.emulator.describe import field_describe
from sfops.emulator.schema import FieldDef, ObjectDef, Schema, child_relationship_name

MASTER_RECORD_TYPE = "012000000000000AAA"
NAMED_LAYOUTS = {"user": ["UserAlt"]}  # REST API guide, "Describe Named Layouts": the User object's UserAlt
_SYSTEM_FIELDS = ("CreatedById", "LastModifiedById")
_SKIPPED = {"Id", "IsDeleted", "SystemModstamp", "CreatedDate", "LastModifiedDate", "MasterRecordId", "RecordTypeId"}


def stable_id(prefix: str, *parts: str) -> str:
    """An 18-character id with a real key prefix that stays the same for the same inputs."""
    digest = int(hashlib.sha256("/".join(parts).encode()).hexdigest(), 16)
    return ids.to18(prefix + "000" + ids.base62(digest % 62**9, 9))


def _component(f: FieldDef) -> dict[str, Any]:
    return {"details": field_describe(f), "displayLines": 1, "tabOrder": 0, "type": "Field", "value": f.name}


def _item(f: FieldDef, *, edit: bool) -> dict[str, Any]:
    return {
        "editableForNew": edit and f.createable,
        "editableForUpdate": edit and f.updateable,
        "label": f.label,
        "layoutComponents": [_component(f)],
        "placeholder": False,
        "required": f.required,
    }


def _blank() -> dict[str, Any]:
    return {
        "editableForNew": False,
        "editableForUpdate": False,
        "label": "",
        "layoutComponents": [],
        "placeholder": True,
        "required": False,
    }


def _section(layout_id: str, heading: str, fields: list[FieldDef], *, edit: bool) -> dict[str, Any]:
    rows = []
    for i in range(0, len(fields), 2):
        pair = [_item(f, edit=edit) for f in fields[i : i + 2]]
        if len(pair) == 1:
            pair.append(_blank())
        rows.append({"layoutItems": pair, "numItems": 2})
    return {
        "collapsed": False,
        "columns": 2,
        "heading": heading,
        "layoutRows": rows,
        "layoutSectionId": stable_id("01B", layout_id, heading),
        "parentLayoutId": layout_id,
        "rows": len(rows),
        "tabOrder": "TopToBottom",
        "useCollapsibleSection": False,
        "useHeading": True,
    }


def _main_fields(obj: ObjectDef) -> list[FieldDef]:
    name = [f for f in obj.fields.values() if f.name_field]
    rest = [
        f
        for f in obj.fields.values()
        if f.createable
        and f.updateable
        and not f.name_field
        and f.name not in _SKIPPED
        and f.type not in ("base64", "address", "location")
    ]
    return name + rest


def _related_lists(schema: Schema, obj: ObjectDef) -> list[dict[str, Any]]:
    out = []
    for child, f in schema.child_relationships(obj.name):
        name = child_relationship_name(child, f, obj.name)
        if not name or child.custom_setting or "data" not in child.apis:
            continue
        shown = child.field("Name") or next((c for c in child.fields.values() if c.name_field), None)
        columns = (
            [
                {
                    "field": f"{child.name}.{shown.name}",
                    "fieldApiName": shown.name,
                    "format": None,
                    "label": shown.label,
                    "lookupId": None,
                    "name": shown.name,
                    "sortable": True,
                }
            ]
            if shown
            else []
        )
        out.append(
            {
                "accessLevelRequiredForCreate": None,
                "buttons": [],
                "columns": columns,
                "custom": child.custom,
                "field": f.name,
                "label": child.label_plural,
                "limitRows": 5,
                "name": name,
                "sobject": child.name,
                "sort": [{"ascending": False, "column": "LastModifiedDate"}],
            }
        )
    return out


def _layout(schema: Schema, obj: ObjectDef, version: str, layout_id: str) -> dict[str, Any]:
    main = _main_fields(obj)
    system = [f for name in _SYSTEM_FIELDS if (f := obj.field(name)) is not None]
    heading = f"{obj.label} Information"
    detail = [_section(layout_id, heading, main, edit=False)]
    edit = [_section(layout_id, heading, main, edit=True)]
    if system:
        detail.append(_section(layout_id, "System Information", system, edit=False))
        edit.append(_section(layout_id, "System Information", system, edit=True))
    buttons = [
        {
            "behavior": None,
            "colors": None,
            "content": None,
            "contentSource": None,
            "custom": False,
            "encoding": None,
            "height": None,
            "icons": None,
            "label": label,
            "menubar": False,
            "name": name,
            "overridden": False,
            "resizeable": False,
            "scrollbars": False,
            "showsLocation": False,
            "showsStatus": False,
            "toolbar": False,
            "url": None,
            "width": None,
            "windowPosition": None,
        }
        for name, label in (("Edit", "Edit"), ("Delete", "Delete"))
    ]
    return {
        "buttonLayoutSection": {"detailButtons": buttons},
        "detailLayoutSections": detail,
        "editLayoutSections": edit,
        "feedView": None,
        "highlightsPanelLayoutSection": None,
        "id": layout_id,
        "multirowEditLayoutSections": [],
        "offlineLinks": [],
        "quickActionList": {"quickActionListItems": []},
        "relatedContent": None,
        "relatedLists": _related_lists(schema, obj),
        "saveOptions": [],
    }


def layout_id(obj: ObjectDef, name: str = "") -> str:
    """The id of the object's (named) layout."""
    return stable_id("00h", obj.key, name.lower())


def describe_layouts(schema: Schema, obj: ObjectDef, version: str) -> dict[str, Any]:
    """GET sobjects/{T}/describe/layouts: the layouts and which record type uses which."""
    lid = layout_id(obj)
    picklists = [
        {"picklistName": f.name, "picklistValues": field_describe(f)["picklistValues"]}
        for f in obj.fields.values()
        if f.type in ("picklist", "multipicklist") and f.createable
    ]
    mapping = {
        "active": True,
        "available": True,
        "defaultRecordTypeMapping": True,
        "developerName": "Master",
        "layoutId": lid,
        "master": True,
        "name": "Master",
        "picklistsForRecordType": picklists,
        "recordTypeId": MASTER_RECORD_TYPE,
        "urls": {"layout": f"/services/data/v{version}/sobjects/{obj.name}/describe/layouts/{MASTER_RECORD_TYPE}"},
    }
    return {
        "layouts": [_layout(schema, obj, version, lid)],
        "recordTypeMappings": [mapping],
        "recordTypeSelectorRequired": [False],
    }


def record_type_layout(schema: Schema, obj: ObjectDef, version: str, record_type_id: str) -> dict[str, Any] | None:
    """GET sobjects/{T}/describe/layouts/{recordTypeId}: one layout (None: not a record type of T)."""
    if ids.normalize(record_type_id) != MASTER_RECORD_TYPE:
        return None
    return _layout(schema, obj, version, layout_id(obj))


def named_layout(schema: Schema, obj: ObjectDef, version: str, name: str) -> dict[str, Any] | None:
    """GET sobjects/{T}/describe/namedLayouts/{name} (None: the object has no such named layout)."""
    known = {n.lower(): n for n in NAMED_LAYOUTS.get(obj.key, [])}
    if name.lower() not in known:
        return None
    lid = layout_id(obj, known[name.lower()])
    return {
        "layouts": [_layout(schema, obj, version, lid)],
        "recordTypeMappings": [],
        "recordTypeSelectorRequired": [False],
    }


def named_layout_infos(obj: ObjectDef) -> list[dict[str, str]]:
    """describe's namedLayoutInfos."""
    return [{"name": n} for n in NAMED_LAYOUTS.get(obj.key, [])]


def compact_layouts(obj: ObjectDef, version: str) -> dict[str, Any]:
    """GET sobjects/{T}/describe/compactLayouts: the system default compact layout (name field first;
    it has no id on a real org)."""
    fields = _main_fields(obj)[:4]
    items = [_item(f, edit=False) for f in fields]
    layout = {
        "actions": [],
        "fieldItems": items,
        "id": None,
        "imageItems": [],
        "label": "System Default",
        "name": "SYSTEM",
        "objectType": obj.name,
    }
    mapping = {
        "available": True,
        "compactLayoutId": None,
        "compactLayoutName": "SYSTEM",
        "recordTypeId": MASTER_RECORD_TYPE,
        "recordTypeName": "Master",
        "urls": {
            "compactLayout": f"/services/data/v{version}/sobjects/{obj.name}/describe/compactLayouts/"
            f"{MASTER_RECORD_TYPE}"
        },
    }
    return {
        "compactLayouts": [layout],
        "defaultCompactLayoutId": None,
        "recordTypeCompactLayoutMappings": [mapping],
        "urls": {"primary": f"/services/data/v{version}/sobjects/{obj.name}/describe/compactLayouts/primary"},
    }


def approval_layouts(obj: ObjectDef, processes: list[tuple[str, str]]) -> dict[str, Any]:
    """GET sobjects/{T}/describe/approvalLayouts: one per approval process on T ((name, label) pairs)."""
    name_field = next((f for f in obj.fields.values() if f.name_field), None)
    items = [_item(name_field, edit=False)] if name_field else []
    return {
        "approvalLayouts": [
            {"id": stable_id("04a", obj.key, name), "label": label, "layoutItems": items, "name": name}
            for name, label in processes
        ]
    }
