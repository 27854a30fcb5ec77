"""The narrow interface request handlers use to read and change the emulated org.

Handlers (rest.py, composite.py, control.py, auth.py) call these methods instead of reaching into the
record store, the schema or the DML layer, so those can change without touching every handler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sfops.emulator import ids
from sfops.emulator.describe import basic_info, describe_global, sobject_describe
from sfops.emulator.schema import ObjectDef
from sfops.emulator.values import parse_datetime
from sfops.emulator.wire import not_found

if TYPE_CHECKING:
    from sfops.emulator.app import Emulator
    from sfops.emulator.soql.result import QueryResult


VOLUME = "volume"  # key/value kind of the configured data volumes


class OrgState:
    """What the handlers may do with one emulated org."""

    def __init__(self, emu: Emulator) -> None:
        self._emu = emu

    # ------------------------------------------------------------------ identity of the org
    @property
    def org_id(self) -> str:
        return self._emu.org_id

    def user(self, user_id: str) -> dict[str, Any] | None:
        """The User row of an id, or None."""
        return self._emu.record("User", user_id)

    def user_by_username(self, username: str) -> dict[str, Any] | None:
        return self._emu.user_by_username(username)

    def organization(self) -> dict[str, Any]:
        return self._emu.org_record()

    # ------------------------------------------------------------------ objects and describes
    def sobject(self, name: str, tooling: bool = False) -> ObjectDef:
        """The object definition behind a URL segment, or 404 NOT_FOUND like Salesforce."""
        return self._emu.records.object(name, tooling)

    def find_sobject(self, name: str) -> ObjectDef | None:
        """The object definition of a name, or None (no API check)."""
        return self._emu.schema.get(name)

    def sobject_of_id(self, record_id: str) -> str | None:
        """The canonical object name of a stored record id, or None."""
        found = self._emu.store.get(record_id)
        if found is None:
            return None
        obj = self._emu.schema.get(found[0])
        return obj.name if obj else found[0]

    def describe_global(self, version: str, tooling: bool) -> dict[str, Any]:
        return describe_global(self._emu.schema, version, tooling)

    def describe(self, obj: ObjectDef, version: str, tooling: bool, base_url: str) -> dict[str, Any]:
        return sobject_describe(self._emu.schema, obj, version, tooling, base_url)

    def basic_info(self, obj: ObjectDef, version: str, tooling: bool) -> dict[str, Any]:
        return basic_info(self._emu.schema, obj, version, tooling)

    def schema_changed_at(self) -> datetime:
        """When the org's objects or fields last changed (what describe's If-Modified-Since compares with)."""
        return datetime.fromtimestamp(self._emu.schema_changed_at, UTC)

    def cached(self, key: Any, build: Callable[[], Any]) -> Any:
        """A value derived from the schema, cached until the schema changes."""
        return self._emu.cached(key, build)

    def data_objects(self) -> list[ObjectDef]:
        """Objects with stored records in the data API (platform events excluded)."""
        return [o for o in self._emu.schema if "data" in o.apis and not o.is_event]

    # ------------------------------------------------------------------ records (DML)
    def get(self, obj: ObjectDef, record_id: str) -> dict[str, Any]:
        return self._emu.records.get(obj, record_id)

    def find(self, obj: ObjectDef, field_name: str, value: Any) -> list[dict[str, Any]]:
        return self._emu.records.find(obj, field_name, value)

    def create(self, obj: ObjectDef, data: Mapping[str, Any], user_id: str) -> dict[str, Any]:
        return self._emu.records.create(obj, data, user_id)

    def update(self, obj: ObjectDef, record_id: str, data: Mapping[str, Any], user_id: str) -> None:
        self._emu.records.update(obj, record_id, data, user_id)

    def delete(self, obj: ObjectDef, record_id: str) -> None:
        if obj.name == "ApexLog":  # debug logs are gone for good, with their body
            row = self._emu.records.get(obj, record_id)
            self._emu.store.purge(row["Id"])
            self._emu.store.delete_json("apexlog.body", row["Id"])
            return
        self._emu.records.delete(obj, record_id)

    def upsert(
        self, obj: ObjectDef, field_name: str, value: str, data: Mapping[str, Any], user_id: str
    ) -> tuple[int, Any]:
        return self._emu.records.upsert(obj, field_name, value, data, user_id)

    def record_id(self, record_id: str) -> str | None:
        """The stored 18-character id of a record id in any form, or None."""
        found = self._emu.store.get(record_id)
        return found[1]["Id"] if found else None

    def count(self, obj: ObjectDef) -> int:
        return self._emu.store.count(obj.name)

    # Data volume a test or demo says the org holds (`/__emulator__/volumes`): what record counts and query
    # plans report for an object instead of its few real rows, like a full sandbox's production-size data.
    def volume(self, obj: ObjectDef) -> int:
        """The object's record count as reported: the configured volume, else the stored rows."""
        pretend = self._emu.store.get_json(VOLUME, obj.name.lower())
        return int(pretend) if pretend is not None else self.count(obj)

    def set_volume(self, obj: ObjectDef, records: int | None) -> None:
        """Report `records` for the object (None: its real count again)."""
        if records is None:
            self._emu.store.delete_json(VOLUME, obj.name.lower())
        else:
            self._emu.store.put_json(VOLUME, obj.name.lower(), int(records))

    def volumes(self) -> dict[str, int]:
        """Object (lower-cased) -> configured volume."""
        return {k: int(v) for k, v in self._emu.store.list_json(VOLUME).items()}

    def deleted_between(self, obj: ObjectDef, start: datetime, end: datetime) -> list[dict[str, str]]:
        """`{id, deletedDate}` of the object's records deleted in [start, end]."""
        return [
            {"id": rid, "deletedDate": item["deletedDate"]}
            for rid, item in sorted(self._emu.store.list_json("deleted").items())
            if item["sobject"].lower() == obj.key and start <= parse_datetime(item["deletedDate"]) <= end
        ]

    def updated_between(self, obj: ObjectDef, start: datetime, end: datetime) -> list[str]:
        """Ids of the object's live records changed in [start, end]."""
        return [
            r["Id"]
            for r in self._emu.store.rows(obj.name)
            if r.get("SystemModstamp")
            and start <= parse_datetime(r["SystemModstamp"]) <= end
            and not r.get("IsDeleted")
        ]

    def apexlog_body(self, obj: ObjectDef, record_id: str) -> str:
        """The body of a debug log (404 when the log or its body is unknown)."""
        self._emu.records.get(obj, record_id)
        body = self._emu.store.get_json("apexlog.body", ids.normalize(record_id))
        if body is None:
            raise not_found()
        return str(body)

    def event_log_file(self, obj: ObjectDef, record_id: str) -> bytes:
        """The CSV of an EventLogFile (404 when the record is not an event log file or has no body)."""
        from sfops.emulator.monitoring import log_file

        row = self._emu.records.get(obj, record_id)
        blob = log_file(self._emu, row["Id"]) if obj.name == "EventLogFile" else None
        if blob is None:
            raise not_found()
        return blob

    def insert_system(self, sobject: str, fields: Mapping[str, Any]) -> str:
        """Create a row bypassing API permissions (AsyncApexJob, ApexLog...)."""
        return self._emu.insert_system(sobject, fields)

    def add_apexlog(self, body: str, fields: Mapping[str, Any] | None = None) -> str:
        return self._emu.add_apexlog(body, fields)

    def write_anonymous_log(self, user_id: str, apex: str, result: Mapping[str, Any]) -> str | None:
        return self._emu.write_anonymous_log(user_id, apex, result)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Writes inside commit together or not at all."""
        with self._emu.store.transaction():
            yield

    # ------------------------------------------------------------------ blobs (StaticResource.Body)
    def save_blobs(self, obj: ObjectDef, record_id: str, values: Mapping[str, bytes]) -> None:
        """Keep a written record's blob field bytes (its length fields follow)."""
        from sfops.emulator import blobs

        blobs.save(self._emu, obj, record_id, dict(values))

    def blob(self, record_id: str, field_name: str) -> bytes | None:
        """The bytes of one blob field of a record (None when it has none)."""
        from sfops.emulator import blobs

        return blobs.load(self._emu, record_id, field_name)

    # ------------------------------------------------------------------ layouts, recent items, tabs
    def layouts(self, obj: ObjectDef, version: str, which: str, name: str | None) -> dict[str, Any] | None:
        """A describe-layout body (layouts, namedLayouts, compactLayouts, approvalLayouts), None if unknown."""
        from sfops.emulator import uirest

        return uirest.layouts_of(self._emu, obj, version, which, name)

    def all_objects(self) -> list[ObjectDef]:
        """Every object of the org (tabs and theme)."""
        return list(self._emu.schema)

    def recent_list(self, user_id: str) -> list[list[str]]:
        """The user's recently viewed [sobject, id] pairs, newest first."""
        from sfops.emulator import uirest

        return uirest.recent_list_of(self._emu, user_id)

    def recent_items(
        self, user_id: str, version: str, sobject: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """The user's recently viewed records (attributes, Id, Name), newest first."""
        from sfops.emulator import uirest

        return uirest.recent_items_of(self._emu, user_id, version, sobject, limit)

    def mark_viewed(self, user_id: str, soql: str, records: list[dict[str, Any]]) -> None:
        """A query ending FOR VIEW / FOR REFERENCE puts its rows on the user's recently viewed list."""
        from sfops.emulator import uirest

        uirest.mark_viewed_of(self._emu, user_id, soql, records)

    # ------------------------------------------------------------------ SOQL
    def query(
        self,
        text: str,
        *,
        tooling: bool,
        include_deleted: bool,
        version: str,
        now: datetime,
        user_id: str | None = None,
    ) -> QueryResult:
        """Run a SOQL query (raises soql.SoqlError). Date literals (TODAY, LAST_N_DAYS:n) are evaluated
        in the running user's time zone, else the org's, like Salesforce does."""
        from sfops.emulator.soql import execute

        local = now.astimezone(self.time_zone(user_id))
        return execute(
            text,
            self._emu.catalog(tooling),
            now=local,
            include_deleted=include_deleted,
            api_version=version,
            tooling=tooling,
        )

    def explain(self, text: str, version: str) -> dict[str, Any]:
        """The query plans of a SOQL statement (raises ApiError for bad SOQL or an id)."""
        from sfops.emulator.explain import explain

        return explain(self._emu, text, version)

    # ------------------------------------------------------------------ Apex test runs
    def run_tests(self, body: Mapping[str, Any], user_id: str) -> dict[str, Any]:
        """Run Apex tests at once (outcomes from the deploy fault knob); the job, run and results."""
        from sfops.emulator.apexruns import run

        return run(self._emu, dict(body), user_id)

    def run_tests_synchronously(self, body: Mapping[str, Any], user_id: str) -> dict[str, Any]:
        """runTestsSynchronous: run the tests and answer the RunTestsResult."""
        from sfops.emulator.apexruns import run, synchronous_result

        return synchronous_result(self._emu, run(self._emu, dict(body), user_id, source="REST"))

    def time_zone(self, user_id: str | None = None) -> tzinfo:
        """The user's TimeZoneSidKey, else the Organization's, else UTC."""
        for row in ((self.user(user_id) if user_id else None), self.organization()):
            key = (row or {}).get("TimeZoneSidKey")
            if key:
                try:
                    return ZoneInfo(key)
                except (ZoneInfoNotFoundError, ValueError):
                    continue
        return UTC

    def column_metadata(self, text: str, tooling: bool, version: str = "64.0") -> dict[str, Any]:
        from sfops.emulator.columns import column_metadata

        return column_metadata(self._emu, text, tooling, version)

    def new_cursor(self, records: list[dict[str, Any]], total: int, entity: str) -> str:
        return self._emu.new_cursor(records, total, entity)

    def cursor(self, locator: str) -> tuple[list[dict[str, Any]], int, str] | None:
        return self._emu.cursor(locator)

    # ------------------------------------------------------------------ limits
    def limits_body(self) -> dict[str, Any]:
        return self._emu.usage.limits_body(self._emu.limit_consumption(), self._emu.faults.limits)

    # ------------------------------------------------------------------ auth data
    def credential(self, username: str) -> dict[str, Any] | None:
        return self._emu.store.get_json("credential", username.lower())

    def connected_app(self, client_id: str) -> dict[str, Any] | None:
        return self._emu.store.get_json("connected_app", client_id)

    def put_connected_app(self, client_id: str, app: Mapping[str, Any]) -> None:
        self._emu.store.put_json("connected_app", client_id, dict(app))

    def refresh_token(self, token: str) -> dict[str, Any] | None:
        return self._emu.store.get_json("refresh_token", token)

    def revoke_refresh_token(self, token: str) -> None:
        self._emu.store.delete_json("refresh_token", token)

    # ------------------------------------------------------------------ platform events
    def events(self) -> list[dict[str, Any]]:
        """Published platform events, oldest first."""
        events = sorted(self._emu.store.list_json("event").items(), key=lambda kv: kv[1]["published"])
        return [{"uuid": k, **v} for k, v in events]
