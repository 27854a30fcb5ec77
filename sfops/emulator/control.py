"""The test/operator control surface under /__emulator__/ (no auth: the emulator is local-only).

GET  /__emulator__/health                      status, org id, instance URL
GET|POST|DELETE /__emulator__/faults           fault knobs (see faults.py); POST also takes
                                               "expire_sessions": true and "api_usage": {"used", "max"}
GET|DELETE /__emulator__/requests[?kind=rest]  the request journal (DELETE or POST .../reset clears it)
POST /__emulator__/reset                       wipe data and seed again
POST /__emulator__/apexlogs                    {"logs": [{"body": "...", "LogUserId": ..., ...}]} -> ids
GET|POST /__emulator__/clock                   {"offset_seconds": N} shifts the org's clock (0 = real time)
POST /__emulator__/inject                      failing exceptions / async jobs / logs / audit entries at chosen
                                               times (see monitoring.py) -> ids
GET  /__emulator__/events                      published platform events
POST /__emulator__/connected-apps              {"client_id", "client_secret", "certificate" (PEM), "run_as"}
POST /__emulator__/refresh-tokens              {"username", "client_id"} -> {"refresh_token"}
GET|POST|DELETE /__emulator__/volumes          {"Account": 2000000, "Contact": null}: the record count an
                                               object reports (limits/recordCount, query plans) instead of
                                               its rows; null or DELETE: the real count again
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sfops.emulator.wire import Request, Response, json_response

if TYPE_CHECKING:
    from sfops.emulator.app import Emulator


def _bad(message: str, status: int = 400) -> Response:
    return json_response(status, {"error": message})


def handle(emu: Emulator, req: Request) -> Response:
    parts = req.path.strip("/").split("/")[1:]
    name = parts[0] if parts else ""
    try:
        body: Any = json.loads(req.body) if req.body else {}
    except ValueError:
        return _bad("body is not JSON")
    resp = _route(emu, req, name, parts[1:], body)
    resp.kind = f"control.{name or 'root'}"
    return resp


def _route(emu: Emulator, req: Request, name: str, rest: list[str], body: Any) -> Response:
    handler = _ENDPOINTS.get(name)
    resp = handler(emu, req, rest, body) if handler else None
    return resp or _bad(f"unknown control endpoint {req.method} {req.path}", 404)


# Each endpoint answers its methods and returns None for the others (-> 404).


def _health(emu: Emulator, req: Request, rest: list[str], body: Any) -> Response:
    return json_response(
        200,
        {
            "status": "ok",
            "org_id": emu.org_id,
            "instance_url": emu.base_url,
            "api_version": emu.api_version,
            "uptime_s": round(emu.now().timestamp() - emu.started, 3),
        },
    )


def _faults(emu: Emulator, req: Request, rest: list[str], body: Any) -> Response | None:
    if req.method == "GET":
        return json_response(200, emu.faults.describe())
    if req.method == "DELETE":
        emu.faults.clear()
        return json_response(200, emu.faults.describe())
    if req.method != "POST":
        return None
    if not isinstance(body, dict):
        return _bad("faults body must be an object")
    try:
        emu.faults.apply(body)
    except (ValueError, TypeError) as exc:
        return _bad(str(exc))
    out = emu.faults.describe()
    if body.get("expire_sessions"):
        out["expired_sessions"] = emu.sessions.expire_all()
    usage = body.get("api_usage")
    if usage:
        emu.usage.set(usage.get("used"), usage.get("max"))
        emu.save_meta()
    out["api_usage"] = {"used": emu.usage.used, "max": emu.usage.max}
    return json_response(200, out)


def _requests(emu: Emulator, req: Request, rest: list[str], body: Any) -> Response | None:
    if req.method == "DELETE" or (req.method == "POST" and rest == ["reset"]):
        emu.journal.clear()
        return json_response(200, {"requests": []})
    if req.method == "GET":
        entries = emu.journal.entries(req.query.get("kind"))
        counted = sum(1 for e in entries if e["counted"])
        return json_response(200, {"requests": entries, "count": len(entries), "api_calls": counted})
    return None


def _reset(emu: Emulator, req: Request, rest: list[str], body: Any) -> Response | None:
    if req.method != "POST":
        return None
    emu.reset()
    return json_response(200, {"status": "reset", "org_id": emu.org_id})


def _apexlogs(emu: Emulator, req: Request, rest: list[str], body: Any) -> Response | None:
    if req.method != "POST":
        return None
    logs = body.get("logs") if isinstance(body, dict) and "logs" in body else body
    logs = [logs] if isinstance(logs, dict) else logs
    if not isinstance(logs, list) or not all(isinstance(x, dict) and "body" in x for x in logs):
        return _bad('expected {"logs": [{"body": "...", ...}]}')
    created = [emu.add_apexlog(str(x["body"]), {k: v for k, v in x.items() if k != "body"}) for x in logs]
    return json_response(201, {"ids": created})


def _inject(emu: Emulator, req: Request, rest: list[str], body: Any) -> Response | None:
    if req.method != "POST":
        return None
    from sfops.emulator.monitoring import check_inject, inject

    problem = check_inject(body)
    if problem:
        return _bad(problem)
    return json_response(201, inject(emu, body))


def _clock(emu: Emulator, req: Request, rest: list[str], body: Any) -> Response | None:
    from datetime import timedelta

    from sfops.emulator.values import clock_offset, now_utc, set_clock_offset

    if req.method == "POST":
        seconds = body.get("offset_seconds") if isinstance(body, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            return _bad('expected {"offset_seconds": <number>}')
        set_clock_offset(timedelta(seconds=seconds))
    elif req.method != "GET":
        return None
    return json_response(200, {"offset_seconds": clock_offset().total_seconds(), "now": now_utc().isoformat()})


def _events(emu: Emulator, req: Request, rest: list[str], body: Any) -> Response | None:
    if req.method != "GET":
        return None
    return json_response(200, {"events": emu.state.events()})


def _connected_apps(emu: Emulator, req: Request, rest: list[str], body: Any) -> Response | None:
    if req.method != "POST":
        return None
    if not isinstance(body, dict) or not body.get("client_id"):
        return _bad("client_id is required")
    emu.state.put_connected_app(
        body["client_id"],
        {
            "client_secret": body.get("client_secret"),
            "certificate": body.get("certificate"),
            "run_as": body.get("run_as"),
        },
    )
    return json_response(201, {"client_id": body["client_id"]})


def _refresh_tokens(emu: Emulator, req: Request, rest: list[str], body: Any) -> Response | None:
    if req.method != "POST":
        return None
    user = emu.user_by_username(str(body.get("username", ""))) if isinstance(body, dict) else None
    if user is None:
        return _bad("unknown username", 404)
    token = emu.sessions.new_refresh_token(user["Id"], body.get("client_id") or emu.settings.client_id)
    return json_response(201, {"refresh_token": token})


def _volumes(emu: Emulator, req: Request, rest: list[str], body: Any) -> Response | None:
    if req.method == "DELETE":
        for name in emu.state.volumes():
            obj = emu.state.find_sobject(name)
            if obj is not None:
                emu.state.set_volume(obj, None)
    elif req.method == "POST":
        if not isinstance(body, dict):
            return _bad('expected {"Object": records, ...}')
        for name, records in body.items():
            obj = emu.state.find_sobject(str(name))
            if obj is None:
                return _bad(f"unknown object {name}")
            if records is not None and (isinstance(records, bool) or not isinstance(records, int) or records < 0):
                return _bad(f"{name}: records must be a whole number >= 0 or null")
            emu.state.set_volume(obj, records)
    elif req.method != "GET":
        return None
    return json_response(200, {"volumes": emu.state.volumes()})


_ENDPOINTS: dict[str, Callable[[Emulator, Request, list[str], Any], Response | None]] = {
    "": _health,
    "health": _health,
    "faults": _faults,
    "requests": _requests,
    "reset": _reset,
    "apexlogs": _apexlogs,
    "inject": _inject,
    "clock": _clock,
    "events": _events,
    "connected-apps": _connected_apps,
    "refresh-tokens": _refresh_tokens,
    "volumes": _volumes,
}
