"""Blob (base64) fields such as StaticResource.Body: how writes carry them and how reads expose them.

REST API guide, "Insert or Update Blob Data": a create sends the blob either base64-encoded inside the
JSON body, or as a multipart/form-data request whose JSON part holds the other fields and whose binary
part is named after the blob field (jsforce's `multipartFileFields` sends exactly that). Reads give the
field as a URL (`/services/data/vNN.0/[tooling/]sobjects/T/{id}/Body`) that answers the raw bytes.
The bytes live beside the row (kind "blob"), the row keeps a marker so reads know one is there.
"""

from __future__ import annotations

import base64
import binascii
import email.parser
import email.policy
import json
from typing import TYPE_CHECKING, Any

from sfops.emulator import ids
from sfops.emulator.schema import ObjectDef
from sfops.emulator.wire import ApiError, Request

if TYPE_CHECKING:
    from sfops.emulator.app import Emulator

BLOB_KIND = "blob"
STORED = "(blob)"  # the row's marker for a stored blob


def blob_fields(obj: ObjectDef) -> list[str]:
    """Names of the object's base64 fields."""
    return [f.name for f in obj.fields.values() if f.type == "base64"]


def request_record(req: Request, obj: ObjectDef) -> tuple[dict[str, Any], dict[str, bytes]]:
    """(the other fields, {blob field: bytes}) of a create/update body, JSON or multipart."""
    ctype = req.headers.get("content-type", "")
    if ctype.lower().startswith("multipart/"):
        return _multipart(ctype, req.body, obj)
    data = req.json()
    if not isinstance(data, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of object from the request body")
    return _split(data, obj)


def _split(data: dict[str, Any], obj: ObjectDef) -> tuple[dict[str, Any], dict[str, bytes]]:
    blobs: dict[str, bytes] = {}
    rest: dict[str, Any] = {}
    names = {n.lower(): n for n in blob_fields(obj)}
    for key, value in data.items():
        name = names.get(key.lower())
        if name is None:
            rest[key] = value
        elif value is not None:
            try:
                blobs[name] = base64.b64decode(str(value), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ApiError(
                    400,
                    "JSON_PARSER_ERROR",
                    f"Cannot deserialize instance of base64 from VALUE_STRING value for field {name}",
                    [name],
                ) from exc
    return rest, blobs


def _multipart(ctype: str, body: bytes, obj: ObjectDef) -> tuple[dict[str, Any], dict[str, bytes]]:
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {ctype}\r\nMIME-Version: 1.0\r\n\r\n".encode() + body
    )
    if not msg.is_multipart():
        raise ApiError(400, "INVALID_MULTIPART_REQUEST", "The multipart request is not valid")
    names = {n.lower(): n for n in blob_fields(obj)}
    record: dict[str, Any] | None = None
    blobs: dict[str, bytes] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition") or ""
        raw = part.get_payload(decode=True)
        payload = raw if isinstance(raw, bytes) else b""
        if str(name).lower() in names:
            blobs[names[str(name).lower()]] = payload
        elif part.get_content_type() == "application/json" or (record is None and not part.get_filename()):
            try:
                parsed = json.loads(payload or b"{}")
            except ValueError as exc:
                raise ApiError(400, "JSON_PARSER_ERROR", f"Unexpected character: {exc}") from exc
            if not isinstance(parsed, dict):
                raise ApiError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of object")
            record = parsed
    if record is None:
        raise ApiError(400, "INVALID_MULTIPART_REQUEST", "The multipart request has no JSON part with the record")
    rest, inline = _split(record, obj)
    return rest, {**inline, **blobs}


def with_markers(data: dict[str, Any], blobs: dict[str, bytes]) -> dict[str, Any]:
    """The record to write: blob fields carry the marker."""
    return {**data, **{name: STORED for name in blobs}}


def save(emu: Emulator, obj: ObjectDef, record_id: str, blobs: dict[str, bytes]) -> None:
    """Keep the bytes of a written record's blob fields; its read-only length fields (BodyLength) follow."""
    if not blobs:
        return
    found = emu.store.get(record_id)
    row = dict(found[1]) if found is not None else None
    for name, content in blobs.items():
        emu.store.put_json(BLOB_KIND, f"{ids.normalize(record_id)}.{name.lower()}", base64.b64encode(content).decode())
        length = obj.field(f"{name}Length")
        if row is not None and length is not None:
            row[length.name] = len(content)
    if row is not None:
        emu.store.put(obj.name, row)


def load(emu: Emulator, record_id: str, field_name: str) -> bytes | None:
    """The stored bytes of one blob field, None when there are none."""
    raw = emu.store.get_json(BLOB_KIND, f"{ids.normalize(record_id)}.{field_name.lower()}")
    return None if raw is None else base64.b64decode(raw)
