"""The core's implementation of the metadata service's `MetadataHost` protocol."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sfops.emulator.metadata.host import DeployFaults, MdUser
from sfops.emulator.schema import Schema

if TYPE_CHECKING:
    from sfops.emulator.app import Emulator


class Host:
    """Adapter from the Emulator to MetadataHost."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    @property
    def org_id(self) -> str:
        return self.emu.org_id

    @property
    def api_version(self) -> str:
        return self.emu.api_version

    @property
    def schema(self) -> Schema:
        return self.emu.schema

    def authenticate(self, session_id: str) -> MdUser | None:
        session = self.emu.sessions.get(session_id)
        if session is None:
            return None
        user = self.emu.record("User", session.user_id) or {}
        return MdUser(session.user_id, user.get("Name") or user.get("Username") or "User")

    def now(self) -> datetime:
        return self.emu.now()

    def new_id(self, key_prefix: str) -> str:
        return self.emu.new_id(key_prefix)

    def deploy_faults(self) -> DeployFaults | None:
        spec = self.emu.faults.deploy
        if not spec:
            return None
        known = {"failing_tests", "component_problem", "deploys", "test_message"}
        kwargs: dict[str, Any] = {k: v for k, v in spec.items() if k in known}
        if "failing_tests" in kwargs:
            kwargs["failing_tests"] = tuple(kwargs["failing_tests"])
        return DeployFaults(**kwargs, extra={k: v for k, v in spec.items() if k not in known})

    def consume_deploy_fault(self) -> None:
        with self.emu.faults.lock:
            spec = self.emu.faults.deploy
            if spec and spec.get("deploys") is not None:
                spec["deploys"] = int(spec["deploys"]) - 1
                if spec["deploys"] <= 0:
                    self.emu.faults.deploy = None

    def put_json(self, kind: str, key: str, value: Any) -> None:
        self.emu.store.put_json(kind, key, value)

    def get_json(self, kind: str, key: str) -> Any | None:
        return self.emu.store.get_json(kind, key)

    def list_json(self, kind: str) -> Mapping[str, Any]:
        return self.emu.store.list_json(kind)

    def delete_json(self, kind: str, key: str) -> None:
        self.emu.store.delete_json(kind, key)

    def transaction(self) -> AbstractContextManager[None]:
        return self.emu.transaction()

    def find_records(self, sobject: str, field_name: str, value: str) -> list[dict[str, Any]]:
        obj = self.emu.schema.get(sobject)
        if obj is None:
            return []
        return [dict(r) for r in self.emu.records.find(obj, field_name, value)]

    def insert_record(self, sobject: str, fields: Mapping[str, Any]) -> str:
        return self.emu.insert_system(sobject, fields)

    def update_record(self, sobject: str, record_id: str, fields: Mapping[str, Any]) -> None:
        row = self.emu.record(sobject, record_id)
        if row is None:
            raise KeyError(record_id)
        obj = self.emu.schema.get(sobject)
        row = dict(row)
        for key, value in fields.items():
            f = obj.field(key) if obj else None
            row[f.name if f else key] = value
        self.emu.store.put(sobject, row)

    def record_deploy(self, rec: Mapping[str, Any], finished: bool = False) -> None:
        """Keep a deploy in the org's history: its DeployRequest row from submission on, and the
        SetupAuditTrail rows of what it changed once it has finished."""
        from sfops.emulator.monitoring import record_deploy

        record_deploy(self.emu, rec, finished=finished)

    def delete_record(self, sobject: str, record_id: str) -> None:
        self.emu.store.purge(record_id)
