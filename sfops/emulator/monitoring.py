"""The org's monitoring and change history: EventLogFile (ApexUnexpectedException CSVs), DeployRequest (Tooling),
SetupAuditTrail, and the control endpoint that injects failures at a time the test chooses.

* Every deploy or validation made through the Metadata API is a DeployRequest row from the moment it is
  submitted (same Id as the deploy, Pending, then InProgress and its final status, as in a real org); a
  finished deploy (not check-only) adds one SetupAuditTrail row per changed Apex class, trigger or custom field.
* `POST /__emulator__/inject` takes {"exceptions": [...], "async_jobs": [...], "logs": [...], "audit": [...]},
  each item with an optional "at" (ISO date-time, default now):
  - exceptions: {"exception_type", "exception_message", "exception_category", "stack_trace", "user_id",
    "request_id"} -> ApexUnexpectedException rows, one Hourly EventLogFile per hour (files are available at
    once here; a real org publishes hourly files with some delay), and one ApexUnexpectedExcpEventLog row each
    (the SOQL-queryable Event Log Object, API 61+; same RequestIdentifier as the CSV row's REQUEST_ID). An org
    without it answers INVALID_TYPE: tests get that with a `fail` fault on the query;
  - long_running: {"request_uri", "number_requests", "requests_limit" (10), "user_id", "request_id"} ->
    ConcurrentLongRunningApexLimit rows, one Hourly EventLogFile per hour;
  - async_jobs: {"apex_class", "job_type", "status" (Failed), "extended_status", "errors", "method"} ->
    AsyncApexJob rows;
  - logs: {"body", "LogUserId", "Status", ...} -> ApexLog rows with StartTime = at;
  - audit: {"action", "section", "display"} -> SetupAuditTrail rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sfops.emulator.schema import FieldDef, ObjectDef

if TYPE_CHECKING:
    from sfops.emulator.app import Emulator

BODY_KIND = "eventlogfile.body"
CSV_COLUMNS = (
    "EVENT_TYPE",
    "TIMESTAMP",
    "REQUEST_ID",
    "ORGANIZATION_ID",
    "USER_ID",
    "EXCEPTION_TYPE",
    "EXCEPTION_MESSAGE",
    "EXCEPTION_CATEGORY",
    "STACK_TRACE",
    "TIMESTAMP_DERIVED",
    "USER_ID_DERIVED",
)
# ConcurrentLongRunningApexLimit event type (EventLogFile supported event types reference, API 45+)
LONG_RUNNING_COLUMNS = (
    "EVENT_TYPE",
    "TIMESTAMP",
    "REQUEST_ID",
    "ORGANIZATION_ID",
    "USER_ID",
    "NUMBER_REQUESTS",
    "REQUESTS_LIMIT",
    "REQUEST_URI",
    "TIMESTAMP_DERIVED",
    "USER_ID_DERIVED",
)


def _ro(name: str, kind: str, **options: Any) -> FieldDef:
    """A read-only field (these objects are written by the org itself)."""
    return FieldDef(name, kind, createable=False, updateable=False, **options)


def _obj(
    name: str, prefix: str, fields: list[FieldDef], *, apis: tuple[str, ...], label: str, plural: str
) -> ObjectDef:
    from sfops.emulator.schema import _audit, _id

    all_fields = [_id(), *fields, *_audit()]
    return ObjectDef(
        name=name,
        label=label,
        label_plural=plural,
        key_prefix=prefix,
        apis=apis,
        fields={f.key: f for f in all_fields},
        createable=False,
        updateable=False,
        deletable=False,
    )


def monitoring_objects() -> list[ObjectDef]:
    """EventLogFile, DeployRequest (Tooling) and SetupAuditTrail, read-only like in a real org."""

    def s(name: str, length: int = 255) -> FieldDef:
        return _ro(name, "string", length=length)

    return [
        _obj(
            "EventLogFile",
            "0AT",
            [
                _ro(
                    "EventType",
                    "picklist",
                    picklist_values=[
                        "ApexUnexpectedException",
                        "ApexExecution",
                        "ConcurrentLongRunningApexLimit",
                        "API",
                        "Login",
                    ],
                ),
                _ro("LogDate", "datetime"),
                _ro("LogFileLength", "double", precision=18, scale=0),
                _ro("Interval", "picklist", picklist_values=["Daily", "Hourly"]),
                _ro("Sequence", "int", digits=9),
                s("LogFileContentType", 20),
                _ro("LogFileFieldNames", "textarea", length=32000),
                _ro("LogFileFieldTypes", "textarea", length=32000),
                _ro("LogFile", "base64"),
            ],
            apis=("data",),
            label="Event Log File",
            plural="Event Log Files",
        ),
        _obj(
            "ApexUnexpectedExcpEventLog",
            "0Xu",
            [
                _ro("EventDate", "datetime"),
                s("EventIdentifier"),
                s("ExceptionCategory"),
                s("ExceptionMessage", 32000),
                s("ExceptionType"),
                _ro("StackTrace", "textarea", length=32000),
                s("RequestIdentifier"),
                s("ApexEntityName"),
                s("Username"),
                s("LoginKey", 24),
                s("SessionKey", 24),
                _ro("UserId", "reference", reference_to=["User"], relationship_name="User"),
            ],
            apis=("data",),
            label="Apex Unexpected Excp Event Log",
            plural="Apex Unexpected Excp Event Logs",
        ),
        _obj(
            "DeployRequest",
            "0Af",
            [
                _ro(
                    "Status",
                    "picklist",
                    picklist_values=[
                        "Pending",
                        "InProgress",
                        "Succeeded",
                        "SucceededPartial",
                        "Failed",
                        "Canceling",
                        "Canceled",
                    ],
                ),
                _ro("StartDate", "datetime"),
                _ro("CompletedDate", "datetime"),
                _ro("CheckOnly", "boolean"),
                _ro("IgnoreWarnings", "boolean"),
                _ro("RollbackOnError", "boolean"),
                _ro("RunTestsEnabled", "boolean"),
                *[
                    _ro(n, "int", digits=9)
                    for n in (
                        "NumberComponentsDeployed",
                        "NumberComponentsTotal",
                        "NumberComponentErrors",
                        "NumberTestErrors",
                        "NumberTestsCompleted",
                        "NumberTestsTotal",
                    )
                ],
                s("ErrorMessage", 32000),
                s("ErrorStatusCode"),
                s("StateDetail"),
                _ro("CanceledById", "reference", reference_to=["User"], relationship_name="CanceledBy"),
            ],
            apis=("tooling",),
            label="Deploy Request",
            plural="Deploy Requests",
        ),
        _obj(
            "SetupAuditTrail",
            "0Ym",
            [
                s("Action", 80),
                s("Section", 80),
                s("Display", 1000),
                s("DelegateUser", 80),
                s("ResponsibleNamespacePrefix", 15),
                s("CreatedByContext", 80),
                s("CreatedByIssuer", 80),
            ],
            apis=("data",),
            label="Setup Audit Trail Entry",
            plural="Setup Audit Trail Entries",
        ),
    ]


def _sf(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def _at(item: Mapping[str, Any], now: dt.datetime) -> dt.datetime:
    raw = item.get("at")
    if not raw:
        return now
    value = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# --- deploy history ------------------------------------------------------------------------------
_AUDIT_FOR = {
    "ApexClass": ("Apex Class", "changedApexClass", "Changed Class code: {name}"),
    "ApexTrigger": ("Apex Trigger", "changedApexTrigger", "Changed Trigger code: {name}"),
    "CustomField": ("Customize Objects", "createdCF", "Created custom field {name}"),
    "CustomObject": ("Customize Objects", "createdCustEnt", "Created custom object {name}"),
}


def record_deploy(emu: Emulator, rec: Mapping[str, Any], *, finished: bool = False) -> None:
    """A deploy as its DeployRequest row (inserted when it is submitted, Pending, and kept up to date as it
    runs), and, once it has finished, its Apex/field changes as SetupAuditTrail rows.

    The emulator's own seeding (a synchronous deploy) is the org's creation, not its change history: the
    deploy store does not call this for it."""
    if not str(rec.get("createdById") or "").startswith("005"):
        return
    options = rec.get("options") or {}
    outcome = rec.get("outcome") or {}
    check_only = bool(options.get("checkOnly"))
    changed = rec.get("lastModifiedDate") or rec["createdDate"]
    values = {
        "Id": rec["id"],
        "Status": rec["status"],
        "CreatedDate": rec["createdDate"],
        "StartDate": rec.get("startDate"),
        "CompletedDate": rec.get("completedDate"),
        "LastModifiedDate": changed,
        "SystemModstamp": changed,
        "CreatedById": rec.get("createdById"),
        "LastModifiedById": rec.get("createdById"),
        "CheckOnly": check_only,
        "IgnoreWarnings": bool(options.get("ignoreWarnings")),
        "RollbackOnError": bool(options.get("rollbackOnError", True)),
        "RunTestsEnabled": bool(outcome.get("run_tests_enabled")),
        "NumberComponentsDeployed": outcome.get("components_deployed", 0),
        "NumberComponentsTotal": outcome.get("components_total", rec.get("total") or 0),
        "NumberComponentErrors": outcome.get("component_errors", 0),
        "NumberTestErrors": outcome.get("test_errors", 0),
        "NumberTestsTotal": outcome.get("tests_total", 0),
        "NumberTestsCompleted": outcome.get("tests_total", 0) - outcome.get("test_errors", 0),
        "ErrorMessage": outcome.get("error_message"),
        "ErrorStatusCode": outcome.get("error_status_code"),
        "CanceledById": rec.get("canceledBy"),
    }
    found = emu.store.get(rec["id"])
    if found is None:
        emu.insert_system("DeployRequest", values)
    else:
        emu.store.put("DeployRequest", {**found[1], **values})
    if not finished:
        return
    if check_only or rec["status"] not in ("Succeeded", "SucceededPartial"):
        return
    for msg in outcome.get("successes") or []:
        kind, name = msg.get("componentType") or "", msg.get("fullName") or ""
        if kind not in _AUDIT_FOR or not name:
            continue
        section, action, display = _AUDIT_FOR[kind]
        if kind == "CustomField" and not msg.get("created"):
            action, display = "changedCF", "Changed custom field {name}"
        emu.insert_system(
            "SetupAuditTrail",
            {
                "Action": action,
                "Section": section,
                "Display": display.format(name=name),
                "CreatedDate": rec.get("completedDate"),
                "CreatedById": rec.get("createdById"),
                "CreatedByContext": "Metadata API",
            },
        )


# --- injection -------------------------------------------------------------------------------------
def _exception_files(emu: Emulator, items: list[Mapping[str, Any]], now: dt.datetime) -> list[str]:
    by_hour: dict[dt.datetime, list[dict[str, str]]] = {}
    for item in items:
        at = _at(item, now)
        user = str(item.get("user_id") or emu.admin_user_id())
        by_hour.setdefault(at.replace(minute=0, second=0, microsecond=0), []).append(
            {
                "EVENT_TYPE": "ApexUnexpectedException",
                "TIMESTAMP": at.strftime("%Y%m%d%H%M%S.") + f"{at.microsecond // 1000:03d}",
                "REQUEST_ID": str(item.get("request_id") or f"4{abs(hash((at, user))) % 10**12:012d}"),
                "ORGANIZATION_ID": emu.org_id[:15],
                "USER_ID": user[:15],
                "EXCEPTION_TYPE": str(item.get("exception_type") or "System.NullPointerException"),
                "EXCEPTION_MESSAGE": str(item.get("exception_message") or ""),
                "EXCEPTION_CATEGORY": str(item.get("exception_category") or ""),
                "STACK_TRACE": str(item.get("stack_trace") or ""),
                "TIMESTAMP_DERIVED": _sf(at).replace("+0000", "Z"),
                "USER_ID_DERIVED": user,
            }
        )
    for rows in by_hour.values():
        for row in rows:
            at = dt.datetime.fromisoformat(row["TIMESTAMP_DERIVED"].replace("Z", "+00:00"))
            emu.insert_system(
                "ApexUnexpectedExcpEventLog",
                {
                    "EventDate": _sf(at),
                    "EventIdentifier": str(uuid.uuid4()),
                    "CreatedDate": _sf(at),
                    "ExceptionCategory": row["EXCEPTION_CATEGORY"] or None,
                    "ExceptionMessage": row["EXCEPTION_MESSAGE"],
                    "ExceptionType": row["EXCEPTION_TYPE"],
                    "StackTrace": row["STACK_TRACE"] or None,
                    "RequestIdentifier": row["REQUEST_ID"],
                    "UserId": row["USER_ID_DERIVED"],
                },
            )
    return _hourly_files(emu, "ApexUnexpectedException", CSV_COLUMNS, by_hour, _sf(max(_at(i, now) for i in items)))


def _hourly_files(
    emu: Emulator,
    event_type: str,
    columns: tuple[str, ...],
    by_hour: Mapping[dt.datetime, list[dict[str, str]]],
    created: str,
) -> list[str]:
    ids = []
    for hour, rows in sorted(by_hour.items()):
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        body = out.getvalue().encode("utf-8")
        sequence = 1 + sum(
            1
            for r in emu.store.rows("EventLogFile")
            if r.get("LogDate") == _sf(hour) and r.get("EventType") == event_type
        )
        rid = emu.insert_system(
            "EventLogFile",
            {
                "EventType": event_type,
                "LogDate": _sf(hour),
                "Interval": "Hourly",
                "Sequence": sequence,
                "LogFileLength": len(body),
                "LogFileContentType": "CSV",
                "LogFileFieldNames": ",".join(columns),
                "LogFileFieldTypes": ",".join(["String"] * len(columns)),
                "CreatedDate": created,
            },
        )
        emu.store.put_json(BODY_KIND, rid, body.decode("utf-8"))
        ids.append(rid)
    return ids


def _long_running_files(emu: Emulator, items: list[Mapping[str, Any]], now: dt.datetime) -> list[str]:
    by_hour: dict[dt.datetime, list[dict[str, str]]] = {}
    for item in items:
        at = _at(item, now)
        user = str(item.get("user_id") or emu.admin_user_id())
        by_hour.setdefault(at.replace(minute=0, second=0, microsecond=0), []).append(
            {
                "EVENT_TYPE": "ConcurrentLongRunningApexLimit",
                "TIMESTAMP": at.strftime("%Y%m%d%H%M%S.") + f"{at.microsecond // 1000:03d}",
                "REQUEST_ID": str(item.get("request_id") or f"5{abs(hash((at, user))) % 10**12:012d}"),
                "ORGANIZATION_ID": emu.org_id[:15],
                "USER_ID": user[:15],
                "NUMBER_REQUESTS": str(int(item.get("number_requests", 11))),
                "REQUESTS_LIMIT": str(int(item.get("requests_limit", 10))),
                "REQUEST_URI": str(item.get("request_uri") or "/apex/LongRunningPage"),
                "TIMESTAMP_DERIVED": _sf(at).replace("+0000", "Z"),
                "USER_ID_DERIVED": user,
            }
        )
    return _hourly_files(
        emu, "ConcurrentLongRunningApexLimit", LONG_RUNNING_COLUMNS, by_hour, _sf(max(_at(i, now) for i in items))
    )


def _class_id(emu: Emulator, name: str) -> str | None:
    for row in emu.store.rows("ApexClass"):
        if str(row.get("Name", "")).lower() == name.lower():
            return str(row["Id"])
    return None


def _async_jobs(emu: Emulator, items: list[Mapping[str, Any]], now: dt.datetime) -> list[str]:
    ids = []
    for item in items:
        at = _at(item, now)
        errors = int(item.get("errors", 1))
        ids.append(
            emu.insert_system(
                "AsyncApexJob",
                {
                    "JobType": item.get("job_type", "BatchApex"),
                    "Status": item.get("status", "Failed"),
                    "ApexClassId": _class_id(emu, str(item.get("apex_class", ""))),
                    "MethodName": item.get("method"),
                    "NumberOfErrors": errors,
                    "JobItemsProcessed": int(item.get("processed", 1)),
                    "TotalJobItems": int(item.get("total", 1)),
                    "ExtendedStatus": item.get("extended_status"),
                    "CompletedDate": _sf(at),
                    "CreatedDate": _sf(at - dt.timedelta(seconds=30)),
                },
            )
        )
    return ids


def inject(emu: Emulator, body: Mapping[str, Any]) -> dict[str, list[str]]:
    """Create the failing events, jobs, logs and audit entries of an inject request; returns their ids."""
    from sfops.emulator.values import now_utc

    now = now_utc()
    out: dict[str, list[str]] = {}
    if body.get("exceptions"):
        out["event_log_files"] = _exception_files(emu, list(body["exceptions"]), now)
    if body.get("long_running"):
        out["long_running_files"] = _long_running_files(emu, list(body["long_running"]), now)
    if body.get("async_jobs"):
        out["async_jobs"] = _async_jobs(emu, list(body["async_jobs"]), now)
    if body.get("logs"):
        out["logs"] = [
            emu.add_apexlog(
                str(x["body"]),
                {**{k: v for k, v in x.items() if k not in ("body", "at")}, "StartTime": _sf(_at(x, now))},
            )
            for x in body["logs"]
        ]
    if body.get("audit"):
        out["audit"] = [
            emu.insert_system(
                "SetupAuditTrail",
                {
                    "Action": x.get("action", "changedSetting"),
                    "Section": x.get("section", "Company Profile"),
                    "Display": x.get("display", ""),
                    "CreatedDate": _sf(_at(x, now)),
                    "CreatedByContext": x.get("context"),
                },
            )
            for x in body["audit"]
        ]
    return out


def check_inject(body: Any) -> str | None:
    """Why an inject body is malformed, or None."""
    if not isinstance(body, Mapping):
        return "body must be an object with exceptions, long_running, async_jobs, logs and/or audit lists"
    known = {"exceptions", "long_running", "async_jobs", "logs", "audit"}
    unknown = sorted(set(body) - known)
    if unknown:
        return f"unknown key(s) {', '.join(unknown)}; use {', '.join(sorted(known))}"
    for key in known & set(body):
        if not isinstance(body[key], list) or not all(isinstance(x, Mapping) for x in body[key]):
            return f"{key} must be a list of objects"
    if any("body" not in x for x in body.get("logs") or []):
        return "every log needs a body"
    for key in known & set(body):
        for item in body[key]:
            try:
                _at(item, dt.datetime.now(dt.UTC))
            except ValueError:
                return f"{key}: bad at {item.get('at')!r} (ISO date-time)"
    return None


def log_file(emu: Emulator, record_id: str) -> bytes | None:
    """The CSV body of one EventLogFile."""
    body = emu.store.get_json(BODY_KIND, record_id)
    return None if body is None else str(body).encode("utf-8")
