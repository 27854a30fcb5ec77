"""DML over the state: create/update/delete/upsert with Salesforce's validation and error codes,
and the REST wire form of a record."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sfops.emulator import ids
from sfops.emulator.schema import FieldDef, ObjectDef
from sfops.emulator.values import FieldValueError, coerce, fmt_datetime, now_utc, parse_datetime
from sfops.emulator.wire import ApiError, not_found

if TYPE_CHECKING:
    from sfops.emulator.app import Emulator

SETUP_OWNER_PREFIXES = ("00D", "00e", "005")
# what Salesforce accepts as an email address: local part, "@", a dotted domain (no spaces)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def save_error(err: ApiError) -> dict[str, Any]:
    """An ApiError in SaveResult form (`statusCode`, not `errorCode`)."""
    return {"statusCode": err.code, "message": err.message, "fields": err.fields or []}


def record_url(obj: ObjectDef, rid: str, version: str, tooling: bool = False) -> str:
    return f"/services/data/v{version}/{'tooling/' if tooling else ''}sobjects/{obj.name}/{rid}"


def wire_record(
    obj: ObjectDef, row: Mapping[str, Any], version: str, tooling: bool = False, only: list[FieldDef] | None = None
) -> dict[str, Any]:
    """A stored row as REST returns it: attributes first, then fields in describe order."""
    out: dict[str, Any] = {"attributes": {"type": obj.name, "url": record_url(obj, row["Id"], version, tooling)}}
    for f in only if only is not None else obj.fields.values():
        value = row.get(f.name)
        if value is None and f.type == "boolean":
            value = False
        elif value is not None and f.type == "base64":  # blobs read as the URL that answers their bytes
            value = f"{record_url(obj, row['Id'], version, tooling)}/{f.name}"
        out[f.name] = value
    return out


class Records:
    """Record operations for one emulator."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    @property
    def store(self) -> Any:
        return self.emu.store

    def object(self, name: str, tooling: bool = False) -> ObjectDef:
        """The object definition for a URL segment, or 404 NOT_FOUND like Salesforce."""
        obj = self.emu.schema.get(name)
        if obj is None or ("tooling" if tooling else "data") not in obj.apis:
            raise not_found()
        return obj

    def get(self, obj: ObjectDef, record_id: str, *, include_deleted: bool = False) -> dict[str, Any]:
        """The stored row; 404 shapes from the fixtures for bad or unknown ids."""
        if not ids.looks_like_id(record_id):
            raise ApiError(
                404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {record_id}"
            )
        found = self.store.get(record_id)
        if found is None or found[0] != obj.key:
            raise not_found()
        row = found[1]
        if row.get("IsDeleted") and not include_deleted:
            raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
        return row

    def find(self, obj: ObjectDef, field_name: str, value: Any) -> list[dict[str, Any]]:
        """Live rows whose field equals value (text compared case-insensitively)."""
        f = obj.field(field_name)
        if f is None:
            return []
        want = value.lower() if isinstance(value, str) and not f.case_sensitive else value
        if f.type in ("id", "reference") and isinstance(value, str) and ids.looks_like_id(value):
            want = ids.normalize(value)
        out = []
        for row in self.store.rows(obj.name):
            if row.get("IsDeleted"):
                continue
            have = row.get(f.name)
            if (
                isinstance(have, str)
                and isinstance(want, str)
                and f.type not in ("id", "reference")
                and not f.case_sensitive
            ):
                have = have.lower()
            if have == want:
                out.append(row)
        return out

    # ------------------------------------------------------------------ writes
    def _values(self, obj: ObjectDef, data: Mapping[str, Any], creating: bool) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, raw in data.items():
            if key == "attributes":
                continue
            f = obj.field(key)
            if f is None:
                raise ApiError(400, "INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}")
            allowed = f.createable if creating else f.updateable
            if not allowed:
                what = "create" if creating else "update"
                raise ApiError(
                    400,
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to {what} fields: {f.name}. Please check the security settings of this "
                    "field and verify that it is read/write for your profile or permission set.",
                    [f.name],
                )
            try:
                values[f.name] = coerce(f, raw, obj.name)
            except FieldValueError as exc:
                raise ApiError(400, exc.code, exc.message, [exc.field]) from exc
            if values[f.name] is not None:
                self._validate(f, values[f.name])
        return values

    def _validate(self, f: FieldDef, value: Any) -> None:
        """What Salesforce checks on every written value: restricted picklists, email syntax, and that
        a lookup points at an existing live record of the object it references (StatusCode enum of the
        SOAP API Developer Guide; messages as real orgs word them)."""
        if f.type in ("picklist", "multipicklist") and f.restricted_picklist and f.picklist_values:
            chosen = str(value).split(";") if f.type == "multipicklist" else [str(value)]
            bad = next((v for v in chosen if v not in f.picklist_values), None)
            if bad is not None:
                raise ApiError(
                    400,
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    f"{f.label}: bad value for restricted picklist field: {bad}",
                    [f.name],
                )
        elif f.type == "email" and not _EMAIL.match(str(value)):
            raise ApiError(400, "INVALID_EMAIL_ADDRESS", f"{f.label}: invalid email address: {value}", [f.name])
        elif f.type == "reference" and f.reference_to and f.name != "SetupOwnerId":
            self._validate_reference(f, str(value))

    def _validate_reference(self, f: FieldDef, value: str) -> None:
        schema = self.emu.schema
        targets = [t for t in (schema.get(name) for name in f.reference_to) if t is not None]
        if len(targets) != len(f.reference_to):
            return  # references an object the emulator does not model: nothing to check against
        prefixes = {t.key_prefix for t in targets if t.key_prefix}
        if value[:3] not in prefixes:
            raise ApiError(
                400, "FIELD_INTEGRITY_EXCEPTION", f"{f.label}: id value of incorrect type: {value}", [f.name]
            )
        found = self.store.get(value)
        if found is None:
            raise ApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
        if found[1].get("IsDeleted"):
            raise ApiError(400, "ENTITY_IS_DELETED", "entity is deleted", [])

    def _check(self, obj: ObjectDef, row: dict[str, Any], rid: str | None) -> None:
        for f in obj.fields.values():
            if f.required and f.createable and row.get(f.name) in (None, ""):
                raise ApiError(400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{f.name}]", [f.name])
        unique = [f for f in obj.fields.values() if f.unique]
        if obj.custom_setting_type == "List" and obj.field("Name"):
            unique.append(obj.fields["name"])
        if obj.custom_setting_type == "Hierarchy":
            unique.append(obj.fields["setupownerid"])
        for f in unique:
            value = row.get(f.name)
            if value in (None, ""):
                continue
            for other in self.find(obj, f.name, value):
                if other["Id"] != rid:
                    raise ApiError(
                        400,
                        "DUPLICATE_VALUE",
                        f"duplicate value found: {f.name} duplicates value on record with id: {other['Id']}",
                        [f.name],
                    )
        if obj.name == "TraceFlag":
            self._check_trace_flag(row, rid)
        if obj.custom_setting_type == "Hierarchy":
            owner = row.get("SetupOwnerId")
            found = self.store.get(owner) if owner else None
            if not owner or owner[:3] not in SETUP_OWNER_PREFIXES or found is None:
                raise ApiError(
                    400,
                    "FIELD_INTEGRITY_EXCEPTION",
                    f"Location ID: id value of incorrect type: {owner}",
                    ["SetupOwnerId"],
                )

    def _check_trace_flag(self, row: dict[str, Any], rid: str | None) -> None:
        """Trace flags expire at most 24 h after they start, and one entity has one live flag per log type.
        (Messages approximate Salesforce's; the rules are the documented ones.)"""
        start = parse_datetime(row["StartDate"]) if row.get("StartDate") else now_utc()
        end = parse_datetime(row["ExpirationDate"]) if row.get("ExpirationDate") else None
        if end is not None and end <= start:
            raise ApiError(
                400,
                "FIELD_INTEGRITY_EXCEPTION",
                "Expiration Date: the expiration date must be after the start date",
                ["ExpirationDate"],
            )
        if end is not None and end - start > timedelta(hours=24):
            raise ApiError(
                400,
                "FIELD_INTEGRITY_EXCEPTION",
                "Expiration Date: the trace flag can't be longer than 24 hours",
                ["ExpirationDate"],
            )
        now = now_utc()
        for other in self.store.rows("TraceFlag"):
            if other["Id"] == rid or other.get("IsDeleted"):
                continue
            if (
                other.get("TracedEntityId") == row.get("TracedEntityId")
                and other.get("LogType") == row.get("LogType")
                and (not other.get("ExpirationDate") or parse_datetime(other["ExpirationDate"]) > now)
            ):
                raise ApiError(400, "FIELD_INTEGRITY_EXCEPTION", "This entity is already being traced.", [])

    def create(self, obj: ObjectDef, data: Mapping[str, Any], user_id: str | None = None) -> dict[str, Any]:
        """Insert a record; returns the SaveResult body. Raises ApiError."""
        if not obj.createable:
            raise ApiError(400, "INVALID_TYPE_FOR_OPERATION", f"entity type {obj.name} does not support insert")
        if obj.is_event:
            return self._publish(obj, data)
        values = self._values(obj, data, creating=True)
        user = user_id or self.emu.admin_user_id()
        now = fmt_datetime(now_utc())
        row: dict[str, Any] = {}
        for f in obj.fields.values():
            if f.name in values:
                row[f.name] = values[f.name]
            elif f.default is not None and not f.calculated:
                row[f.name] = coerce(f, f.default, obj.name) if f.type != "boolean" else bool(f.default)
            else:
                row[f.name] = False if f.type == "boolean" else None
        rid = self.emu.new_id(obj.key_prefix or "a00")
        row.update(
            {
                "Id": rid,
                "CreatedDate": now,
                "CreatedById": user,
                "LastModifiedDate": now,
                "LastModifiedById": user,
                "SystemModstamp": now,
            }
        )
        if "IsDeleted" in obj.fields or obj.field("IsDeleted"):
            row["IsDeleted"] = False
        if obj.field("OwnerId") and not row.get("OwnerId"):
            row["OwnerId"] = user
        if obj.custom_setting_type == "Hierarchy" and not row.get("SetupOwnerId"):
            row["SetupOwnerId"] = self.emu.org_id
        self._derive(obj, row)
        with self.store.lock:
            self._check(obj, row, None)
            for f in obj.fields.values():
                if f.auto_number:
                    row[f.name] = self._next_auto_number(obj, f)
            self.store.put(obj.name, row)
        return {"id": rid, "success": True, "errors": []}

    def _next_auto_number(self, obj: ObjectDef, f: FieldDef) -> str:
        """The next value of an AutoNumber field; numbers are never reused, even after deletes."""
        key = f"{obj.name}.{f.name}"
        number = int(self.store.get_json("autonumber", key) or 0) + 1
        self.store.put_json("autonumber", key, number)
        return format_auto_number(f.display_format or "{0}", number, now_utc())

    def _publish(self, obj: ObjectDef, data: Mapping[str, Any]) -> dict[str, Any]:
        values = self._values(obj, data, creating=True)
        event_uuid = str(uuid.uuid4())
        rid = ids.to18("e00" + "xx" + "0000000001")
        self.store.put_json(
            "event", event_uuid, {"sobject": obj.name, "fields": values, "published": fmt_datetime(now_utc())}
        )
        return {
            "id": rid,
            "success": True,
            "errors": [{"statusCode": "OPERATION_ENQUEUED", "message": event_uuid, "fields": []}],
        }

    def update(self, obj: ObjectDef, record_id: str, data: Mapping[str, Any], user_id: str | None = None) -> None:
        """Update a record (no body on success). Raises ApiError."""
        if not obj.updateable:
            raise ApiError(400, "INVALID_TYPE_FOR_OPERATION", f"entity type {obj.name} does not support update")
        row = dict(self.get(obj, record_id))
        self._lock_check(row["Id"])
        values = self._values(obj, data, creating=False)
        row.update(values)
        now = fmt_datetime(now_utc())
        row.update(
            {"LastModifiedDate": now, "LastModifiedById": user_id or self.emu.admin_user_id(), "SystemModstamp": now}
        )
        self._derive(obj, row)
        with self.store.lock:
            self._check(obj, row, row["Id"])
            self.store.put(obj.name, row)

    def delete(self, obj: ObjectDef, record_id: str) -> None:
        """Soft-delete (recycle bin: queryAll still sees it), with the side effects on related records:
        cascade-delete children (master-detail, Account's Contacts...), clear SetNull lookups, refuse
        when a Restrict lookup still points here. All or nothing. Tooling-only objects are removed.
        Raises ApiError."""
        if not obj.deletable:
            raise ApiError(400, "INVALID_TYPE_FOR_OPERATION", f"entity type {obj.name} does not support delete")
        row = dict(self.get(obj, record_id))
        self._lock_check(row["Id"])
        if "data" not in obj.apis:
            # Tooling-only setup objects (DebugLevel, TraceFlag) have no recycle bin: a read after the
            # delete is NOT_FOUND on a real org (jsforce's tooling integration test), not ENTITY_IS_DELETED
            self.store.purge(row["Id"])
            return
        with self.store.transaction():
            self._delete_tree(obj, row, fmt_datetime(now_utc()))

    def _delete_tree(self, obj: ObjectDef, row: dict[str, Any], now: str) -> None:
        rid = row["Id"]
        for child, f in self.emu.schema.child_relationships(obj.name):
            if child.is_event:
                continue
            related = [r for r in self.store.rows(child.name) if r.get(f.name) == rid and not r.get("IsDeleted")]
            if not related:
                continue
            if f.delete_constraint == "Restrict":
                names = ", ".join(str(r.get("Name") or r["Id"]) for r in related[:5])
                raise ApiError(
                    400,
                    "DELETE_FAILED",
                    f"Your attempt to delete {row.get('Name') or rid} could not be completed because "
                    f"it is associated with the following {child.label_plural.lower()}.: {names}",
                    [],
                )
            for other in related:
                if f.cascade_delete:
                    self._lock_check(other["Id"])
                    self._delete_tree(child, dict(other), now)
                elif f.nillable:  # SetNull: the lookup is cleared, the child stays
                    self.store.put(child.name, {**other, f.name: None})
        row.update({"IsDeleted": True, "SystemModstamp": now})
        self.store.put(obj.name, row)
        self.store.put_json("deleted", rid, {"sobject": obj.name, "deletedDate": now})

    def _lock_check(self, rid: str) -> None:
        if self.emu.faults.is_locked(rid):
            raise ApiError(
                400, "UNABLE_TO_LOCK_ROW", f"unable to obtain exclusive access to this record or 1 records: {rid}", []
            )

    def _derive(self, obj: ObjectDef, row: dict[str, Any]) -> None:
        if obj.name in ("User", "Contact", "Lead") and obj.field("FirstName"):
            row["Name"] = " ".join(p for p in (row.get("FirstName"), row.get("LastName")) if p) or None

    def upsert(
        self, obj: ObjectDef, field_name: str, value: str, data: Mapping[str, Any], user_id: str | None = None
    ) -> tuple[int, Any]:
        """PATCH sobjects/{T}/{field}/{value}: (status, body) with 201/200/300 semantics."""
        f = obj.field(field_name)
        if f is None or not (f.external_id or f.type == "id" or f.id_lookup):
            raise ApiError(
                404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {field_name}"
            )
        if f.type == "id":
            if not ids.looks_like_id(value):
                raise ApiError(400, "MALFORMED_ID", f"Record ID: id value of incorrect type: {value}", ["Id"])
            matches = [r for r in [self.store.get(value)] if r and r[0] == obj.key and not r[1].get("IsDeleted")]
            rows = [r[1] for r in matches]
        else:
            rows = self.find(obj, f.name, value)
        payload = {k: v for k, v in data.items() if k.lower() != f.name.lower()}
        if len(rows) > 1:
            return 300, [record_url(obj, r["Id"], self.emu.api_version) for r in rows]
        if not rows:
            if f.type == "id":
                raise not_found()
            payload[f.name] = value
            result = self.create(obj, payload, user_id)
            return 201, {**result, "created": True}
        self.update(obj, rows[0]["Id"], payload, user_id)
        return 200, {"id": rows[0]["Id"], "success": True, "errors": [], "created": False}


def format_auto_number(display_format: str, number: int, when: datetime) -> str:
    """Render an AutoNumber display format: {0000} is the zero-padded number; {YY}, {YYYY}, {MM}, {DD} dates."""

    def token(match: re.Match[str]) -> str:
        body = match.group(1)
        if set(body) == {"0"}:
            return str(number).zfill(len(body))
        dates = {
            "YYYY": f"{when.year:04d}",
            "YY": f"{when.year % 100:02d}",
            "MM": f"{when.month:02d}",
            "DD": f"{when.day:02d}",
        }
        return dates.get(body.upper(), match.group(0))

    return re.sub(r"\{([^{}]+)\}", token, display_format)
