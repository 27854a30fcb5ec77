"""Collect failed asynchronous Apex (AsyncApexJob with Status Failed or Aborted) into the error history.

Rows land in `error_event` with source `AsyncApexJob` (id = the job Id, time = CompletedDate), so reports and
the detector read them like every other error. Incremental on CompletedDate (inclusive watermark), idempotent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sfops.salesforce.soql import soql_literal
from sfops.salesforce.values import require_datetime
from sfops.store import Store
from sfops.store.error_events import save_errors

SOURCE = "AsyncApexJob"
FIELDS = (
    "Id",
    "JobType",
    "Status",
    "ApexClassId",
    "MethodName",
    "NumberOfErrors",
    "JobItemsProcessed",
    "TotalJobItems",
    "ExtendedStatus",
    "CompletedDate",
    "CreatedDate",
    "CreatedById",
)
FIRST_LOOK = dt.timedelta(days=1)


def _key(org: str) -> str:
    return f"logs.{SOURCE}.watermark.{org}"


def job_row(record: dict[str, Any], class_name: str | None) -> dict[str, Any]:
    """One failed job as an `error_event` row."""
    status = record.get("Status") or "Failed"
    job_type = record.get("JobType") or "Unknown"
    name = class_name or record.get("ApexClassId") or "(unknown class)"
    message = record.get("ExtendedStatus") or f"{job_type} job {status}"
    at = record.get("CompletedDate") or record["CreatedDate"]
    fingerprint = hashlib.sha1(f"{job_type}|{name}|{status}".encode(), usedforsecurity=False).hexdigest()[:12]
    return {
        "id": record["Id"],
        "occurred_at": require_datetime(at),
        "exception_type": f"AsyncApexJob.{status}",
        "message": message,
        "stack": "",
        "category": "async_job",
        "fingerprint": fingerprint,
        "entry_point": f"{name}.{record['MethodName']}" if record.get("MethodName") else name,
        "user_id": record.get("CreatedById"),
        "request_id": None,
        "details": {
            "job_type": job_type,
            "status": status,
            "apex_class": name,
            "number_of_errors": record.get("NumberOfErrors"),
            "items": f"{record.get('JobItemsProcessed')}/{record.get('TotalJobItems')}",
        },
    }


def collect_async_failures(org: Any, store: Store, alias: str, *, now: dt.datetime | None = None) -> int:
    """Store failed/aborted jobs completed since the watermark; returns how many were new."""
    now = now or dt.datetime.now(dt.UTC)
    stored = store.get_state(_key(alias))
    since = dt.datetime.fromisoformat(stored) if stored else now - FIRST_LOOK
    soql = (
        f"SELECT {', '.join(FIELDS)} FROM AsyncApexJob WHERE Status IN ('Failed', 'Aborted') "  # noqa: S608
        f"AND CompletedDate >= {soql_literal(since)} ORDER BY CompletedDate ASC"
    )
    records = org.query(soql)
    if not records:
        return 0
    class_ids = sorted({r["ApexClassId"] for r in records if r.get("ApexClassId")})
    names: dict[str, str] = {}
    if class_ids:
        for row in org.query(f"SELECT Id, Name FROM ApexClass WHERE Id IN ({', '.join(map(soql_literal, class_ids))})"):  # noqa: S608
            names[row["Id"]] = row["Name"]
    rows = [job_row(r, names.get(r.get("ApexClassId") or "")) for r in records]
    last = max(row["occurred_at"] for row in rows)
    inserted, _known = save_errors(store, alias, SOURCE, rows, _key(alias), last)
    return inserted
