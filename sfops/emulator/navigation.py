"""`/recent`, `/tabs` and `/theme` (REST API guide: "Recently Viewed Items", "Tabs", "Themes").

Recently viewed records are the ones a user asked for with `SELECT ... FOR VIEW` or `FOR REFERENCE`
(SOQL guide, "FOR VIEW": it updates LastViewedDate and the recently viewed list), newest first.
Tabs are the standard tabs of the objects the emulator models plus one per custom object; the
theme lists the same objects with their Lightning colours and icons.
"""

from __future__ import annotations

import re
from typing import Any

from sfops.emulator.schema import ObjectDef

MAX_RECENT = 200
_FOR_VIEW = re.compile(r"\bFOR\s+(VIEW|REFERENCE)\s*$", re.IGNORECASE)
# standard tab icon names and colours (Lightning Design System standard icons)
_STANDARD_TABS: dict[str, tuple[str, str]] = {
    "Account": ("account", "7F8DE1"),
    "Contact": ("contact", "A094ED"),
    "Opportunity": ("opportunity", "FCB95B"),
    "Lead": ("lead", "F88962"),
    "Case": ("case", "F2CF5B"),
    "User": ("user", "65CAE4"),
    "Task": ("task", "4BC076"),
    "Event": ("event", "EB7092"),
}


def viewing(soql: str) -> bool:
    """Whether a query marks its rows as viewed (ends with FOR VIEW / FOR REFERENCE)."""
    return bool(_FOR_VIEW.search(soql.strip()))


def remember(recent: list[list[str]], sobject: str, record_ids: list[str]) -> list[list[str]]:
    """The user's recent list ([sobject, id] pairs, newest first) after viewing these records."""
    seen = {rid for rid in record_ids}
    kept = [entry for entry in recent if entry[1] not in seen]
    return ([[sobject, rid] for rid in record_ids] + kept)[:MAX_RECENT]


def recent_item(obj: ObjectDef, row: dict[str, Any], version: str) -> dict[str, Any]:
    """One entry of /recent (and of `sobjects/{T}` recentItems): attributes, Id and Name."""
    name_field = next((f.name for f in obj.fields.values() if f.name_field), None)
    return {
        "attributes": {"type": obj.name, "url": f"/services/data/v{version}/sobjects/{obj.name}/{row['Id']}"},
        "Id": row["Id"],
        "Name": row.get(name_field) if name_field else None,
    }


def _tab_objects(objects: list[ObjectDef]) -> list[ObjectDef]:
    return [
        o
        for o in objects
        if (o.name in _STANDARD_TABS or (o.custom and not o.custom_setting and not o.is_event)) and "data" in o.apis
    ]


def _icons(base_url: str, icon: str, custom: bool) -> list[dict[str, Any]]:
    kind = "custom" if custom else "standard"
    return [
        {
            "contentType": "image/png",
            "height": 32,
            "theme": "theme3",
            "url": f"{base_url}/img/icon/t4v35/{kind}/{icon}_120.png",
            "width": 32,
        },
        {
            "contentType": "image/svg+xml",
            "height": 0,
            "theme": "theme4",
            "url": f"{base_url}/img/icon/t4v35/{kind}/{icon}.svg",
            "width": 0,
        },
        {
            "contentType": "image/png",
            "height": 60,
            "theme": "theme4",
            "url": f"{base_url}/img/icon/t4v35/{kind}/{icon}_60.png",
            "width": 60,
        },
    ]


def _look(obj: ObjectDef) -> tuple[str, str]:
    return _STANDARD_TABS.get(obj.name, ("custom", "1E8AD6"))


def tabs(objects: list[ObjectDef], base_url: str) -> list[dict[str, Any]]:
    """GET /tabs: Home plus a tab per object."""
    out = [
        {
            "colors": [{"color": "DB6D6D", "context": "primary", "theme": "theme4"}],
            "custom": False,
            "iconUrl": f"{base_url}/img/icon/home32.png",
            "icons": _icons(base_url, "home", False),
            "label": "Home",
            "miniIconUrl": f"{base_url}/img/icon/home16.png",
            "name": "standard-home",
            "sobjectName": None,
            "url": f"{base_url}/home/home.jsp",
        }
    ]
    for obj in _tab_objects(objects):
        icon, color = _look(obj)
        out.append(
            {
                "colors": [{"color": color, "context": "primary", "theme": "theme4"}],
                "custom": obj.custom,
                "iconUrl": f"{base_url}/img/icon/{icon}32.png",
                "icons": _icons(base_url, icon, obj.custom),
                "label": obj.label_plural,
                "miniIconUrl": f"{base_url}/img/icon/{icon}16.png",
                "name": obj.name if obj.custom else f"standard-{obj.name}",
                "sobjectName": obj.name,
                "url": f"{base_url}/{obj.key_prefix}/o",
            }
        )
    return out


def theme(objects: list[ObjectDef], base_url: str) -> dict[str, Any]:
    """GET /theme: colours and icons per object."""
    items = []
    for obj in _tab_objects(objects):
        icon, color = _look(obj)
        items.append(
            {
                "colors": [
                    {"color": color, "context": "primary", "theme": "theme4"},
                    {"color": color, "context": "primary", "theme": "theme3"},
                ],
                "icons": _icons(base_url, icon, obj.custom),
                "name": obj.name,
            }
        )
    return {"themeItems": items}
