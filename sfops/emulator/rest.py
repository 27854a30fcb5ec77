"""The REST data API and the Tooling API under /services/data/vNN.0/: handlers and their route tables."""

from __future__ import annotations

import email.utils
import gzip
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sfops.emulator import blobs, composite, ids, uirest
from sfops.emulator.records import record_url, wire_record
from sfops.emulator.routing import RouteTable
from sfops.emulator.values import fmt_datetime, now_utc, parse_datetime
from sfops.emulator.wire import (
    JSON_TYPE,
    ApiError,
    Request,
    Response,
    accepts_gzip,
    error_response,
    json_response,
    not_found,
)

if TYPE_CHECKING:
    from sfops.emulator.auth import Session
    from sfops.emulator.faults import Faults
    from sfops.emulator.orgstate import OrgState
    from sfops.emulator.schema import ObjectDef

RESOURCES = [
    "tooling",
    "metadata",
    "eclair",
    "folders",
    "prechatForms",
    "contact-tracing",
    "jsonxform",
    "chatter",
    "tabs",
    "appMenu",
    "quickActions",
    "queryAll",
    "commerce",
    "wave",
    "iot",
    "analytics",
    "search",
    "identity",
    "composite",
    "parameterizedSearch",
    "fingerprint",
    "theme",
    "nouns",
    "event",
    "serviceTemplates",
    "recent",
    "connect",
    "licensing",
    "limits",
    "process",
    "async-queries",
    "query",
    "match",
    "emailConnect",
    "compactLayouts",
    "knowledgeManagement",
    "sobjects",
    "actions",
    "support",
]
TOOLING_RESOURCES = [
    "tooling/sobjects",
    "tooling/query",
    "tooling/executeAnonymous",
    "tooling/search",
    "tooling/runTestsAsynchronous",
    "tooling/runTestsSynchronous",
    "tooling/completions",
]
DEFAULT_BATCH = 2000


class Ctx:
    """One REST/Tooling request: the org state it may use, the request, API version and session."""

    def __init__(
        self,
        state: OrgState,
        req: Request,
        version: str,
        tooling: bool,
        session: Session,
        *,
        base_url: str,
        dispatch: Callable[[Request], Response],
        faults: Faults,
        metadata: Callable[[Request, str], Response],
    ) -> None:
        self.state, self.req, self.version, self.tooling, self.session = state, req, version, tooling, session
        self.base_url, self.dispatch, self.faults, self.metadata = base_url, dispatch, faults, metadata


def _method_not_allowed(ctx: Ctx, allowed: str = "HEAD,GET") -> ApiError:
    """405 as Salesforce words it: "HTTP Method 'PATCH' not allowed. Allowed are HEAD,GET,POST"
    (quoted in simple-salesforce issue #412 for sobjects/Account)."""
    return ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{ctx.req.method}' not allowed. Allowed are {allowed}")


def resources(ctx: Ctx) -> Response:
    """GET /services/data/vNN.0[/tooling]: the resource map."""
    base = f"/services/data/v{ctx.version}"
    if ctx.tooling:
        return json_response(200, {r.split("/", 1)[1]: f"{base}/{r}" for r in TOOLING_RESOURCES})
    urls = {r: f"{base}/{r}" for r in RESOURCES}
    # the identity entry is the absolute identity URL of the caller (REST guide, "List Available REST
    # Resources": "identity" : "https://MyDomainName.my.salesforce.com/id/00D.../005...")
    urls["identity"] = f"{ctx.base_url}/id/{ctx.state.org_id}/{ctx.session.user_id}"
    return json_response(200, urls)


# ------------------------------------------------------------------------------- sobjects


def _not_modified(ctx: Ctx) -> bool:
    """describe and describeGlobal honour If-Modified-Since: 304 when no metadata changed after it."""
    header = ctx.req.headers.get("if-modified-since")
    if not header:
        return False
    try:
        since = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    if since is None or since.tzinfo is None:
        return False
    return ctx.state.schema_changed_at() <= since


def global_describe(ctx: Ctx) -> Response:
    if ctx.req.method != "GET":
        raise _method_not_allowed(ctx)
    if _not_modified(ctx):
        return Response(304)
    return _cached_json(
        ctx, ("global", ctx.version, ctx.tooling), lambda: ctx.state.describe_global(ctx.version, ctx.tooling)
    )


def sobject_root(ctx: Ctx, sobject: str) -> Response:
    obj = ctx.state.sobject(sobject, ctx.tooling)
    if ctx.req.method == "GET":
        info = ctx.state.basic_info(obj, ctx.version, ctx.tooling)
        info["recentItems"] = ctx.state.recent_items(ctx.session.user_id, ctx.version, obj.name)
        return json_response(200, info)
    if ctx.req.method == "POST":
        data, blob_values = blobs.request_record(ctx.req, obj)
        result = ctx.state.create(obj, blobs.with_markers(data, blob_values), ctx.session.user_id)
        ctx.state.save_blobs(obj, result["id"], blob_values)
        if ctx.tooling:
            result = {**result, "warnings": []}
        return json_response(201, result, _location(ctx, obj, result))
    raise _method_not_allowed(ctx, "HEAD,GET,POST")


def _location(ctx: Ctx, obj: ObjectDef, result: Any) -> dict[str, str] | None:
    """The Location header of a 201 (the Composite resource's documented example carries it)."""
    if obj.is_event or not isinstance(result, dict) or not result.get("id"):
        return None
    return {"Location": record_url(obj, result["id"], ctx.version, ctx.tooling)}


def describe(ctx: Ctx, sobject: str) -> Response:
    obj = ctx.state.sobject(sobject, ctx.tooling)
    if _not_modified(ctx):
        return Response(304)
    return _cached_json(
        ctx,
        ("describe", obj.key, ctx.version, ctx.tooling, ctx.base_url),
        lambda: ctx.state.describe(obj, ctx.version, ctx.tooling, ctx.base_url),
    )


def deleted(ctx: Ctx, sobject: str) -> Response:
    obj = ctx.state.sobject(sobject, ctx.tooling)
    start, end = _window(ctx)
    now = now_utc()
    return json_response(
        200,
        {
            "deletedRecords": ctx.state.deleted_between(obj, start, end),
            "earliestDateAvailable": fmt_datetime(now - timedelta(days=15)),
            "latestDateCovered": fmt_datetime(min(end, now)),
        },
    )


def updated(ctx: Ctx, sobject: str) -> Response:
    obj = ctx.state.sobject(sobject, ctx.tooling)
    start, end = _window(ctx)
    return json_response(
        200, {"ids": ctx.state.updated_between(obj, start, end), "latestDateCovered": fmt_datetime(min(end, now_utc()))}
    )


def apexlog_body(ctx: Ctx, sobject: str, record_id: str) -> Response:
    """GET .../{id}/Body: a blob field's bytes (StaticResource), or a debug log's text (ApexLog)."""
    obj = ctx.state.sobject(sobject, ctx.tooling)
    body_field = obj.field("Body")
    if body_field is not None and body_field.type == "base64":
        row = ctx.state.get(obj, record_id)
        content = ctx.state.blob(row["Id"], body_field.name)
        if content is None:
            raise not_found()
        return Response(200, content, {"Content-Type": row.get("ContentType") or "application/octet-stream"})
    body = ctx.state.apexlog_body(obj, record_id)
    return Response(200, body.encode("utf-8"), {"Content-Type": "text/plain;charset=UTF-8"})


def event_log_file(ctx: Ctx, sobject: str, record_id: str) -> Response:
    """GET sobjects/EventLogFile/{id}/LogFile: the event log's CSV."""
    blob = ctx.state.event_log_file(ctx.state.sobject(sobject, ctx.tooling), record_id)
    return Response(200, blob, {"Content-Type": "text/csv"})


def _cached_json(ctx: Ctx, key: Any, build: Callable[[], Any]) -> Response:
    """A JSON response whose encoded (and gzip'd) body is cached until the schema changes (describe is hot)."""
    body = ctx.state.cached(key, lambda: json_response(200, build()).body)
    if not ctx.req.internal and accepts_gzip(ctx.req.headers):
        packed = ctx.state.cached((key, "gzip"), lambda: gzip.compress(body, compresslevel=5))
        return Response(200, packed, {"Content-Type": JSON_TYPE, "Content-Encoding": "gzip"})
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


def by_id(ctx: Ctx, sobject: str, record_id: str) -> Response:
    state, req = ctx.state, ctx.req
    obj = state.sobject(sobject, ctx.tooling)
    if req.method == "GET":
        row = state.get(obj, record_id)
        return json_response(200, wire_record(obj, row, ctx.version, ctx.tooling, _field_list(ctx, obj)))
    if req.method == "PATCH":
        _check_unmodified_since(req.headers.get("if-unmodified-since"), state.get(obj, record_id))
        data, blob_values = blobs.request_record(req, obj)
        state.update(obj, record_id, blobs.with_markers(data, blob_values), ctx.session.user_id)
        state.save_blobs(obj, record_id, blob_values)
        return Response(204)
    if req.method == "DELETE":
        state.delete(obj, record_id)
        return Response(204)
    raise _method_not_allowed(ctx, "HEAD,GET,PATCH,DELETE")


def by_external_id(ctx: Ctx, sobject: str, field_name: str, value: str) -> Response:
    state, req = ctx.state, ctx.req
    obj = state.sobject(sobject, ctx.tooling)
    if req.method == "PATCH" or (req.method == "POST" and field_name.lower() == "id"):
        status, body = state.upsert(obj, field_name, value, _body_dict(req), ctx.session.user_id)
        if status == 200 and float(ctx.version) < 46.0:
            return Response(204)
        return json_response(status, body, _location(ctx, obj, body) if status == 201 else None)
    f = obj.field(field_name)
    if f is None or not (f.external_id or f.id_lookup or f.type == "id"):
        raise ApiError(
            404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {field_name}"
        )
    rows = state.find(obj, f.name, value)
    if len(rows) > 1:
        return json_response(300, [record_url(obj, r["Id"], ctx.version) for r in rows])
    if not rows:
        raise not_found()
    if req.method == "GET":
        return json_response(200, wire_record(obj, rows[0], ctx.version, ctx.tooling, _field_list(ctx, obj)))
    if req.method == "DELETE":
        state.delete(obj, rows[0]["Id"])
        return Response(204)
    raise _method_not_allowed(ctx, "HEAD,GET,PATCH,DELETE")


def _window(ctx: Ctx) -> tuple[datetime, datetime]:
    q = ctx.req.query
    try:
        return parse_datetime(q["start"]), parse_datetime(q["end"])
    except (KeyError, ValueError) as exc:
        raise ApiError(400, "MALFORMED_QUERY", "start and end are required datetimes") from exc


# ------------------------------------------------------------------------------- query


def query(ctx: Ctx, locator: str | None = None) -> Response:
    """GET query?q=... (first page) and query/{locator} (next pages)."""
    return _query(ctx, locator, include_deleted=False)


def query_all(ctx: Ctx, locator: str | None = None) -> Response:
    """GET queryAll?q=...: deleted (recycle bin) rows too."""
    return _query(ctx, locator, include_deleted=True)


def _query(ctx: Ctx, locator: str | None, include_deleted: bool) -> Response:
    req = ctx.req
    if req.method != "GET":
        raise _method_not_allowed(ctx)
    if locator is not None:
        return _next_page(ctx, locator)
    if "explain" in req.query and not ctx.tooling and not include_deleted:
        return explain(ctx, req.query["explain"])
    text = req.query.get("q")
    if text is None:
        raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
    from sfops.emulator.soql import SoqlError

    try:
        result = ctx.state.query(
            text,
            tooling=ctx.tooling,
            include_deleted=include_deleted,
            version=ctx.version,
            now=now_utc(),
            user_id=ctx.session.user_id,
        )
    except SoqlError as err:
        return json_response(400, err.to_wire())
    if req.query.get("columns", "").lower() == "true":
        return json_response(200, ctx.state.column_metadata(text, ctx.tooling, ctx.version))
    if len(result.records) > DEFAULT_BATCH and result.records[0]["attributes"]["type"] == "AggregateResult":
        # restforce issue #726 quotes the body; aggregate results cannot be paged with queryMore
        raise ApiError(
            400,
            "EXCEEDED_ID_LIMIT",
            "Aggregate query does not support queryMore(), use LIMIT to restrict the results to a single batch",
        )
    ctx.state.mark_viewed(ctx.session.user_id, text, result.records)
    return json_response(
        200, _page(ctx, result.records, result.total_size, result.entity_type_name, 0, _batch_size(req), None)
    )


def explain(ctx: Ctx, text: str) -> Response:
    """GET query?explain=<SOQL>: the query plans (Query Performance Feedback), journalled as rest.explain."""
    try:
        resp = json_response(200, ctx.state.explain(text, ctx.version))
    except ApiError as err:
        resp = error_response(err)
    resp.kind = "rest.explain"
    return resp


def _batch_size(req: Request) -> int:
    for part in req.headers.get("sforce-query-options", "").split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "batchsize" and value.strip().isdigit():
            # Salesforce clamps to 200..2000; the emulator honours small sizes so tests can page cheaply
            return max(1, min(DEFAULT_BATCH, int(value)))
    return DEFAULT_BATCH


def _page(
    ctx: Ctx, records: list[dict[str, Any]], total: int, entity: str, offset: int, batch: int, locator: str | None
) -> dict[str, Any]:
    chunk = records[offset : offset + batch]
    done = offset + batch >= len(records)
    next_url = None
    if not done:
        if locator is None:
            locator = ctx.state.new_cursor(records, total, entity)
        prefix = f"/services/data/v{ctx.version}/{'tooling/' if ctx.tooling else ''}query"
        next_url = f"{prefix}/{locator}-{offset + batch}"
    if ctx.tooling:
        return {
            "size": total,
            "totalSize": total,
            "done": done,
            "queryLocator": None if done else f"{locator}-{offset + batch}",
            "entityTypeName": entity or None,
            **({"nextRecordsUrl": next_url} if next_url else {}),
            "records": chunk,
        }
    body: dict[str, Any] = {"totalSize": total, "done": done}
    if next_url:
        body["nextRecordsUrl"] = next_url
    body["records"] = chunk
    return body


def _next_page(ctx: Ctx, token: str) -> Response:
    locator, _, offset_text = token.rpartition("-")
    cursor = ctx.state.cursor(locator)
    if cursor is None or not offset_text.isdigit():
        raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    records, total, entity = cursor
    return json_response(200, _page(ctx, records, total, entity, int(offset_text), _batch_size(ctx.req), locator))


# ------------------------------------------------------------------------------- limits


def limits(ctx: Ctx) -> Response:
    return json_response(200, ctx.state.limits_body())


def record_count(ctx: Ctx) -> Response:
    wanted = [n for n in ctx.req.query.get("sObjects", "").split(",") if n]
    objects = [ctx.state.find_sobject(n) for n in wanted] if wanted else ctx.state.data_objects()
    out = []
    for obj in objects:
        if obj is not None:
            count = ctx.state.volume(obj)
            if count or wanted:
                out.append({"count": count, "name": obj.name})
    return json_response(200, {"sObjects": out})


# ------------------------------------------------------------------------------- tooling extras


def execute_anonymous(ctx: Ctx) -> Response:
    body = ctx.req.query.get("anonymousBody")
    if body is None and ctx.req.body:
        body = str((ctx.req.json() or {}).get("anonymousBody", ""))
    if body is None:
        raise ApiError(400, "INVALID_INPUT", "anonymousBody is required")
    result = {
        "line": -1,
        "column": -1,
        "compiled": True,
        "success": True,
        "compileProblem": None,
        "exceptionStackTrace": None,
        "exceptionMessage": None,
    }
    outcome = ctx.faults.anonymous
    if outcome:
        result.update({k: v for k, v in outcome.items() if k in result})
        if outcome.get("compiled") is False:
            result["success"] = False
    ctx.state.write_anonymous_log(ctx.session.user_id, body, result)
    return json_response(200, result)


def run_tests_async(ctx: Ctx) -> Response:
    """POST tooling/runTestsAsynchronous: the test run's AsyncApexJob id (15 characters, a JSON string)."""
    if ctx.req.method != "POST":
        raise _method_not_allowed(ctx, "POST")
    outcome = ctx.state.run_tests(_body_dict(ctx.req), ctx.session.user_id)
    return Response(200, json.dumps(ids.to15(outcome["job"])).encode(), {"Content-Type": "application/json"})


def run_tests_sync(ctx: Ctx) -> Response:
    """POST tooling/runTestsSynchronous: a RunTestsResult (the run is recorded like an asynchronous one)."""
    if ctx.req.method != "POST":
        raise _method_not_allowed(ctx, "POST")
    return json_response(200, ctx.state.run_tests_synchronously(_body_dict(ctx.req), ctx.session.user_id))


def metadata(ctx: Ctx, rest: str | None = None) -> Response:
    return ctx.metadata(ctx.req, rest or "")


# ------------------------------------------------------------------------------- route tables
# Patterns are relative to /services/data/vNN.0/ (DATA) and /services/data/vNN.0/tooling/ (TOOLING);
# kinds get the "rest." or "tooling." prefix in the request journal. First match wins.


def _sobject_routes(table: RouteTable) -> None:
    """The sObject and query resources both APIs share."""
    table.add("sobjects", global_describe, kind="describeGlobal")
    table.add("sobjects/{sobject}", sobject_root, kind="sobject")
    table.add("sobjects/{sobject}/describe", describe, kind="describe")
    table.add("sobjects/{sobject}/deleted", deleted, kind="sobject")
    table.add("sobjects/{sobject}/updated", updated, kind="sobject")
    table.add("sobjects/{sobject}/{record_id:id}/Body", apexlog_body, kind="sobject.body")
    table.add("sobjects/{sobject}/{record_id:id}/LogFile", event_log_file, kind="sobject.blob")
    table.add("sobjects/{sobject}/{record_id}", by_id, kind="sobject")
    table.add("sobjects/{sobject}/{field_name}/{value}", by_external_id, kind="sobject")
    table.add("query", query, kind="query")
    table.add("query/{locator}", query, kind="query")
    table.add("queryAll", query_all, kind="queryAll")
    table.add("queryAll/{locator}", query_all, kind="queryAll")


DATA = RouteTable()
DATA.add("", resources, kind="")
DATA.add("sobjects/{sobject}/describe/{which}", uirest.describe_layouts, kind="describe.layouts")
DATA.add("sobjects/{sobject}/describe/{which}/{name}", uirest.describe_layouts, kind="describe.layouts")
DATA.add("sobjects/{sobject}/listviews", uirest.list_views, kind="listviews")
DATA.add("sobjects/{sobject}/listviews/{view_id}", uirest.list_views, kind="listviews")
DATA.add("sobjects/{sobject}/listviews/{view_id}/{action}", uirest.list_views, kind="listviews")
_sobject_routes(DATA)
DATA.add("recent", uirest.recent, kind="recent", methods=("GET", "HEAD"))
DATA.add("tabs", uirest.tabs, kind="tabs", methods=("GET", "HEAD"))
DATA.add("theme", uirest.theme, kind="theme", methods=("GET", "HEAD"))
DATA.add("limits", limits, kind="limits")
DATA.add("limits/recordCount", record_count, kind="limits")
DATA.add("composite", composite.composite, kind="composite")
DATA.add("composite/sobjects/{rest:path}", composite.sobjects, kind="composite.sobjects")
DATA.add("composite/batch", composite.batch, kind="composite.batch")
DATA.add("metadata/{rest:path}", metadata, kind="metadata")

TOOLING = RouteTable()
TOOLING.add("", resources, kind="")
_sobject_routes(TOOLING)
TOOLING.add("executeAnonymous", execute_anonymous, kind="executeAnonymous")
TOOLING.add("runTestsAsynchronous", run_tests_async, kind="runTestsAsynchronous")
TOOLING.add("runTestsSynchronous", run_tests_sync, kind="runTestsSynchronous")
TOOLING.add("completions", uirest.completions_resource, kind="completions", methods=("GET", "HEAD"))


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
        raise ApiError(412, "PRECONDITION_FAILED", f"The requested resource was modified after {header}: {row['Id']}")
