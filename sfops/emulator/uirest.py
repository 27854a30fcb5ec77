"""REST handlers for the describe-layout, list-view, recent/tabs/theme and completions resources.

The bodies are built by layouts.py, listviews.py, navigation.py and completions.py; the org data they
need (schema, rows, the caller's recently viewed list, deployed approval processes) comes through
OrgState. The `*_of` helpers at the end are what OrgState calls on the emulator's side.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from defusedxml import ElementTree

from sfops.emulator import completions, layouts, listviews, navigation
from sfops.emulator.schema import ObjectDef
from sfops.emulator.values import fmt_datetime, now_utc
from sfops.emulator.wire import ApiError, Response, json_response, not_found

if TYPE_CHECKING:
    from sfops.emulator.app import Emulator
    from sfops.emulator.rest import Ctx

RECENT_KIND = "recent"
COMPONENT_KIND = "md.component"  # the Metadata API's stored components (metadata/workstate.py)


# ------------------------------------------------------------------ layouts
def describe_layouts(ctx: Ctx, sobject: str, which: str, name: str | None = None) -> Response:
    """sobjects/{T}/describe/{layouts|namedLayouts|compactLayouts|approvalLayouts}[/{name}]."""
    if ctx.req.method not in ("GET", "HEAD"):
        raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{ctx.req.method}' not allowed. Allowed are HEAD,GET")
    obj = ctx.state.sobject(sobject, ctx.tooling)
    body = ctx.state.layouts(obj, ctx.version, which, name)
    if body is None:
        raise not_found()
    return json_response(200, body)


def layouts_of(emu: Emulator, obj: ObjectDef, version: str, which: str, name: str | None) -> dict[str, Any] | None:
    """The body of one describe-layout resource (None: no such layout)."""
    schema = emu.schema
    if which == "layouts":
        return (
            layouts.describe_layouts(schema, obj, version)
            if name is None
            else layouts.record_type_layout(schema, obj, version, name)
        )
    if which == "namedLayouts" and name is not None:
        return layouts.named_layout(schema, obj, version, name)
    if which == "compactLayouts" and name is None:
        return layouts.compact_layouts(obj, version)
    if which == "approvalLayouts" and name is None:
        return layouts.approval_layouts(obj, approval_processes_of(emu, obj))
    return None


def approval_processes_of(emu: Emulator, obj: ObjectDef) -> list[tuple[str, str]]:
    """(name, label) of the deployed ApprovalProcess components on `obj` ("Account.Big_Deal")."""
    out = []
    for rec in emu.store.list_json(COMPONENT_KIND).values():
        owner, _, name = str(rec.get("fullName", "")).partition(".")
        if rec.get("type") != "ApprovalProcess" or owner.lower() != obj.key or not name:
            continue
        label = name
        for content in (rec.get("files") or {}).values():
            try:
                root = ElementTree.fromstring(base64.b64decode(content))
            except Exception:  # noqa: S112 - an unreadable file keeps the API name as label
                continue
            found = next((c.text for c in root if c.tag.rsplit("}", 1)[-1] == "label" and c.text), None)
            label = found or label
        out.append((name, label))
    return sorted(out)


# ------------------------------------------------------------------ list views
def list_views(ctx: Ctx, sobject: str, view_id: str | None = None, action: str | None = None) -> Response:
    """sobjects/{T}/listviews[/{id}[/describe|/results]]."""
    obj = ctx.state.sobject(sobject, ctx.tooling)
    if view_id is None:
        return json_response(200, listviews.list_body(obj, ctx.version))
    view = listviews.find(obj, view_id)
    if view is None:
        raise not_found()
    lookup = ctx.state.find_sobject
    if action == "describe":
        return json_response(200, listviews.describe(obj, view, lookup))
    if action == "results":
        now = now_utc()
        result = ctx.state.query(
            listviews.results_query(obj), tooling=False, include_deleted=False, version=ctx.version, now=now
        )
        viewed = {rid for _, rid in ctx.state.recent_list(ctx.session.user_id)}
        raw = ctx.req.query.get("limit", "")
        limit = int(raw) if raw.isdigit() and int(raw) > 0 else 25
        return json_response(
            200,
            listviews.results(
                obj, view, result.records, ctx.session.user_id, viewed, now, lookup, limit=min(limit, 2000)
            ),
        )
    if action is None:
        entry = next(v for v in listviews.list_body(obj, ctx.version)["listviews"] if v["id"] == view.id)
        return json_response(200, entry)
    raise not_found()


# ------------------------------------------------------------------ recent, tabs, theme
def recent_list_of(emu: Emulator, user_id: str) -> list[list[str]]:
    """The caller's recently viewed [sobject, id] pairs, newest first."""
    return list(emu.store.get_json(RECENT_KIND, user_id) or [])


def mark_viewed_of(emu: Emulator, user_id: str, soql: str, records: list[dict[str, Any]]) -> None:
    """After a `... FOR VIEW` / `FOR REFERENCE` query: remember its rows and stamp their dates."""
    if not navigation.viewing(soql):
        return
    by_type: dict[str, list[str]] = {}
    for r in records:
        rtype = (r.get("attributes") or {}).get("type")
        if r.get("Id") and rtype:
            by_type.setdefault(rtype, []).append(r["Id"])
    recent = recent_list_of(emu, user_id)
    now = fmt_datetime(now_utc())
    stamp = "LastReferencedDate" if "REFERENCE" in soql.upper().rsplit("FOR", 1)[-1] else "LastViewedDate"
    for rtype, found in by_type.items():
        obj = emu.schema.get(rtype)
        if obj is None:
            continue
        recent = navigation.remember(recent, obj.name, list(reversed(found)))
        for rid in found:
            row = emu.record(obj.name, rid)
            if row is not None:
                for name in {stamp, "LastReferencedDate"}:
                    if obj.field(name) is not None:
                        row = {**row, name: now}
                emu.store.put(obj.name, row)
    emu.store.put_json(RECENT_KIND, user_id, recent)


def recent_items_of(
    emu: Emulator, user_id: str, version: str, sobject: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """The caller's recently viewed records as /recent lists them (optionally of one object)."""
    out = []
    for rtype, rid in recent_list_of(emu, user_id):
        if sobject is not None and rtype.lower() != sobject.lower():
            continue
        obj = emu.schema.get(rtype)
        row = emu.record(rtype, rid) if obj is not None else None
        if obj is None or row is None or row.get("IsDeleted"):
            continue
        out.append(navigation.recent_item(obj, row, version))
        if len(out) >= limit:
            break
    return out


def recent(ctx: Ctx) -> Response:
    """GET /recent[?limit=N]."""
    raw = ctx.req.query.get("limit", "")
    limit = int(raw) if raw.isdigit() and int(raw) > 0 else 200
    return json_response(200, ctx.state.recent_items(ctx.session.user_id, ctx.version, limit=min(limit, 200)))


def tabs(ctx: Ctx) -> Response:
    """GET /tabs."""
    return json_response(200, navigation.tabs(ctx.state.all_objects(), ctx.base_url))


def theme(ctx: Ctx) -> Response:
    """GET /theme."""
    return json_response(200, navigation.theme(ctx.state.all_objects(), ctx.base_url))


# ------------------------------------------------------------------ Tooling completions
def completions_resource(ctx: Ctx) -> Response:
    """GET tooling/completions?type=apex."""
    kind = ctx.req.query.get("type", "apex")
    if kind != "apex":
        raise ApiError(400, "INVALID_TYPE", f"Invalid completions type: {kind}")
    return json_response(200, completions.apex_completions())
