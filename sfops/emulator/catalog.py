"""The SOQL engine's Catalog implemented over the emulator's schema and state."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sfops.emulator.schema import ObjectDef, child_relationship_name
from sfops.emulator.soql.catalog import ChildRelationship, FieldInfo, ObjectInfo

if TYPE_CHECKING:
    from sfops.emulator.app import Emulator


class StateCatalog:
    """Catalog for one API surface ("data" for REST, "tooling" for the Tooling API)."""

    def __init__(self, emu: Emulator, api: str = "data") -> None:
        self.emu = emu
        self.api = api
        self._cache: dict[str, ObjectInfo | None] = {}
        self._version = -1

    def _obj(self, name: str) -> ObjectDef | None:
        obj = self.emu.schema.get(name)
        if obj is None or self.api not in obj.apis or not obj.queryable:
            return None
        return obj

    def describe(self, object_name: str) -> ObjectInfo | None:
        """See Catalog.describe (cached per schema version)."""
        schema = self.emu.schema
        if schema.version != self._version:
            self._cache = {}
            self._version = schema.version
        key = object_name.lower()
        if key not in self._cache:
            obj = self._obj(object_name)
            if obj is None:
                self._cache[key] = None
            else:
                fields = [
                    FieldInfo(f.name, f.type, tuple(f.reference_to), f.relationship_name) for f in obj.fields.values()
                ]
                children = [
                    ChildRelationship(name, c.name, f.name)
                    for c, f in schema.child_relationships(obj.name)
                    if (name := child_relationship_name(c, f, obj.name)) is not None
                ]
                self._cache[key] = ObjectInfo.build(obj.name, fields, children)
        return self._cache[key]

    def records(self, object_name: str, include_deleted: bool = False) -> Iterable[dict[str, Any]]:
        """See Catalog.records: rows with every schema field present (checkboxes never null)."""
        obj = self._obj(object_name)
        if obj is None:
            return []
        booleans = [f.name for f in obj.fields.values() if f.type == "boolean"]
        out = []
        for row in self.emu.store.rows(obj.name):
            if row.get("IsDeleted") and not include_deleted:
                continue
            if any(row.get(b) is None for b in booleans):
                row = {**row, **{b: False for b in booleans if row.get(b) is None}}
            out.append(row)
        return out

    def lookup(self, record_id: str) -> tuple[str, dict[str, Any]] | None:
        """See Catalog.lookup."""
        found = self.emu.store.get(record_id)
        if found is None:
            return None
        obj = self.emu.schema.get(found[0])
        return (obj.name if obj else found[0]), found[1]
