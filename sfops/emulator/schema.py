"""The org's schema: object and field definitions, the standard objects sfops needs, and the
conversion of CustomObject / CustomField metadata XML into definitions.

Shared contract: the metadata service (sfops/emulator/metadata) reuses `object_from_metadata_xml`,
`field_from_metadata_xml` and the `Schema` mutators for deploys; REST describe is generated from
the same definitions (see describe.py). Types use describe terms (string, boolean, double,
reference, picklist, ...), not metadata terms (Text, Checkbox, Number, Lookup, ...).
"""

from __future__ import annotations

import copy
import functools
import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any

from defusedxml import ElementTree

MD_NS = "http://soap.sforce.com/2006/04/metadata"

# metadata field type -> describe type
METADATA_TYPE_TO_DESCRIBE: dict[str, str] = {
    "Text": "string",
    "TextArea": "textarea",
    "LongTextArea": "textarea",
    "Html": "textarea",
    "Checkbox": "boolean",
    "Number": "double",
    "Currency": "currency",
    "Percent": "percent",
    "Date": "date",
    "DateTime": "datetime",
    "Time": "time",
    "Email": "email",
    "Phone": "phone",
    "Url": "url",
    "Picklist": "picklist",
    "MultiselectPicklist": "multipicklist",
    "Lookup": "reference",
    "MasterDetail": "reference",
    "MetadataRelationship": "reference",
    "AutoNumber": "string",
    "EncryptedText": "encryptedstring",
}
DESCRIBE_TYPE_TO_METADATA: dict[str, str] = {
    "string": "Text",
    "textarea": "LongTextArea",
    "boolean": "Checkbox",
    "double": "Number",
    "int": "Number",
    "currency": "Currency",
    "percent": "Percent",
    "date": "Date",
    "datetime": "DateTime",
    "time": "Time",
    "email": "Email",
    "phone": "Phone",
    "url": "Url",
    "picklist": "Picklist",
    "multipicklist": "MultiselectPicklist",
    "reference": "Lookup",
    "encryptedstring": "EncryptedText",
}
SOAP_TYPES: dict[str, str] = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "int": "xsd:int",
    "long": "xsd:long",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "time": "xsd:time",
    "base64": "xsd:base64Binary",
    "address": "urn:address",
    "location": "urn:location",
    "anyType": "xsd:anyType",
}
NUMERIC_TYPES = frozenset({"double", "currency", "percent", "int", "long"})
TEXT_TYPES = frozenset(
    {"string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "encryptedstring", "combobox"}
)


class SchemaError(ValueError):
    """Invalid metadata for an object or field (message is what a deploy reports)."""


@dataclass
class FieldDef:
    """One field, in describe terms."""

    name: str
    type: str = "string"
    label: str = ""
    length: int = 0
    precision: int = 0
    scale: int = 0
    digits: int = 0
    reference_to: list[str] = field(default_factory=list)
    relationship_name: str | None = None  # child -> parent name used in SOQL ("Incident__r", "Account")
    child_relationship: str | None = None  # parent -> children name, when metadata gives one ("Error_Logs__r")
    delete_constraint: str | None = None  # lookups: "SetNull" | "Restrict" | "Cascade"
    nillable: bool = True
    unique: bool = False
    external_id: bool = False
    case_sensitive: bool = False
    picklist_values: list[str] = field(default_factory=list)
    restricted_picklist: bool = False
    default: Any = None
    custom: bool = False
    help_text: str | None = None
    description: str | None = None
    calculated: bool = False
    formula: str | None = None
    auto_number: bool = False
    display_format: str | None = None  # AutoNumber format, e.g. "INC-{00000}"
    createable: bool = True
    updateable: bool = True
    name_field: bool = False
    id_lookup: bool = False
    cascade_delete: bool = False
    required: bool = False  # required on create (nillable False and no default)
    html: bool = False
    extra_type_info: str | None = None
    # standard fields built from recorded describes: the recorded describe keys that differ from what
    # describe.py derives, and the child relationship name each recorded parent uses (None: unnamed)
    describe_extra: dict[str, Any] = field(default_factory=dict)
    child_relationships: dict[str, str | None] | None = None

    def __post_init__(self) -> None:
        if not self.label:
            self.label = _label_from_name(self.name)
        if self.type == "boolean":
            # checkbox fields are never null in Salesforce
            self.nillable = False
            if self.default is None:
                self.default = False
        sized = ("string", "email", "phone", "url", "picklist", "encryptedstring")
        if self.type in sized and not self.length:
            self.length = 255 if self.type != "phone" else 40
        if self.type == "id":
            self.length = 18
        if self.type == "reference" and not self.length:
            self.length = 18

    @property
    def key(self) -> str:
        return self.name.lower()

    @property
    def polymorphic(self) -> bool:
        return self.type == "reference" and len(self.reference_to) > 1

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ObjectDef:
    """One sObject: its describe-level properties and its fields (ordered, case-insensitive)."""

    name: str
    label: str = ""
    label_plural: str = ""
    key_prefix: str | None = None
    custom: bool = False
    custom_setting_type: str | None = None  # "Hierarchy" | "List" | None
    is_event: bool = False
    apis: tuple[str, ...] = ("data",)  # "data" (REST) and/or "tooling"
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    queryable: bool = True
    description: str | None = None
    fields: dict[str, FieldDef] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.label:
            self.label = _label_from_name(self.name)
        if not self.label_plural:
            self.label_plural = self.label + "s"
        self.apis = tuple(self.apis)
        given = self.fields.values() if isinstance(self.fields, dict) else self.fields
        self.fields = {f.key: f for f in given}

    @property
    def key(self) -> str:
        return self.name.lower()

    @property
    def custom_setting(self) -> bool:
        return self.custom_setting_type is not None

    def field(self, name: str) -> FieldDef | None:
        """Case-insensitive field lookup."""
        return self.fields.get(name.lower())

    def add_field(self, fdef: FieldDef) -> None:
        self.fields[fdef.key] = fdef

    def relationship(self, name: str) -> FieldDef | None:
        """The reference field whose relationshipName is `name` (case-insensitive)."""
        low = name.lower()
        for f in self.fields.values():
            if f.relationship_name and f.relationship_name.lower() == low:
                return f
        return None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["fields"] = [f.to_json() for f in self.fields.values()]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ObjectDef:
        data = dict(data)
        fields = [FieldDef(**f) for f in data.pop("fields", [])]
        obj = cls(**data)
        obj.fields = {f.key: f for f in fields}
        return obj


class Schema:
    """Registry of object definitions with case-insensitive lookup. Thread-safe mutators.

    `version` increases on every change so callers can cache derived output (describe).
    """

    def __init__(self, objects: Iterable[ObjectDef] = ()) -> None:
        self._objects: dict[str, ObjectDef] = {}
        self._lock = threading.RLock()
        self.version = 0
        for obj in objects:
            self._objects[obj.key] = obj

    # -- lookup
    def get(self, name: str) -> ObjectDef | None:
        """The object called `name` (any case), or None."""
        return self._objects.get(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._objects

    def __iter__(self) -> Iterator[ObjectDef]:
        with self._lock:
            objects = list(self._objects.values())
        return iter(sorted(objects, key=lambda o: o.name.lower()))

    def names(self) -> list[str]:
        return [o.name for o in self]

    def by_prefix(self, prefix: str) -> ObjectDef | None:
        """The object whose key prefix is `prefix` (case-sensitive, like ids)."""
        for obj in self._objects.values():
            if obj.key_prefix == prefix:
                return obj
        return None

    def child_relationships(self, name: str) -> list[tuple[ObjectDef, FieldDef]]:
        """(child object, reference field) pairs pointing at `name`."""
        low = name.lower()
        out = []
        for obj in self:
            for f in obj.fields.values():
                if f.type == "reference" and any(t.lower() == low for t in f.reference_to):
                    out.append((obj, f))
        return out

    def child_relationship(self, parent: str, relationship_name: str) -> tuple[ObjectDef, FieldDef] | None:
        """The child (object, field) for a parent-to-child relationship name such as `Contacts`."""
        low = relationship_name.lower()
        for obj, f in self.child_relationships(parent):
            if (_child_relationship_name(obj, f, parent) or "").lower() == low:
                return obj, f
        return None

    # -- mutation
    def upsert_object(self, obj: ObjectDef) -> ObjectDef:
        """Add or replace an object. An existing object keeps its key prefix and any field not
        redefined (deploying an object file does not drop fields deployed separately)."""
        with self._lock:
            old = self._objects.get(obj.key)
            if old is not None:
                obj.key_prefix = obj.key_prefix or old.key_prefix
                for key, f in old.fields.items():
                    obj.fields.setdefault(key, f)
            if not obj.key_prefix:
                obj.key_prefix = self._allocate_prefix(obj)
            self._objects[obj.key] = obj
            self.version += 1
            return obj

    def remove_object(self, name: str) -> ObjectDef | None:
        """Remove an object; returns it (None if absent)."""
        with self._lock:
            obj = self._objects.pop(name.lower(), None)
            self.version += 1
            return obj

    def upsert_field(self, object_name: str, fdef: FieldDef) -> FieldDef:
        """Add or replace a field on an existing object (SchemaError when the object is missing)."""
        with self._lock:
            obj = self.get(object_name)
            if obj is None:
                raise SchemaError(f"Cannot find object {object_name} for field {fdef.name}")
            obj.add_field(fdef)
            self.version += 1
            return fdef

    def remove_field(self, object_name: str, field_name: str) -> FieldDef | None:
        with self._lock:
            obj = self.get(object_name)
            if obj is None:
                return None
            removed = obj.fields.pop(field_name.lower(), None)
            self.version += 1
            return removed

    def copy(self) -> Schema:
        """A deep copy (used for atomic deploys: mutate the copy, swap on success)."""
        with self._lock:
            clone = Schema(copy.deepcopy(list(self._objects.values())))
            clone.version = self.version
            return clone

    def replace_with(self, other: Schema) -> None:
        """Adopt another schema's objects (commit of an atomic change)."""
        with self._lock:
            self._objects = dict(other._objects)
            self.version = max(self.version, other.version) + 1

    def custom_objects(self) -> list[ObjectDef]:
        return [o for o in self if o.custom]

    def to_json(self) -> list[dict[str, Any]]:
        """Custom objects and custom fields on standard objects (what persistence needs)."""
        out = []
        for obj in self:
            if obj.custom:
                out.append(obj.to_json())
            else:
                extra = [f.to_json() for f in obj.fields.values() if f.custom]
                if extra:
                    out.append({"name": obj.name, "standard_extension": True, "fields": extra})
        return out

    def load_json(self, items: list[dict[str, Any]]) -> None:
        """Merge the output of `to_json` into this schema."""
        for item in items:
            if item.get("standard_extension"):
                for f in item["fields"]:
                    if item["name"] in self:
                        self.upsert_field(item["name"], FieldDef(**f))
            else:
                self.upsert_object(ObjectDef.from_json(item))

    def _allocate_prefix(self, obj: ObjectDef) -> str:
        if obj.is_event:
            return "e00"
        used = {o.key_prefix for o in self._objects.values()}
        n = 0
        while True:
            prefix = "a" + _b62(n, 2)
            if prefix not in used:
                return prefix
            n += 1


def _b62(n: int, width: int) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = alphabet[r] + out
    return out.rjust(width, "0")


def _label_from_name(name: str) -> str:
    base = name[:-3] if name.endswith(("__c", "__e")) else name
    return base.replace("_", " ").strip()


def _child_relationship_name(child: ObjectDef, f: FieldDef, parent: str = "") -> str | None:
    if f.child_relationships is not None and not f.custom:
        return f.child_relationships.get(parent.lower())
    if f.child_relationship:
        return f.child_relationship
    if f.relationship_name and f.custom:
        # custom lookups: the child relationship name is the plural label with __r, like Salesforce
        return (child.label_plural.replace(" ", "_")) + "__r"
    return child.label_plural.replace(" ", "")


def child_relationship_name(child: ObjectDef, f: FieldDef, parent: str = "") -> str | None:
    """The relationship name `parent` uses for its children through field `f` (None: unnamed)."""
    return _child_relationship_name(child, f, parent)


# ---------------------------------------------------------------- metadata XML -> definitions


def _strip(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(elem: Any) -> list[Any]:
    return list(elem)


def _text(elem: Any, name: str, default: str | None = None) -> str | None:
    for child in elem:
        if _strip(child.tag) == name:
            return (child.text or "").strip()
    return default


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() == "true"


def _parse(xml: str | bytes) -> Any:
    try:
        return ElementTree.fromstring(xml)
    except Exception as exc:  # defusedxml raises several types; all mean "not valid XML"
        raise SchemaError(f"Error parsing file: {exc}") from exc


def field_from_element(elem: Any, object_name: str = "") -> FieldDef:
    """A FieldDef from a parsed `<CustomField>` / `<fields>` element."""
    name = _text(elem, "fullName")
    if not name:
        raise SchemaError("Must specify a non-empty label for the CustomObject / field: fullName missing")
    if "." in name:
        name = name.split(".", 1)[1]
    md_type = _text(elem, "type")
    formula = _text(elem, "formula")
    if md_type is None:
        raise SchemaError(f"{name}: Must specify a type")
    if md_type not in METADATA_TYPE_TO_DESCRIBE and not formula:
        raise SchemaError(f"{name}: Invalid type: {md_type}")
    dtype = METADATA_TYPE_TO_DESCRIBE.get(md_type, "string")
    precision = int(_text(elem, "precision", "0") or 0)
    scale = int(_text(elem, "scale", "0") or 0)
    length = int(_text(elem, "length", "0") or 0)
    if md_type == "LongTextArea" or md_type == "Html":
        length = length or 32768
    elif md_type == "TextArea":
        length = 255
    references = [c.text.strip() for c in elem if _strip(c.tag) == "referenceTo" and c.text]
    picklist: list[str] = []
    for vs in elem.iter():
        if _strip(vs.tag) == "value" and vs.find(f"{{{MD_NS}}}fullName") is not None:
            picklist.append((vs.find(f"{{{MD_NS}}}fullName").text or "").strip())
        elif _strip(vs.tag) == "value" and vs.find("fullName") is not None:
            picklist.append((vs.find("fullName").text or "").strip())
    restricted = any(_strip(vs.tag) == "restricted" and _bool(vs.text) for vs in elem.iter())
    default_raw = _text(elem, "defaultValue")
    default: Any = default_raw
    if dtype == "boolean":
        default = _bool(default_raw, False)
    elif default_raw and default_raw.startswith('"') and default_raw.endswith('"'):
        default = default_raw[1:-1]
    required = _bool(_text(elem, "required"))
    if md_type == "MasterDetail":
        required = True
    if dtype == "reference" and not references:
        raise SchemaError(f"{name}: referenceTo is required for {md_type} fields")
    # In metadata, <relationshipName> names the parent's list of children (Error_Logs -> Error_Logs__r);
    # the lookup itself is named after the field (Incident__c -> Incident__r), as in describe and SOQL.
    children_name = _text(elem, "relationshipName")
    if children_name and name.endswith("__c") and not children_name.endswith("__r"):
        children_name += "__r"
    constraint = _text(elem, "deleteConstraint")
    if dtype == "reference":
        constraint = "Cascade" if md_type == "MasterDetail" else (constraint or "SetNull")
    fdef = FieldDef(
        name=name,
        type=dtype,
        label=_text(elem, "label") or "",
        length=length,
        precision=precision if dtype in NUMERIC_TYPES else 0,
        scale=scale if dtype in NUMERIC_TYPES else 0,
        reference_to=references,
        child_relationship=children_name if dtype == "reference" else None,
        delete_constraint=constraint if dtype == "reference" else None,
        nillable=not required,
        unique=_bool(_text(elem, "unique")),
        external_id=_bool(_text(elem, "externalId")),
        case_sensitive=_bool(_text(elem, "caseSensitive")),
        picklist_values=picklist,
        restricted_picklist=restricted and dtype in ("picklist", "multipicklist"),
        default=default,
        custom=name.endswith("__c"),
        help_text=_text(elem, "inlineHelpText"),
        description=_text(elem, "description"),
        calculated=bool(formula),
        formula=formula,
        auto_number=md_type == "AutoNumber",
        createable=not formula and md_type != "AutoNumber",
        display_format=_text(elem, "displayFormat") if md_type == "AutoNumber" else None,
        updateable=not formula and md_type != "AutoNumber",
        required=required,
        html=md_type == "Html",
        cascade_delete=constraint == "Cascade",
    )
    if dtype == "reference":
        fdef.relationship_name = name[:-3] + "__r" if name.endswith("__c") else children_name
    return fdef


def field_from_metadata_xml(xml: str | bytes, object_name: str = "", field_name: str | None = None) -> FieldDef:
    """A FieldDef from a CustomField metadata document (`*.field-meta.xml` or the mdapi form).

    `field_name` fills in fullName when the SFDX source file omits it (the file name carries it).
    """
    root = _parse(xml)
    if _strip(root.tag) != "CustomField":
        raise SchemaError(f"Expected CustomField, found {_strip(root.tag)}")
    if field_name and _text(root, "fullName") is None:
        elem = ElementTree.fromstring(
            f'<CustomField xmlns="{MD_NS}"><fullName>{_xml_escape(field_name)}</fullName></CustomField>'
        )
        for child in root:
            elem.append(child)
        root = elem
    return field_from_element(root, object_name)


def _xml_escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def object_from_metadata_xml(xml: str | bytes, name: str, fields: Iterable[FieldDef] = ()) -> ObjectDef:
    """An ObjectDef from a CustomObject metadata document plus extra field definitions
    (SFDX source keeps fields in separate files; mdapi format nests `<fields>` inside)."""
    root = _parse(xml)
    if _strip(root.tag) != "CustomObject":
        raise SchemaError(f"Expected CustomObject, found {_strip(root.tag)}")
    setting_type = _text(root, "customSettingsType")
    is_event = name.endswith("__e")
    label = _text(root, "label")
    if not label:
        raise SchemaError(f"{name}: Must specify a non-empty label for the CustomObject")
    obj = ObjectDef(
        name=name,
        label=label,
        label_plural=_text(root, "pluralLabel") or label,
        custom=True,
        custom_setting_type=setting_type or None,
        is_event=is_event,
        description=_text(root, "description"),
        updateable=not is_event,
        deletable=not is_event,
        queryable=not is_event,
    )
    for f in standard_fields_for_custom(obj, root):
        obj.add_field(f)
    for child in root:
        if _strip(child.tag) == "fields":
            obj.add_field(field_from_element(child, name))
    for f in fields:
        obj.add_field(f)
    return obj


def standard_fields_for_custom(obj: ObjectDef, root: Any | None = None) -> list[FieldDef]:
    """System fields Salesforce adds to every custom object / setting / platform event."""
    out = [FieldDef("Id", "id", label="Record ID", nillable=False, createable=False, updateable=False, id_lookup=True)]
    audit = [
        FieldDef("CreatedDate", "datetime", label="Created Date", nillable=False, createable=False, updateable=False),
        FieldDef(
            "CreatedById",
            "reference",
            label="Created By ID",
            reference_to=["User"],
            relationship_name="CreatedBy",
            nillable=False,
            createable=False,
            updateable=False,
        ),
    ]
    if obj.is_event:
        out += [FieldDef("ReplayId", "string", label="Replay ID", createable=False, updateable=False)]
        out += audit
        out += [FieldDef("EventUuid", "string", label="Event UUID", length=36, createable=False, updateable=False)]
        return out
    out += [FieldDef("IsDeleted", "boolean", label="Deleted", createable=False, updateable=False)]
    name_type = name_format = None
    if root is not None:
        for child in root:
            if _strip(child.tag) == "nameField":
                name_type, name_format = _text(child, "type"), _text(child, "displayFormat")
    # every custom object and custom setting has a Name field
    out.append(
        FieldDef(
            "Name",
            "string",
            label="Name",
            length=80 if name_type != "AutoNumber" else 30,
            nillable=obj.custom_setting_type != "List",
            name_field=True,
            id_lookup=True,
            auto_number=name_type == "AutoNumber",
            display_format=name_format if name_type == "AutoNumber" else None,
            createable=name_type != "AutoNumber",
            updateable=name_type != "AutoNumber",
            required=obj.custom_setting_type == "List",
        )
    )
    if obj.custom_setting_type == "Hierarchy":
        out.append(
            FieldDef(
                "SetupOwnerId",
                "reference",
                label="Location",
                reference_to=["Organization", "Profile", "User"],
                relationship_name="SetupOwner",
                nillable=False,
                createable=True,
                updateable=True,
            )
        )
    elif obj.custom_setting_type is None:
        out.append(
            FieldDef(
                "OwnerId",
                "reference",
                label="Owner ID",
                reference_to=["Group", "User"],
                relationship_name="Owner",
                nillable=False,
            )
        )
    out += [
        *audit,
        FieldDef(
            "LastModifiedDate",
            "datetime",
            label="Last Modified Date",
            nillable=False,
            createable=False,
            updateable=False,
        ),
        FieldDef(
            "LastModifiedById",
            "reference",
            label="Last Modified By ID",
            reference_to=["User"],
            relationship_name="LastModifiedBy",
            nillable=False,
            createable=False,
            updateable=False,
        ),
        FieldDef(
            "SystemModstamp", "datetime", label="System Modstamp", nillable=False, createable=False, updateable=False
        ),
    ]
    return out


# ---------------------------------------------------------------- standard objects


def _audit() -> list[FieldDef]:
    ro: dict[str, Any] = {"createable": False, "updateable": False}
    return [
        FieldDef("CreatedDate", "datetime", label="Created Date", nillable=False, **ro),
        FieldDef(
            "CreatedById",
            "reference",
            label="Created By ID",
            reference_to=["User"],
            relationship_name="CreatedBy",
            nillable=False,
            **ro,
        ),
        FieldDef("LastModifiedDate", "datetime", label="Last Modified Date", nillable=False, **ro),
        FieldDef(
            "LastModifiedById",
            "reference",
            label="Last Modified By ID",
            reference_to=["User"],
            relationship_name="LastModifiedBy",
            nillable=False,
            **ro,
        ),
        FieldDef("SystemModstamp", "datetime", label="System Modstamp", nillable=False, **ro),
    ]


def _id() -> FieldDef:
    return FieldDef("Id", "id", label="Record ID", nillable=False, createable=False, updateable=False, id_lookup=True)


def _obj(
    name: str,
    prefix: str,
    fields: list[FieldDef],
    *,
    apis: tuple[str, ...] = ("data",),
    label: str = "",
    plural: str = "",
    audit: bool = True,
    **kw: Any,
) -> ObjectDef:
    all_fields = [_id(), *fields, *(_audit() if audit else [])]
    return ObjectDef(
        name=name,
        label=label or _label_from_name(name),
        label_plural=plural,
        key_prefix=prefix,
        apis=apis,
        fields={f.key: f for f in all_fields},
        **kw,
    )


def _s(name: str, length: int = 255, **kw: Any) -> FieldDef:
    return FieldDef(name, "string", length=length, **kw)


def _ref(name: str, to: list[str], rel: str | None, **kw: Any) -> FieldDef:
    return FieldDef(name, "reference", reference_to=to, relationship_name=rel, **kw)


_LOG_LEVELS = ["NONE", "ERROR", "WARN", "INFO", "DEBUG", "FINE", "FINER", "FINEST"]
_LEVEL_FIELDS = [
    "ApexCode",
    "ApexProfiling",
    "Callout",
    "Database",
    "System",
    "Validation",
    "Visualforce",
    "Workflow",
    "Wave",
    "Nba",
    "DataAccess",
]
_RO: dict[str, Any] = {"createable": False, "updateable": False}  # read-only field


def standard_objects() -> list[ObjectDef]:
    """The standard objects sfops and its clients use, with realistic key prefixes."""
    org_fields = [
        _s("Name", 80, name_field=True, nillable=False),
        _s("Division", 80),
        _s("Country", 80),
        _s("PrimaryContact", 80),
        _s("DefaultLocaleSidKey", 40),
        _s("TimeZoneSidKey", 40),
        _s("LanguageLocaleKey", 40),
        FieldDef("FiscalYearStartMonth", "int", digits=9),
        _s("OrganizationType", 40, **_RO),
        _s("NamespacePrefix", 15, **_RO),
        _s("InstanceName", 5, **_RO),
        FieldDef("IsSandbox", "boolean", **_RO),
        FieldDef("IsReadOnly", "boolean", **_RO),
        FieldDef("TrialExpirationDate", "datetime", **_RO),
        _s("UiSkin", 40),
        FieldDef("ReceivesInfoEmails", "boolean"),
        FieldDef("ReceivesAdminInfoEmails", "boolean"),
        *[
            _s(n, 255, **_RO)
            for n in (
                "Street",
                "City",
                "State",
                "PostalCode",
                "GeocodeAccuracy",
                "Phone",
                "Fax",
                "DefaultAccountAccess",
                "DefaultContactAccess",
                "DefaultOpportunityAccess",
                "DefaultLeadAccess",
                "DefaultCaseAccess",
                "DefaultCalendarAccess",
                "DefaultPricebookAccess",
                "DefaultCampaignAccess",
                "DelegatedAuthenticationServiceUrl",
                "ComplianceBccEmail",
                "SignupCountryIsoCode",
                "WebToCaseDefaultOrigin",
            )
        ],
        FieldDef("Latitude", "double", precision=18, scale=15, **_RO),
        FieldDef("Longitude", "double", precision=18, scale=15, **_RO),
        FieldDef("Address", "address", **_RO),
        *[
            FieldDef(n, "boolean", **_RO)
            for n in (
                "PreferencesRequireOpportunityProducts",
                "PreferencesTransactionSecurityPolicy",
                "PreferencesTerminateOldestSession",
                "PreferencesConsentManagementEnabled",
                "PreferencesAutoSelectIndividualOnMerge",
                "PreferencesLightningLoginEnabled",
                "PreferencesOnlyLLPermUserAllowed",
                "UsesStartDateAsFiscalYearName",
            )
        ],
        *[
            FieldDef(n, "int", digits=9, **_RO)
            for n in ("NumKnowledgeService", "MonthlyPageViewsUsed", "MonthlyPageViewsEntitlement")
        ],
    ]
    level_fields = [FieldDef(n, "picklist", picklist_values=_LOG_LEVELS) for n in _LEVEL_FIELDS]
    objects = [
        _obj("Organization", "00D", org_fields, plural="Organizations", createable=False, deletable=False),
        _obj(
            "Profile",
            "00e",
            [
                _s("Name", 255, name_field=True, nillable=False),
                _s("Description", 255),
                FieldDef("UserType", "picklist", picklist_values=["Standard"], **_RO),
            ],
            plural="Profiles",
            apis=("data", "tooling"),
        ),
        _obj(
            "UserRole",
            "00E",
            [
                _s("Name", 80, name_field=True, nillable=False),
                _s("DeveloperName", 80),
                _ref("ParentRoleId", ["UserRole"], None),
            ],
            label="Role",
            plural="Roles",
        ),
        _obj(
            "Group",
            "00G",
            [
                _s("Name", 40, name_field=True),
                _s("DeveloperName", 80),
                FieldDef("Type", "picklist", picklist_values=["Regular", "Queue"]),
            ],
            plural="Groups",
        ),
        _obj(
            "RecordType",
            "012",
            [
                _s("Name", 80, name_field=True),
                _s("DeveloperName", 80),
                FieldDef("SobjectType", "picklist"),
                FieldDef("IsActive", "boolean"),
            ],
            label="Record Type",
            plural="Record Types",
            apis=("data", "tooling"),
        ),
        _obj(
            "ApexClass",
            "01p",
            [
                _s("Name", 255, name_field=True, nillable=False),
                _s("NamespacePrefix", 15),
                FieldDef("ApiVersion", "double", precision=18, scale=1),
                FieldDef("Status", "picklist", picklist_values=["Active", "Deleted"]),
                FieldDef("IsValid", "boolean"),
                FieldDef("Body", "textarea", length=1000000),
                FieldDef("LengthWithoutComments", "int", digits=9),
            ],
            label="Apex Class",
            plural="Apex Classes",
            apis=("data", "tooling"),
            createable=False,
            updateable=False,
            deletable=False,
        ),
        _obj(
            "ApexTrigger",
            "01q",
            [
                _s("Name", 255, name_field=True, nillable=False),
                _s("NamespacePrefix", 15),
                _s("TableEnumOrId", 40),
                FieldDef("ApiVersion", "double", precision=18, scale=1),
                FieldDef("Status", "picklist", picklist_values=["Active", "Inactive", "Deleted"]),
                FieldDef("IsValid", "boolean"),
                FieldDef("Body", "textarea", length=1000000),
            ],
            label="Apex Trigger",
            plural="Apex Triggers",
            apis=("data", "tooling"),
            createable=False,
            updateable=False,
            deletable=False,
        ),
        _obj(
            "ApexLog",
            "07L",
            [
                _ref("LogUserId", ["User"], "LogUser", **_RO),
                FieldDef("LogLength", "int", digits=9, **_RO),
                FieldDef("LastModifiedDate", "datetime", **_RO),
                _s("Request", 16, **_RO),
                _s("Operation", 128, **_RO),
                _s("Application", 64, **_RO),
                _s("Status", 255, **_RO),
                FieldDef("DurationMilliseconds", "int", digits=9, **_RO),
                FieldDef("StartTime", "datetime", **_RO),
                FieldDef(
                    "Location",
                    "picklist",
                    picklist_values=["Monitoring", "Profiling", "SystemLog", "HeapDump", "Preserved"],
                    **_RO,
                ),
                FieldDef("SystemModstamp", "datetime", **_RO),
            ],
            label="Apex Debug Log",
            plural="Apex Debug Logs",
            apis=("data", "tooling"),
            audit=False,
            createable=False,
            updateable=False,
        ),
        _obj(
            "DebugLevel",
            "7dl",
            [
                _s("DeveloperName", 80, nillable=False, required=True),
                _s("MasterLabel", 80, nillable=False, required=True),
                FieldDef("Language", "picklist", picklist_values=["en_US"]),
                FieldDef("IsDeleted", "boolean", **_RO),
                *level_fields,
            ],
            label="Debug Level",
            plural="Debug Levels",
            apis=("tooling",),
        ),
        _obj(
            "TraceFlag",
            "7tf",
            [
                _ref(
                    "TracedEntityId",
                    ["ApexClass", "ApexTrigger", "User"],
                    "TracedEntity",
                    nillable=False,
                    required=True,
                ),
                _ref("DebugLevelId", ["DebugLevel"], "DebugLevel", nillable=False, required=True),
                FieldDef(
                    "LogType",
                    "picklist",
                    picklist_values=["USER_DEBUG", "DEVELOPER_LOG", "CLASS_TRACING", "PROFILING"],
                    nillable=False,
                    required=True,
                ),
                FieldDef("StartDate", "datetime"),
                FieldDef("ExpirationDate", "datetime", nillable=False, required=True),
                *[FieldDef(n, "picklist", picklist_values=_LOG_LEVELS) for n in _LEVEL_FIELDS],
            ],
            label="Trace Flag",
            plural="Trace Flags",
            apis=("tooling",),
        ),
        _obj(
            "StaticResource",
            "081",
            [
                _s("NamespacePrefix", 15, **_RO),
                _s("Name", 255, name_field=True, nillable=False, required=True),
                _s("ContentType", 120, nillable=False, required=True),
                FieldDef("BodyLength", "int", digits=9, **_RO),
                FieldDef("Body", "base64", nillable=False, required=True),
                FieldDef("Description", "textarea", length=1000),
                FieldDef(
                    "CacheControl",
                    "picklist",
                    length=40,
                    picklist_values=["Private", "Public"],
                    nillable=False,
                    required=True,
                ),
            ],
            label="Static Resource",
            plural="Static Resources",
            apis=("data", "tooling"),
        ),
        _obj(
            "ApexEmailNotification",
            "0Ai",
            [
                _ref("UserId", ["User"], "User"),
                # Tooling API object reference: Email is a string (255)
                _s("Email", 255, id_lookup=True),
            ],
            label="Apex Email Notification",
            plural="Apex Email Notifications",
            apis=("data", "tooling"),
        ),
        _obj(
            "AsyncApexJob",
            "707",
            [
                FieldDef(
                    "JobType",
                    "picklist",
                    picklist_values=["Future", "BatchApex", "Queueable", "ScheduledApex", "TestRequest"],
                    **_RO,
                ),
                FieldDef(
                    "Status",
                    "picklist",
                    picklist_values=["Queued", "Processing", "Completed", "Failed", "Aborted", "Holding", "Preparing"],
                    **_RO,
                ),
                _ref("ApexClassId", ["ApexClass"], "ApexClass", **_RO),
                _s("MethodName", 255, **_RO),
                FieldDef("NumberOfErrors", "int", **_RO),
                FieldDef("JobItemsProcessed", "int", **_RO),
                FieldDef("TotalJobItems", "int", **_RO),
                _s("ExtendedStatus", 255, **_RO),
                FieldDef("CompletedDate", "datetime", **_RO),
            ],
            label="Apex Job",
            plural="Apex Jobs",
            apis=("data", "tooling"),
            createable=False,
            updateable=False,
            deletable=False,
        ),
        *_apex_test_objects(),
    ]
    from sfops.emulator.monitoring import monitoring_objects

    return objects + recorded_standard_objects() + monitoring_objects()


_STANDARD_TABLE = "seed_data/standard_objects.json"


def recorded_standard_objects() -> list[ObjectDef]:
    """Account, Contact, Opportunity, OpportunityContactRole, Case, Lead, Event, Task and User with their
    standard fields, picklists and relationships, from real describes (scripts/gen_standard_schema.py)."""
    table = _standard_table()
    out = []
    for item in table["objects"]:
        fields = [FieldDef(**f) for f in copy.deepcopy(item["fields"])]
        apis = ("data", "tooling") if item["name"] == "User" else ("data",)
        out.append(
            ObjectDef(
                name=item["name"],
                label=item["label"],
                label_plural=item["label_plural"],
                key_prefix=item["key_prefix"],
                createable=item["createable"],
                updateable=item["updateable"],
                deletable=item["deletable"],
                apis=apis,
                fields={f.key: f for f in fields},
            )
        )
    return out


@functools.cache
def _standard_table() -> dict[str, Any]:
    return json.loads(resources.files("sfops.emulator").joinpath(_STANDARD_TABLE).read_text("utf-8"))


def _apex_test_objects() -> list[ObjectDef]:
    from sfops.emulator.apexruns import test_objects  # apexruns builds on this module's FieldDef/ObjectDef

    return test_objects(_obj)


def default_schema() -> Schema:
    """A fresh schema with the standard objects only."""
    return Schema(standard_objects())
