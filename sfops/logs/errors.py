"""Error history beyond debug logs: Error_Log__c records and EventLogFile ApexUnexpectedException CSVs.

Both land in the store's `error_event` table (migration 5), classified with the same signatures as parsed logs,
so one history answers "what failed, how often, since when". Imports are incremental (inclusive watermark on
CreatedDate / LogDate), idempotent (primary key org + source + id) and atomic per page or per file. An org
without the object (no companion package, no Event Monitoring) is reported as unavailable, not as an error.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sfops.errors import SalesforceError
from sfops.logs.classify import exception_category, normalise_frame
from sfops.salesforce.soql import soql_literal
from sfops.salesforce.values import require_datetime
from sfops.store import Store
from sfops.store.error_events import error_ids_present, save_errors

if TYPE_CHECKING:
    from sfops.salesforce import Org

ERROR_LOG_FIELDS = (
    "Id",
    "CreatedDate",
    "Occurred_At__c",
    "Exception_Type__c",
    "Message__c",
    "Stack_Trace__c",
    "Category__c",
    "Fingerprint__c",
    "Class_Name__c",
    "Method_Name__c",
    "User__c",
    "Request_Id__c",
    "Quiddity__c",
    "Line_Number__c",
)
UNAVAILABLE = ("INVALID_TYPE", "INVALID_FIELD", "NOT_FOUND")
LONG_RUNNING = "ConcurrentLongRunningApexLimit"
EVENT_OBJECT = "ApexUnexpectedExcpEventLog"
# Real-Time Event Monitoring storage object (API 61+): documented fields, read with the View Event Log Object
# Data permission. EventDate is when the exception happened; RequestIdentifier is the CSVs' REQUEST_ID.
EVENT_OBJECT_FIELDS = (
    "Id",
    "EventDate",
    "EventIdentifier",
    "ExceptionCategory",
    "ExceptionMessage",
    "ExceptionType",
    "StackTrace",
    "RequestIdentifier",
    "UserId",
)
RECHECK = dt.timedelta(hours=24)  # an org that answered INVALID_TYPE is asked again after this long
_FRAMES = re.compile(r"^(Class\.|Trigger\.|AnonymousBlock|\()")


@dataclass
class ImportResult:
    """What one import did."""

    source: str
    available: bool = True
    imported: int = 0
    already_stored: int = 0
    files: int = 0
    watermark: str | None = None
    note: str | None = None


def error_fingerprint(exc_type: str, stack: str, entry_point: str | None, frames: int = 3) -> str:
    """Exception type + top frames (positions dropped) + entry point, like parsed-log fingerprints."""
    top = [normalise_frame(line) for line in stack.splitlines() if _FRAMES.match(line.strip())][:frames]
    return hashlib.sha1("|".join([exc_type, *top, entry_point or ""]).encode(), usedforsecurity=False).hexdigest()[:12]


def _watermark_key(source: str, alias: str) -> str:
    return f"logs.{source}.watermark.{alias}"


def _get_watermark(store: Store, source: str, alias: str) -> dt.datetime | None:
    value = store.get_state(_watermark_key(source, alias))
    return dt.datetime.fromisoformat(value) if value else None


def _store_page(
    store: Store,
    alias: str,
    source: str,
    rows: list[dict[str, Any]],
    watermark: dt.datetime | None,
    result: ImportResult,
) -> None:
    """Insert the new rows and move the watermark, in one transaction."""
    inserted, known = save_errors(store, alias, source, rows, _watermark_key(source, alias), watermark)
    result.imported += inserted
    result.already_stored += known


def _unavailable(exc: SalesforceError) -> bool:
    return exc.error_code in UNAVAILABLE


def error_log_row(record: dict[str, Any]) -> dict[str, Any]:
    """An Error_Log__c record as an `error_event` row."""
    exc_type = record.get("Exception_Type__c") or "(unknown)"
    message = record.get("Message__c") or ""
    stack = record.get("Stack_Trace__c") or ""
    entry = ".".join(filter(None, (record.get("Class_Name__c"), record.get("Method_Name__c")))) or None
    category = record.get("Category__c") or exception_category(exc_type, message)[0] or "other"
    occurred = record.get("Occurred_At__c") or record["CreatedDate"]
    return {
        "id": record["Id"],
        "occurred_at": require_datetime(occurred),
        "exception_type": exc_type[:255],
        "message": message,
        "stack": stack,
        "category": category[:40],
        "fingerprint": (record.get("Fingerprint__c") or error_fingerprint(exc_type, stack, entry))[:64],
        "entry_point": entry[:255] if entry else None,
        "user_id": record.get("User__c"),
        "request_id": record.get("Request_Id__c"),
        "details": {"quiddity": record.get("Quiddity__c"), "line": record.get("Line_Number__c")},
    }


def import_error_logs(org: Org, store: Store, alias: str, page_size: int = 2000) -> ImportResult:
    """Import Error_Log__c records created since the watermark (one query page per 2,000 records)."""
    result = ImportResult("Error_Log__c")
    since = _get_watermark(store, "Error_Log__c", alias)
    where = f" WHERE CreatedDate >= {soql_literal(since)}" if since else ""
    soql = f"SELECT {', '.join(ERROR_LOG_FIELDS)} FROM Error_Log__c{where} ORDER BY CreatedDate ASC, Id ASC"  # noqa: S608
    page: list[dict[str, Any]] = []
    last: dt.datetime | None = None
    try:
        for record in org.query_iter(soql, page_size):
            page.append(error_log_row(record))
            last = require_datetime(record["CreatedDate"])
            if len(page) == page_size:
                _store_page(store, alias, "Error_Log__c", page, last, result)
                page = []
    except SalesforceError as exc:
        if not _unavailable(exc):
            raise
        result.available, result.note = False, f"Error_Log__c is not in this org ({exc.error_code})."
    if page:
        _store_page(store, alias, "Error_Log__c", page, last, result)
    wm = _get_watermark(store, "Error_Log__c", alias)
    result.watermark = wm.isoformat() if wm else None
    return result


def _csv_time(row: dict[str, str], fallback: dt.datetime) -> dt.datetime:
    derived = row.get("TIMESTAMP_DERIVED") or ""
    if derived:
        try:
            return require_datetime(derived)
        except ValueError:
            pass
    raw = row.get("TIMESTAMP") or ""
    try:
        return dt.datetime.strptime(raw[:18], "%Y%m%d%H%M%S.%f").replace(tzinfo=dt.UTC)
    except ValueError:
        return fallback


def event_log_rows(file_id: str, content: bytes, log_date: dt.datetime) -> list[dict[str, Any]]:
    """The rows of one ApexUnexpectedException CSV as `error_event` rows (pandas reads the CSV)."""
    import pandas as pd

    frame = pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False)
    rows = []
    for n, row in enumerate(frame.to_dict(orient="records")):
        exc_type = row.get("EXCEPTION_TYPE") or "(unknown)"
        message = row.get("EXCEPTION_MESSAGE") or ""
        stack = row.get("STACK_TRACE") or ""
        first = next((normalise_frame(x) for x in stack.splitlines() if _FRAMES.match(x.strip())), None)
        category, _ = exception_category(exc_type, message)
        rows.append(
            {
                "id": f"{file_id}:{n}",
                "occurred_at": _csv_time(row, log_date),
                "exception_type": exc_type[:255],
                "message": message,
                "stack": stack,
                "category": category or "other",
                "fingerprint": error_fingerprint(exc_type, stack, first),
                "entry_point": first[:255] if first else None,
                "user_id": (row.get("USER_ID_DERIVED") or row.get("USER_ID") or None),
                "request_id": row.get("REQUEST_ID") or None,
                "details": {"exception_category": row.get("EXCEPTION_CATEGORY") or None},
            }
        )
    return rows


def long_running_rows(file_id: str, content: bytes, log_date: dt.datetime) -> list[dict[str, Any]]:
    """The rows of one ConcurrentLongRunningApexLimit CSV as `error_event` rows: Salesforce denied an Apex
    request because NUMBER_REQUESTS long-running requests (over 5 s) already ran, REQUESTS_LIMIT allowed."""
    import pandas as pd

    frame = pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False)
    rows = []
    for n, row in enumerate(frame.to_dict(orient="records")):
        uri = row.get("REQUEST_URI") or None
        running, limit = row.get("NUMBER_REQUESTS") or "?", row.get("REQUESTS_LIMIT") or "?"
        rows.append(
            {
                "id": f"{file_id}:{n}",
                "occurred_at": _csv_time(row, log_date),
                "exception_type": LONG_RUNNING,
                "stack": "",
                "category": "concurrent_long_running",
                "message": f"{running} long-running Apex requests of {limit} allowed: {uri or '-'} denied",
                "fingerprint": error_fingerprint(LONG_RUNNING, "", uri),
                "entry_point": uri[:255] if uri else None,
                "user_id": (row.get("USER_ID_DERIVED") or row.get("USER_ID") or None),
                "request_id": row.get("REQUEST_ID") or None,
                "details": {"request_uri": uri, "number_requests": _int(running), "requests_limit": _int(limit)},
            }
        )
    return rows


def _int(text: str) -> int | None:
    try:
        return int(float(text))
    except ValueError:
        return None


def import_long_running(org: Org, store: Store, alias: str) -> ImportResult:
    """Import ConcurrentLongRunningApexLimit event log files (the org denied Apex requests at its concurrent
    long-running limit), like `import_event_logs`; stored under source ConcurrentLongRunningApexLimit."""
    return import_event_logs(org, store, alias, event_type=LONG_RUNNING, rows=long_running_rows)


def import_event_logs(
    org: Org,
    store: Store,
    alias: str,
    *,
    event_type: str = "ApexUnexpectedException",
    rows: Callable[[str, bytes, dt.datetime], list[dict[str, Any]]] = event_log_rows,
) -> ImportResult:
    """Import `event_type` event log files with LogDate since the watermark (one request per file)."""
    source = "EventLogFile" if event_type == "ApexUnexpectedException" else event_type
    result = ImportResult(source)
    since = _get_watermark(store, source, alias)
    where = " AND LogDate >= " + soql_literal(since) if since else ""
    soql = (
        "SELECT Id, EventType, LogDate, LogFileLength FROM EventLogFile "  # noqa: S608
        f"WHERE EventType = {soql_literal(event_type)}{where} ORDER BY LogDate ASC, Id ASC"
    )
    try:
        files = list(org.query_iter(soql))
    except SalesforceError as exc:
        if not _unavailable(exc):
            raise
        result.available = False
        result.note = f"No Event Monitoring event log files in this org ({exc.error_code})."
        return result
    for record in files:
        log_date = require_datetime(record["LogDate"])
        if error_ids_present(store, alias, source, [f"{record['Id']}:0"]):
            result.already_stored += 1
            continue
        content = org.request("GET", f"sobjects/EventLogFile/{record['Id']}/LogFile", raw=True).content
        _store_page(store, alias, source, rows(record["Id"], content, log_date), log_date, result)
        result.files += 1
    wm = _get_watermark(store, source, alias)
    result.watermark = wm.isoformat() if wm else None
    return result


def _availability_key(alias: str) -> str:
    return f"logs.{EVENT_OBJECT}.available.{alias}"


def event_object_availability(store: Store, alias: str) -> dict[str, Any] | None:
    """What the last import learned about the org's ApexUnexpectedExcpEventLog: {"available", "code",
    "checked_at"}, or None before the first import."""
    value = store.get_state(_availability_key(alias))
    return dict(value) if value else None


def event_object_fallbacks(store: Store) -> dict[str, str]:
    """Data key (org id or alias) -> the note, for every org whose last import found no
    ApexUnexpectedExcpEventLog (exceptions come from EventLogFile only there)."""
    prefix = _availability_key("")
    return {
        key[len(prefix) :]: _fallback_note(value.get("code"))
        for key, value in store.state_items(prefix)
        if isinstance(value, dict) and not value.get("available")
    }


def exception_object_row(record: dict[str, Any]) -> dict[str, Any]:
    """An ApexUnexpectedExcpEventLog record as an `error_event` row (same shape as the CSV rows)."""
    exc_type = record.get("ExceptionType") or "(unknown)"
    message = record.get("ExceptionMessage") or ""
    stack = record.get("StackTrace") or ""
    first = next((normalise_frame(x) for x in stack.splitlines() if _FRAMES.match(x.strip())), None)
    category, _ = exception_category(exc_type, message)
    return {
        "id": record["Id"],
        "occurred_at": require_datetime(record["EventDate"]),
        "exception_type": exc_type[:255],
        "message": message,
        "stack": stack,
        "category": category or "other",
        "fingerprint": error_fingerprint(exc_type, stack, first),
        "entry_point": first[:255] if first else None,
        "user_id": record.get("UserId"),
        "request_id": record.get("RequestIdentifier"),
        "details": {
            "exception_category": record.get("ExceptionCategory") or None,
            "event_identifier": record.get("EventIdentifier"),
        },
    }


def import_exception_objects(
    org: Org, store: Store, alias: str, *, now: dt.datetime | None = None, page_size: int = 2000
) -> ImportResult:
    """Import ApexUnexpectedExcpEventLog records with EventDate since the watermark (SOQL, no file download).

    An org without the object (no Real-Time Event Monitoring storage, or no View Event Log Object Data
    permission) answers INVALID_TYPE: that is remembered, the EventLogFile CSVs stay the only source, and the
    object is asked for again only after RECHECK, so a tick costs no failing query and logs nothing."""
    now = now or dt.datetime.now(dt.UTC)
    result = ImportResult(EVENT_OBJECT)
    known = event_object_availability(store, alias)
    if known and not known.get("available") and now - dt.datetime.fromisoformat(known["checked_at"]) < RECHECK:
        result.available, result.note = False, _fallback_note(known.get("code"))
        return result
    since = _get_watermark(store, EVENT_OBJECT, alias)
    where = f" WHERE EventDate >= {soql_literal(since)}" if since else ""
    soql = (
        f"SELECT {', '.join(EVENT_OBJECT_FIELDS)} FROM {EVENT_OBJECT}{where} "  # noqa: S608
        "ORDER BY EventDate ASC, Id ASC"
    )
    page: list[dict[str, Any]] = []
    last: dt.datetime | None = None
    try:
        for record in org.query_iter(soql, page_size):
            page.append(exception_object_row(record))
            last = require_datetime(record["EventDate"])
            if len(page) == page_size:
                _store_page(store, alias, EVENT_OBJECT, page, last, result)
                page = []
    except SalesforceError as exc:
        if not _unavailable(exc):
            raise
        store.set_state(
            _availability_key(alias),
            {"available": False, "code": exc.error_code, "checked_at": now.astimezone(dt.UTC).isoformat()},
        )
        result.available, result.note = False, _fallback_note(exc.error_code)
        return result
    if page:
        _store_page(store, alias, EVENT_OBJECT, page, last, result)
    if not known or not known.get("available"):
        store.set_state(
            _availability_key(alias),
            {"available": True, "code": None, "checked_at": now.astimezone(dt.UTC).isoformat()},
        )
    wm = _get_watermark(store, EVENT_OBJECT, alias)
    result.watermark = wm.isoformat() if wm else None
    return result


def _fallback_note(code: str | None) -> str:
    return (
        f"{EVENT_OBJECT} is not queryable in this org ({code or 'INVALID_TYPE'}): exceptions come from "
        "EventLogFile only (hourly/daily CSVs, later)."
    )
