"""The org's metadata as a deploy sees it: a working copy it mutates, and the commit that writes
the copy back to the host in one transaction (a failed deploy is simply never committed)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from sfops.emulator.metadata import apex
from sfops.emulator.metadata.host import MetadataHost
from sfops.emulator.metadata.model import Outcome, iso
from sfops.emulator.metadata.package import comp_key

COMPONENT_KIND = "md.component"
STATE_KIND = "md.state"


def stored_components(host: MetadataHost) -> dict[str, dict[str, Any]]:
    """Stored components plus Apex rows that exist only as records (seeded by the core, not deployed)."""
    comps = dict(host.list_json(COMPONENT_KIND))
    for sobject, folder, suffix in (("ApexClass", "classes", "cls"), ("ApexTrigger", "triggers", "trigger")):
        for status in ("Active", "Inactive"):
            for row in host.find_records(sobject, "Status", status):
                key = comp_key(sobject, row["Name"])
                if key in comps:
                    continue
                path = f"{folder}/{row['Name']}.{suffix}"
                meta = (
                    f'<?xml version="1.0" encoding="UTF-8"?>\n<{sobject} xmlns="http://soap.sforce.com/2006/04/'
                    f'metadata">\n    <apiVersion>{row.get("ApiVersion") or host.api_version}</apiVersion>\n'
                    f"    <status>{status}</status>\n</{sobject}>\n"
                )
                stamp = _stamp(row.get("CreatedDate"))
                comps[key] = {
                    "type": sobject,
                    "fullName": row["Name"],
                    "fileName": path,
                    "parent": None,
                    "element": None,
                    "files": {
                        path: base64.b64encode((row.get("Body") or "").encode()).decode(),
                        path + "-meta.xml": base64.b64encode(meta.encode()).decode(),
                    },
                    "id": row["Id"],
                    "createdDate": stamp,
                    "lastModifiedDate": stamp,
                }
    return comps


def _stamp(value: object) -> str:
    """A record date (datetime or REST text ...+0000) in the SOAP form ...Z."""
    if isinstance(value, datetime):
        return iso(value)
    text = str(value or "1970-01-01T00:00:00.000Z")
    return text[:-5] + "Z" if text.endswith("+0000") else text


class WorkState:
    """A copy of the org's metadata that a deploy mutates before (maybe) committing it."""

    def __init__(self, host: MetadataHost) -> None:
        self.host = host
        self.schema = host.schema.copy()
        self.comps: dict[str, dict[str, Any]] = stored_components(host)
        self.changed: set[str] = set()
        self.deleted: set[str] = set()
        self.apex_ops: list[tuple[str, str, str, dict[str, Any]]] = []  # (op, sobject, name, fields)
        self.removed_apex: set[str] = set()

    def get(self, type_name: str, full_name: str) -> dict[str, Any] | None:
        return self.comps.get(comp_key(type_name, full_name))

    def put(self, rec: dict[str, Any]) -> None:
        key = comp_key(rec["type"], rec["fullName"])
        self.comps[key] = rec
        self.changed.add(key)
        self.deleted.discard(key)

    def drop(self, type_name: str, full_name: str) -> dict[str, Any] | None:
        key = comp_key(type_name, full_name)
        rec = self.comps.pop(key, None)
        self.changed.discard(key)
        self.deleted.add(key)
        return rec

    def of_type(self, type_name: str) -> list[dict[str, Any]]:
        return [r for r in self.comps.values() if r["type"] == type_name]

    def apex_bodies(self) -> list[tuple[str, str, str]]:
        """(componentType, name, code without comments/strings) of every Apex class and trigger."""
        out = []
        for rec in self.comps.values():
            if rec["type"] in ("ApexClass", "ApexTrigger"):
                out.append((rec["type"], rec["fullName"], apex.strip_code(source_of(rec))))
        return out


def source_of(rec: dict[str, Any]) -> str:
    """The Apex source stored with an ApexClass/ApexTrigger component."""
    for path, data in rec.get("files", {}).items():
        if path.endswith((".cls", ".trigger")):
            return base64.b64decode(data).decode("utf-8", "replace")
    return ""


def commit(host: MetadataHost, work: WorkState, outcome: Outcome) -> None:
    """Write a successful deploy's WorkState to the org in one transaction."""
    with host.transaction():
        host.schema.replace_with(work.schema)
        for op, sobject, name, fields in work.apex_ops:
            existing = host.find_records(sobject, "Name", name)
            if op == "delete":
                for row in existing:
                    host.delete_record(sobject, row["Id"])
            elif existing:
                host.update_record(sobject, existing[0]["Id"], fields)
                _set_id(work, outcome, sobject, name, existing[0]["Id"])
            else:
                new_id = host.insert_record(sobject, fields)
                _set_id(work, outcome, sobject, name, new_id)
        for key in work.deleted:
            host.delete_json(COMPONENT_KIND, key)
        for key in work.changed:
            host.put_json(COMPONENT_KIND, key, work.comps[key])
        state = host.get_json(STATE_KIND, "commits") or {"seq": 0}
        host.put_json(STATE_KIND, "commits", {"seq": int(state["seq"]) + 1, "at": iso(host.now())})


def commit_seq(host: MetadataHost) -> int:
    """How many deploys have committed so far (validations remember it to detect staleness)."""
    state = host.get_json(STATE_KIND, "commits") or {"seq": 0}
    return int(state["seq"])


def _set_id(work: WorkState, outcome: Outcome, sobject: str, name: str, record_id: str) -> None:
    rec = work.get(sobject, name)
    if rec is not None:
        rec["id"] = record_id
    for msg in outcome.successes:
        if msg["componentType"] == sobject and msg["fullName"].lower() == name.lower():
            msg["id"] = record_id
    kind = "Class" if sobject == "ApexClass" else "Trigger"
    tests = outcome.test_result or {}
    for entry in tests.get("successes", []) + tests.get("failures", []):
        if sobject == "ApexClass" and entry["name"].lower() == name.lower():
            entry["id"] = record_id
    for entry in tests.get("codeCoverage", []):
        if entry["type"] == kind and entry["name"].lower() == name.lower():
            entry["id"] = record_id
