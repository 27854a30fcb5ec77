"""composite, composite/sobjects and composite/batch: sub-requests run through the same dispatcher."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from sfops.emulator.records import save_error, wire_record
from sfops.emulator.wire import ApiError, Request, Response, json_response, not_found

if TYPE_CHECKING:
    from sfops.emulator.rest import Ctx

_REF = re.compile(r"@\{([A-Za-z0-9_]+)\.([A-Za-z0-9_.\[\]]+)\}")
MAX_SUBREQUESTS = 25


def _check_method(ctx: Ctx) -> None:
    if ctx.req.method not in ("POST", "PATCH", "DELETE", "GET"):
        raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{ctx.req.method}' not allowed.")


def _sub(ctx: Ctx, method: str, url: str, body: Any) -> Response:
    path, _, qs = url.partition("?")
    from urllib.parse import parse_qsl

    sub = Request(
        method.upper(),
        path,
        dict(parse_qsl(qs, keep_blank_values=True)),
        dict(ctx.req.headers),
        json.dumps(body).encode() if body is not None else b"",
        internal=True,
    )
    return ctx.dispatch(sub)


def _resolve(value: Any, results: dict[str, Any]) -> Any:
    if isinstance(value, str):

        def repl(m: re.Match[str]) -> str:
            cur: Any = results.get(m.group(1))
            for part in re.split(r"\.|\[|\]", m.group(2)):
                if part == "":
                    continue
                cur = cur[int(part)] if isinstance(cur, list) else (cur or {}).get(part)
            return str(cur)

        return _REF.sub(repl, value)
    if isinstance(value, dict):
        return {k: _resolve(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, results) for v in value]
    return value


def composite(ctx: Ctx) -> Response:
    """POST composite: sub-requests in order, `@{ref.field}` references, `allOrNone`."""
    _check_method(ctx)
    data = ctx.req.json() or {}
    subs = data.get("compositeRequest")
    if not isinstance(subs, list) or not subs:
        raise ApiError(400, "JSON_PARSER_ERROR", "compositeRequest is required")
    if len(subs) > MAX_SUBREQUESTS:
        raise ApiError(400, "LIMIT_EXCEEDED", f"Limit Exceeded: the number of subrequests is over {MAX_SUBREQUESTS}")
    all_or_none = bool(data.get("allOrNone"))
    results: dict[str, Any] = {}
    out: list[dict[str, Any]] = []

    def run() -> None:
        failed = False
        for item in subs:
            ref = item.get("referenceId")
            if failed and all_or_none:
                out.append(
                    {
                        "body": [
                            {
                                "errorCode": "PROCESSING_HALTED",
                                "message": "The transaction was rolled back since another operation "
                                "in the same transaction failed.",
                            }
                        ],
                        "httpHeaders": {},
                        "httpStatusCode": 400,
                        "referenceId": ref,
                    }
                )
                continue
            resp = _sub(
                ctx,
                item.get("method", "GET"),
                _resolve(item.get("url", ""), results),
                _resolve(item.get("body"), results),
            )
            is_json = resp.headers.get("Content-Type", "").startswith("application/json")
            body = resp.json() if resp.body and is_json else None
            headers = {k: v for k, v in resp.headers.items() if k == "Location"}
            out.append({"body": body, "httpHeaders": headers, "httpStatusCode": resp.status, "referenceId": ref})
            results[ref] = body
            failed = failed or resp.status >= 400
        if failed and all_or_none:
            raise _Rollback(out)

    if all_or_none:
        try:
            with ctx.state.transaction():
                run()
        except _Rollback:
            pass  # the transaction rolled back; `out` already says why
    else:
        run()
    return json_response(200, {"compositeResponse": out})


class _ResultError(ApiError):
    """An ApiError whose failed result carries more keys (an UpsertResult's `created`)."""

    def __init__(self, err: ApiError, extra: dict[str, Any]) -> None:
        super().__init__(err.status, err.code, err.message, err.fields)
        self.extra = extra


class _Rollback(Exception):
    def __init__(self, out: list[dict[str, Any]]) -> None:
        super().__init__("rollback")
        self.out = out


def sobjects(ctx: Ctx, rest: str | None = None) -> Response:
    """composite/sobjects[/{T}[/{field}]]: collections of records created, updated, upserted, read, deleted."""
    _check_method(ctx)
    state, req = ctx.state, ctx.req
    parts = rest.split("/") if rest else []
    if req.method == "GET":
        if len(parts) != 1:
            raise not_found()
        obj = state.sobject(parts[0], ctx.tooling)
        out: list[dict[str, Any] | None] = []
        for rid in req.query.get("ids", "").split(","):
            try:
                out.append(wire_record(obj, state.get(obj, rid), ctx.version, ctx.tooling))
            except ApiError:
                out.append(None)
        return json_response(200, out)
    if req.method == "DELETE":
        targets = [i for i in req.query.get("ids", "").split(",") if i]
        all_or_none = req.query.get("allOrNone", "false").lower() == "true"
        return json_response(200, _each(ctx, targets, all_or_none, lambda rid: _delete_one(ctx, rid)))
    data = req.json() or {}
    records = data.get("records") or []
    all_or_none = bool(data.get("allOrNone"))
    if len(records) > 200:
        raise ApiError(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records")
    if req.method == "POST":
        return json_response(200, _each(ctx, records, all_or_none, lambda r: _create_one(ctx, r)))
    if len(parts) == 2:
        obj = state.sobject(parts[0], ctx.tooling)
        return json_response(200, _each(ctx, records, all_or_none, lambda r: _upsert_one(ctx, obj, parts[1], r)))
    return json_response(200, _each(ctx, records, all_or_none, lambda r: _update_one(ctx, r)))


def _type_of(ctx: Ctx, record: dict[str, Any]) -> Any:
    name = (record.get("attributes") or {}).get("type")
    if not name:
        raise ApiError(400, "INVALID_TYPE", "Must specify a type in attributes")
    return ctx.state.sobject(name, ctx.tooling)


def _create_one(ctx: Ctx, record: dict[str, Any]) -> dict[str, Any]:
    if record.get("Id") or record.get("id"):
        raise ApiError(400, "INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
    return ctx.state.create(_type_of(ctx, record), record, ctx.session.user_id)


def _update_one(ctx: Ctx, record: dict[str, Any]) -> dict[str, Any]:
    rid = record.get("Id") or record.get("id")
    if not rid:
        raise ApiError(400, "MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
    data = {k: v for k, v in record.items() if k.lower() != "id"}
    ctx.state.update(_type_of(ctx, record), rid, data, ctx.session.user_id)
    return {"id": ctx.state.record_id(rid), "success": True, "errors": []}


def _upsert_one(ctx: Ctx, obj: Any, field_name: str, record: dict[str, Any]) -> dict[str, Any]:
    f = obj.field(field_name)
    value = next((v for k, v in record.items() if f is not None and k.lower() == f.name.lower()), None)
    if value is None:
        raise ApiError(400, "MISSING_ARGUMENT", f"{field_name} not specified", [field_name])
    # an UpsertResult says whether the row was (or, when it fails or is rolled back, would have been)
    # created: jsforce's integration test expects created=true on every rolled-back new row
    creating = not ctx.state.find(obj, f.name, str(value)) if f is not None else False
    try:
        status, body = ctx.state.upsert(obj, field_name, str(value), record, ctx.session.user_id)
    except ApiError as err:
        raise _ResultError(err, {"created": creating}) from err
    if status == 300:
        raise ApiError(
            300,
            "DUPLICATE_EXTERNAL_ID",
            f"{field_name}: more than one record found for external id field: {body}",
            [field_name],
        )
    return body


def _delete_one(ctx: Ctx, rid: str) -> dict[str, Any]:
    sobject = ctx.state.sobject_of_id(rid)
    if sobject is None:
        raise ApiError(404, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
    obj = ctx.state.sobject(sobject, ctx.tooling)
    stored_id = ctx.state.record_id(rid)
    ctx.state.delete(obj, rid)
    return {"id": stored_id, "success": True, "errors": []}


def _each(ctx: Ctx, items: list[Any], all_or_none: bool, op: Any) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    errors = False

    def run() -> None:
        nonlocal errors
        for item in items:
            try:
                results.append(op(item))
            except ApiError as err:
                errors = True
                results.append(
                    {
                        "success": False,
                        "errors": [save_error(err)],
                        **(err.extra if isinstance(err, _ResultError) else {}),
                    }
                )
        if errors and all_or_none:
            raise _Rollback([])

    if all_or_none:
        try:
            with ctx.state.transaction():
                run()
        except _Rollback:
            rolled = []
            for r in results:
                if r.get("success"):
                    rolled.append(
                        {
                            "success": False,
                            "errors": [
                                {
                                    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                                    "message": "Record rolled back because not all records were valid and the request "
                                    "was using AllOrNone header",
                                    "fields": [],
                                }
                            ],
                            **({"created": r["created"]} if "created" in r else {}),
                        }
                    )
                else:
                    rolled.append(r)
            return [{"id": None, **r} if "id" not in r else r for r in rolled]
    else:
        run()
    return [{"id": None, **r} if "id" not in r else r for r in results]


def batch(ctx: Ctx) -> Response:
    """POST composite/batch: independent sub-requests, `haltOnError`."""
    _check_method(ctx)
    data = ctx.req.json() or {}
    subs = data.get("batchRequests") or []
    halt = bool(data.get("haltOnError"))
    results = []
    has_errors = False
    for item in subs:
        if halt and has_errors:
            results.append(
                {
                    "statusCode": 412,
                    "result": [
                        {"errorCode": "BATCH_PROCESSING_HALTED", "message": "Batch processing halted per request"}
                    ],
                }
            )
            continue
        url = item.get("url", "")
        if not url.startswith("/services/"):
            url = f"/services/data/{url.lstrip('/')}"
        resp = _sub(ctx, item.get("method", "GET"), url, item.get("richInput"))
        results.append({"statusCode": resp.status, "result": resp.json() if resp.body else None})
        has_errors = has_errors or resp.status >= 400
    return json_response(200, {"hasErrors": has_errors, "results": results})
