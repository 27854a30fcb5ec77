"""What the SOQL engine needs from the emulator's state: schema (describe) and rows.

The emulator core implements `Catalog` over its store; `MemoryCatalog` is a small in-memory
implementation for tests and simple embedding. Everything here speaks WIRE values: record dicts
are keyed by canonical field names and hold strings, bools, ints/floats or None; dates are
"2026-11-26", datetimes "2026-11-26T18:31:59.000+0000".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from sfops.emulator.ids import checksum, normalize

Record = Mapping[str, Any]

# Describe types whose values are text (compared case-insensitively, LIKE allowed).
TEXT_TYPES = frozenset(
    {"string", "textarea", "picklist", "email", "url", "phone", "combobox", "encryptedstring", "base64"}
)
ID_TYPES = frozenset({"id", "reference"})
NUMBER_TYPES = frozenset({"int", "double", "currency", "percent", "long"})


@dataclass(frozen=True)
class FieldInfo:
    """One field of an sObject as describe reports it."""

    name: str
    type: str = "string"
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None


@dataclass(frozen=True)
class ChildRelationship:
    """A parent-to-child relationship usable as a subquery: (SELECT ... FROM <name>)."""

    name: str
    child_object: str
    field: str


@dataclass
class ObjectInfo:
    """Schema of one sObject: canonical name, fields and child relationships keyed by lower-case name."""

    name: str
    fields: dict[str, FieldInfo] = field(default_factory=dict)
    child_relationships: dict[str, ChildRelationship] = field(default_factory=dict)

    def field(self, name: str) -> FieldInfo | None:
        """The field called `name` (case-insensitive)."""
        return self.fields.get(name.lower())

    def relationship(self, name: str) -> FieldInfo | None:
        """The reference field whose relationship name is `name` (case-insensitive), e.g. LogUser."""
        wanted = name.lower()
        for info in self.fields.values():
            if info.relationship_name and info.relationship_name.lower() == wanted:
                return info
        return None

    def child(self, name: str) -> ChildRelationship | None:
        """The child relationship called `name` (case-insensitive), e.g. Contacts."""
        return self.child_relationships.get(name.lower())

    @classmethod
    def build(
        cls,
        name: str,
        fields: Iterable[FieldInfo],
        children: Iterable[ChildRelationship] = (),
    ) -> ObjectInfo:
        """Convenience constructor that keys fields and children by lower-case name."""
        return cls(
            name=name,
            fields={f.name.lower(): f for f in fields},
            child_relationships={c.name.lower(): c for c in children},
        )


@runtime_checkable
class Catalog(Protocol):
    """The emulator state as the SOQL engine sees it."""

    def describe(self, object_name: str) -> ObjectInfo | None:
        """Schema of `object_name` (case-insensitive), or None when no such queryable object exists."""
        ...

    def records(self, object_name: str, include_deleted: bool = False) -> Iterable[Record]:
        """All rows of the object (canonical name as returned by describe). Deleted rows only when
        `include_deleted` (queryAll); such rows carry "IsDeleted": True."""
        ...

    def lookup(self, record_id: str) -> tuple[str, Record] | None:
        """Resolve a 15/18-char id of ANY object to (canonical object name, record); None if unknown.
        Used for parent relationship paths, including polymorphic ones (SetupOwnerId)."""
        ...


def is_id(value: Any) -> bool:
    """A 15-char id, or an 18-char id in any letter case whose checksum is consistent
    (Salesforce compares 18-char ids case-insensitively)."""
    if not isinstance(value, str) or len(value) not in (15, 18) or not value.isascii() or not value.isalnum():
        return False
    if len(value) == 15:
        return True
    return checksum(normalize(value)[:15]) == value[15:].upper()


class MemoryCatalog:
    """An in-memory Catalog: register objects with `add_object`, rows with `insert`."""

    def __init__(self) -> None:
        self._objects: dict[str, ObjectInfo] = {}
        self._rows: dict[str, list[dict[str, Any]]] = {}
        self._by_id: dict[str, tuple[str, dict[str, Any]]] = {}

    def add_object(self, info: ObjectInfo) -> ObjectInfo:
        """Register (or replace) an object's schema."""
        self._objects[info.name.lower()] = info
        self._rows.setdefault(info.name, [])
        return info

    def insert(self, object_name: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """Add a row (its "Id", if any, is indexed for lookups). Returns the stored dict."""
        info = self._objects[object_name.lower()]
        row = dict(record)
        self._rows[info.name].append(row)
        rid = row.get("Id")
        if is_id(rid):
            self._by_id[normalize(rid)] = (info.name, row)
        return row

    def describe(self, object_name: str) -> ObjectInfo | None:
        """See `Catalog.describe`."""
        return self._objects.get(object_name.lower())

    def records(self, object_name: str, include_deleted: bool = False) -> Iterable[Record]:
        """See `Catalog.records`."""
        rows = self._rows.get(object_name, [])
        if include_deleted:
            return list(rows)
        return [r for r in rows if not r.get("IsDeleted")]

    def lookup(self, record_id: str) -> tuple[str, Record] | None:
        """See `Catalog.lookup`."""
        if not is_id(record_id):
            return None
        return self._by_id.get(normalize(record_id))
