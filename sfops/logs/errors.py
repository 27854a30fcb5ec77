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

ERROR_LOG_FIELDS = ("Id", "CreatedDate", "Occurred_At__c", "Exception_Type__c", "Message__c", "Stack_Trace__c",
                    "Category__c", "Fingerprint__c", "Class_Name__c", "Method_Name__c", "User__c", "Request_Id__c",
                    "Quiddity__c", "Line_Number__c")
UNAVAILABLE = ("INVALID_TYPE", "INVALID_FIELD", "NOT_FOUND")
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


def _store_page(store: Store, alias: str, source: str, rows: list[dict[str, Any]], watermark: dt.datetime | None,
                result: ImportResult) -> None:
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
    return {"id": record["Id"], "occurred_at": require_datetime(occurred), "exception_type": exc_type[:255],
            "message": message, "stack": stack, "category": category[:40],
            "fingerprint": (record.get("Fingerprint__c") or error_fingerprint(exc_type, stack, entry))[:64],
            "entry_point": entry[:255] if entry else None, "user_id": record.get("User__c"),
            "request_id": record.get("Request_Id__c"),
            "details": {"quiddity": record.get("Quiddity__c"), "line": record.get("Line_Number__c")}}


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
        rows.append({"id": f"{file_id}:{n}", "occurred_at": _csv_time(row, log_date),
                     "exception_type": exc_type[:255], "message": message, "stack": stack,
                     "category": category or "other",
                     "fingerprint": error_fingerprint(exc_type, stack, first),
                     "entry_point": first[:255] if first else None,
                     "user_id": (row.get("USER_ID_DERIVED") or row.get("USER_ID") or None),
                     "request_id": row.get("REQUEST_ID") or None,
                     "details": {"exception_category": row.get("EXCEPTION_CATEGORY") or None}})
    return rows


def import_event_logs(org: Org, store: Store, alias: str) -> ImportResult:
    """Import ApexUnexpectedException event log files with LogDate since the watermark (one request per file)."""
    result = ImportResult("EventLogFile")
    since = _get_watermark(store, "EventLogFile", alias)
    where = " AND LogDate >= " + soql_literal(since) if since else ""
    soql = ("SELECT Id, EventType, LogDate, LogFileLength FROM EventLogFile "  # noqa: S608
            f"WHERE EventType = 'ApexUnexpectedException'{where} ORDER BY LogDate ASC, Id ASC")
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
        if error_ids_present(store, alias, "EventLogFile", [f"{record['Id']}:0"]):
            result.already_stored += 1
            continue
        content = org.request("GET", f"sobjects/EventLogFile/{record['Id']}/LogFile", raw=True).content
        _store_page(store, alias, "EventLogFile", event_log_rows(record["Id"], content, log_date), log_date, result)
        result.files += 1
    wm = _get_watermark(store, "EventLogFile", alias)
    result.watermark = wm.isoformat() if wm else None
    return result
