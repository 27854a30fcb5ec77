"""The REST data API and the Tooling API under /services/data/vNN.0/ (one handler, `tooling` flag)."""

from __future__ import annotations

import email.utils
import json
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sfops.emulator import ids
from sfops.emulator.describe import basic_info, describe_global, sobject_describe
from sfops.emulator.records import record_url, wire_record
from sfops.emulator.values import fmt_datetime, now_utc, parse_datetime
from sfops.emulator.wire import JSON_TYPE, ApiError, Request, Response, json_response, not_found

if TYPE_CHECKING:
    from sfops.emulator.app import Emulator
    from sfops.emulator.auth import Session

RESOURCES = ["tooling", "metadata", "eclair", "folders", "prechatForms", "contact-tracing", "jsonxform",
             "chatter", "tabs", "appMenu", "quickActions", "queryAll", "commerce", "wave", "iot", "analytics",
             "search", "identity", "composite", "parameterizedSearch", "fingerprint", "theme", "nouns",
             "event", "serviceTemplates", "recent", "connect", "licensing", "limits", "process", "async-queries",
             "query", "match", "emailConnect", "compactLayouts", "knowledgeManagement", "sobjects", "actions",
             "support"]
TOOLING_RESOURCES = ["tooling/sobjects", "tooling/query", "tooling/executeAnonymous", "tooling/search",
                     "tooling/runTestsAsynchronous", "tooling/runTestsSynchronous", "tooling/completions"]
DEFAULT_BATCH = 2000


def handle(emu: Emulator, req: Request, version: str, parts: list[str], session: Session) -> Response:
    """Dispatch a versioned REST request (parts = path segments after vNN.0)."""
    tooling = bool(parts) and parts[0] == "tooling"
    if tooling:
        parts = parts[1:]
    ctx = Ctx(emu, req, version, tooling, session)
    if not parts:
        base = f"/services/data/v{version}"
        if tooling:
            return json_response(200, {r.split("/", 1)[1]: f"{base}/{r}" for r in TOOLING_RESOURCES})
        return json_response(200, {r: f"{base}/{r}" for r in RESOURCES})
    head, rest = parts[0], parts[1:]
    handler = _ROUTES.get(head) if not tooling else _TOOLING_ROUTES.get(head)
    if handler is None:
        raise not_found()
    return handler(ctx, rest)


class Ctx:
    """One request's context."""

    def __init__(self, emu: Emulator, req: Request, version: str, tooling: bool, session: Session) -> None:
        self.emu, self.req, self.version, self.tooling, self.session = emu, req, version, tooling, session
        self.kind_prefix = "tooling" if tooling else "rest"

    def kind(self, name: str) -> None:
        self.req.headers["x-emulator-kind"] = f"{self.kind_prefix}.{name}"


def _method_not_allowed(ctx: Ctx) -> ApiError:
    allowed = "GET, HEAD"
    return ApiError(405, "METHOD_NOT_ALLOWED",
                    f"HTTP Method '{ctx.req.method}' not allowed. Allowed are {allowed}")


# ------------------------------------------------------------------------------- sobjects

def sobjects(ctx: Ctx, parts: list[str]) -> Response:
    emu, req, v = ctx.emu, ctx.req, ctx.version
    if not parts:
        ctx.kind("describeGlobal")
        if req.method != "GET":
            raise _method_not_allowed(ctx)
        return _cached_json(emu, ("global", v, ctx.tooling), lambda: describe_global(emu.schema, v, ctx.tooling))
    obj = emu.records.object(parts[0], ctx.tooling)
    if len(parts) == 1:
        ctx.kind("sobject")
        if req.method == "GET":
            return json_response(200, basic_info(emu.schema, obj, v, ctx.tooling))
        if req.method == "POST":
            result = emu.records.create(obj, _body_dict(req), ctx.session.user_id)
            if ctx.tooling:
                result = {**result, "warnings": []}
            return json_response(201, result)
        raise _method_not_allowed(ctx)
    second = parts[1]
    if len(parts) == 2 and second == "describe":
        ctx.kind("describe")
        base = emu.base_url_for(req)
        return _cached_json(emu, ("describe", obj.key, v, ctx.tooling, base),
                            lambda: sobject_describe(emu.schema, obj, v, ctx.tooling, base))
    if len(parts) == 2 and second in ("deleted", "updated"):
        ctx.kind("sobject")
        return json_response(200, _changed(ctx, obj, second))
    if len(parts) == 2:
        ctx.kind("sobject")
        return _by_id(ctx, obj, second)
    if len(parts) == 3 and parts[2].lower() == "body" and ids.looks_like_id(second):
        ctx.kind("sobject.body")
        emu.records.get(obj, second)
        body = emu.store.get_json("apexlog.body", ids.normalize(second))
        if body is None:
            raise not_found()
        return Response(200, body.encode("utf-8"), {"Content-Type": "text/plain;charset=UTF-8"})
    if len(parts) == 3:
        ctx.kind("sobject")
        return _by_external_id(ctx, obj, second, parts[2])
    raise not_found()


def _cached_json(emu: Emulator, key: Any, build: Callable[[], Any]) -> Response:
    """A JSON response whose encoded body is cached until the schema changes (describe is hot)."""
    body = emu.cached(key, lambda: json_response(200, build()).body)
    return Response(200, body, {"Content-Type": JSON_TYPE})


def _body_dict(req: Request) -> dict[str, Any]:
    data = req.json()
    if not isinstance(data, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of object from the request body")
    return data


def _field_list(ctx: Ctx, obj: Any) -> list[Any] | None:
    raw = ctx.req.query.get("fields")
    if not raw:
        return None
    out = []
    for name in raw.split(","):
        f = obj.field(name.strip())
        if f is None:
            raise ApiError(400, "INVALID_FIELD", f"No such column '{name.strip()}' on sobject of type {obj.name}")
        out.append(f)
    return out


def _by_id(ctx: Ctx, obj: Any, record_id: str) -> Response:
    emu, req = ctx.emu, ctx.req
    if req.method == "GET":
        row = emu.records.get(obj, record_id)
        return json_response(200, wire_record(obj, row, ctx.version, ctx.tooling, _field_list(ctx, obj)))
    if req.method == "PATCH":
        _check_unmodified_since(req.headers.get("if-unmodified-since"), emu.records.get(obj, record_id))
        emu.records.update(obj, record_id, _body_dict(req), ctx.session.user_id)
        return Response(204)
    if req.method == "DELETE":
        if obj.name == "ApexLog":
            row = emu.records.get(obj, record_id)
            emu.store.purge(row["Id"])
            emu.store.delete_json("apexlog.body", row["Id"])
            return Response(204)
        emu.records.delete(obj, record_id)
        return Response(204)
    raise _method_not_allowed(ctx)


def _by_external_id(ctx: Ctx, obj: Any, field_name: str, value: str) -> Response:
    emu, req = ctx.emu, ctx.req
    if req.method == "PATCH" or (req.method == "POST" and field_name.lower() == "id"):
        status, body = emu.records.upsert(obj, field_name, value, _body_dict(req), ctx.session.user_id)
        if status == 200 and float(ctx.version) < 46.0:
            return Response(204)
        return json_response(status, body)
    f = obj.field(field_name)
    if f is None or not (f.external_id or f.id_lookup or f.type == "id"):
        raise ApiError(404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: "
                                         f"{field_name}")
    rows = emu.records.find(obj, f.name, value)
    if len(rows) > 1:
        return json_response(300, [record_url(obj, r["Id"], ctx.version) for r in rows])
    if not rows:
        raise not_found()
    if req.method == "GET":
        return json_response(200, wire_record(obj, rows[0], ctx.version, ctx.tooling, _field_list(ctx, obj)))
    if req.method == "DELETE":
        emu.records.delete(obj, rows[0]["Id"])
        return Response(204)
    raise _method_not_allowed(ctx)


def _changed(ctx: Ctx, obj: Any, which: str) -> dict[str, Any]:
    q = ctx.req.query
    try:
        start = parse_datetime(q["start"])
        end = parse_datetime(q["end"])
    except (KeyError, ValueError) as exc:
        raise ApiError(400, "MALFORMED_QUERY", "start and end are required datetimes") from exc
    now = now_utc()
    if which == "deleted":
        deleted = [
            {"id": rid, "deletedDate": item["deletedDate"]}
            for rid, item in sorted(ctx.emu.store.list_json("deleted").items())
            if item["sobject"].lower() == obj.key and start <= parse_datetime(item["deletedDate"]) <= end
        ]
        return {"deletedRecords": deleted, "earliestDateAvailable": fmt_datetime(now - timedelta(days=15)),
                "latestDateCovered": fmt_datetime(min(end, now))}
    changed = [r["Id"] for r in ctx.emu.store.rows(obj.name)
               if r.get("SystemModstamp") and start <= parse_datetime(r["SystemModstamp"]) <= end
               and not r.get("IsDeleted")]
    return {"ids": changed, "latestDateCovered": fmt_datetime(min(end, now))}


# ------------------------------------------------------------------------------- query

def query(ctx: Ctx, parts: list[str], include_deleted: bool = False) -> Response:
    emu, req = ctx.emu, ctx.req
    ctx.kind("queryAll" if include_deleted else "query")
    if req.method != "GET":
        raise _method_not_allowed(ctx)
    if parts:
        return _next_page(ctx, parts[0])
    if "explain" in req.query and not ctx.tooling and not include_deleted:
        from sfops.emulator.explain import explain

        ctx.kind("explain")
        return json_response(200, explain(emu, req.query["explain"], ctx.version))
    text = req.query.get("q")
    if text is None:
        raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
    from sfops.emulator.soql import SoqlError, execute  # the SOQL package is optional at import time

    try:
        result = execute(text, emu.catalog(ctx.tooling), now=now_utc(), include_deleted=include_deleted,
                         api_version=ctx.version, tooling=ctx.tooling)
    except SoqlError as err:
        return json_response(400, err.to_wire())
    if req.query.get("columns", "").lower() == "true":
        from sfops.emulator.columns import column_metadata

        return json_response(200, column_metadata(emu, text, ctx.tooling))
    batch = _batch_size(req)
    records = result.records
    entity = result.entity_type_name
    total = result.total_size
    return json_response(200, _page(ctx, records, total, entity, 0, batch, None))


def _batch_size(req: Request) -> int:
    for part in req.headers.get("sforce-query-options", "").split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "batchsize" and value.strip().isdigit():
            # Salesforce clamps to 200..2000; the emulator honours small sizes so tests can page cheaply
            return max(1, min(DEFAULT_BATCH, int(value)))
    return DEFAULT_BATCH


def _page(ctx: Ctx, records: list[dict[str, Any]], total: int, entity: str, offset: int, batch: int,
          locator: str | None) -> dict[str, Any]:
    chunk = records[offset:offset + batch]
    done = offset + batch >= len(records)
    next_url = None
    if not done:
        if locator is None:
            locator = ctx.emu.new_cursor(records, total, entity)
        prefix = f"/services/data/v{ctx.version}/{'tooling/' if ctx.tooling else ''}query"
        next_url = f"{prefix}/{locator}-{offset + batch}"
    if ctx.tooling:
        return {"size": total, "totalSize": total, "done": done,
                "queryLocator": None if done else f"{locator}-{offset + batch}", "entityTypeName": entity or None,
                **({"nextRecordsUrl": next_url} if next_url else {}), "records": chunk}
    body: dict[str, Any] = {"totalSize": total, "done": done}
    if next_url:
        body["nextRecordsUrl"] = next_url
    body["records"] = chunk
    return body


def _next_page(ctx: Ctx, token: str) -> Response:
    locator, _, offset_text = token.rpartition("-")
    cursor = ctx.emu.cursor(locator)
    if cursor is None or not offset_text.isdigit():
        raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    records, total, entity = cursor
    return json_response(200, _page(ctx, records, total, entity, int(offset_text), _batch_size(ctx.req),
                                    locator))


# ------------------------------------------------------------------------------- limits

def limits(ctx: Ctx, parts: list[str]) -> Response:
    ctx.kind("limits")
    emu = ctx.emu
    if not parts:
        return json_response(200, emu.usage.limits_body(emu.limit_consumption(), emu.faults.limits))
    if parts == ["recordCount"]:
        wanted = [n for n in ctx.req.query.get("sObjects", "").split(",") if n]
        names = wanted or [o.name for o in emu.schema if "data" in o.apis and not o.is_event]
        out = []
        for name in names:
            obj = emu.schema.get(name)
            if obj is not None:
                count = emu.store.count(obj.name)
                if count or wanted:
                    out.append({"count": count, "name": obj.name})
        return json_response(200, {"sObjects": out})
    raise not_found()


# ------------------------------------------------------------------------------- tooling extras

def execute_anonymous(ctx: Ctx, parts: list[str]) -> Response:
    ctx.kind("executeAnonymous")
    body = ctx.req.query.get("anonymousBody")
    if body is None and ctx.req.body:
        body = str((ctx.req.json() or {}).get("anonymousBody", ""))
    if body is None:
        raise ApiError(400, "INVALID_INPUT", "anonymousBody is required")
    result = {"line": -1, "column": -1, "compiled": True, "success": True, "compileProblem": None,
              "exceptionStackTrace": None, "exceptionMessage": None}
    outcome = ctx.emu.faults.anonymous
    if outcome:
        result.update({k: v for k, v in outcome.items() if k in result})
        if outcome.get("compiled") is False:
            result["success"] = False
    ctx.emu.write_anonymous_log(ctx.session.user_id, body, result)
    return json_response(200, result)


def run_tests_async(ctx: Ctx, parts: list[str]) -> Response:
    """POST tooling/runTestsAsynchronous: the test run's AsyncApexJob id (15 characters, a JSON string)."""
    from sfops.emulator.apexruns import run

    ctx.kind("runTestsAsynchronous")
    if ctx.req.method != "POST":
        raise _method_not_allowed(ctx)
    outcome = run(ctx.emu, _body_dict(ctx.req), ctx.session.user_id)
    return Response(200, json.dumps(ids.to15(outcome["job"])).encode(), {"Content-Type": "application/json"})


def run_tests_sync(ctx: Ctx, parts: list[str]) -> Response:
    """POST tooling/runTestsSynchronous: a RunTestsResult (one class; the run is recorded like an async one)."""
    from sfops.emulator.apexruns import run, synchronous_result

    ctx.kind("runTestsSynchronous")
    if ctx.req.method != "POST":
        raise _method_not_allowed(ctx)
    outcome = run(ctx.emu, _body_dict(ctx.req), ctx.session.user_id)
    return json_response(200, synchronous_result(ctx.emu, outcome))


def composite(ctx: Ctx, parts: list[str]) -> Response:
    from sfops.emulator.composite import handle as composite_handle

    return composite_handle(ctx, parts)


def metadata(ctx: Ctx, parts: list[str]) -> Response:
    ctx.kind("metadata")
    ctx.req.headers["x-emulator-kind"] = "rest.metadata"
    return ctx.emu.metadata_rest(ctx.req, "/".join(parts))


_ROUTES: dict[str, Callable[[Ctx, list[str]], Response]] = {
    "sobjects": sobjects,
    "query": query,
    "queryAll": lambda ctx, parts: query(ctx, parts, include_deleted=True),
    "limits": limits,
    "composite": composite,
    "metadata": metadata,
}
_TOOLING_ROUTES: dict[str, Callable[[Ctx, list[str]], Response]] = {
    "sobjects": sobjects,
    "query": query,
    "queryAll": lambda ctx, parts: query(ctx, parts, include_deleted=True),
    "executeAnonymous": execute_anonymous,
    "runTestsAsynchronous": run_tests_async,
    "runTestsSynchronous": run_tests_sync,
}


def _check_unmodified_since(header: str | None, row: dict[str, Any]) -> None:
    """Conditional update (Salesforce's weak validation): 412 when the record changed after the given
    time, 400 when the header is not an HTTP date. HTTP dates have whole seconds, so compare at that grain."""
    if header is None:
        return
    try:
        since = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        since = None
    if since is None or since.tzinfo is None:
        raise ApiError(400, "MALFORMED_REQUEST", f"Invalid If-Unmodified-Since header: {header}")
    modified = parse_datetime(row["LastModifiedDate"]).replace(microsecond=0)
    if modified > since:
        raise ApiError(412, "PRECONDITION_FAILED",
                       f"The requested resource was modified after {header}: {row['Id']}")
