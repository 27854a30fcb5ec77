"""The emulator: state, routing of every request, control endpoints, and the MetadataHost side.

`Emulator.dispatch(Request) -> Response` is the whole HTTP surface; server.py only moves bytes.
"""

from __future__ import annotations

import gzip
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sfops.emulator import auth, cometd, control, ids, rest
from sfops.emulator.faults import Faults
from sfops.emulator.hosting import Host
from sfops.emulator.journal import Journal
from sfops.emulator.limits import ApiCounter
from sfops.emulator.metadata.service import MetadataService
from sfops.emulator.orgstate import OrgState
from sfops.emulator.records import Records
from sfops.emulator.routing import Handler, RouteTable
from sfops.emulator.schema import Schema, default_schema
from sfops.emulator.state import RecordState
from sfops.emulator.values import fmt_datetime, now_utc, set_clock_offset
from sfops.emulator.wire import (
    ApiError,
    Request,
    Response,
    accepts_gzip,
    error_response,
    invalid_session,
    json_response,
    not_found,
    soap_fault,
)

LATEST_VERSION = 64
# Versions 7.0-20.0 were retired in Summer '22 and 21.0-30.0 in Summer '25 (API End-of-Life Policy):
# REST answers 410 GONE, SOAP 500 UNSUPPORTED_API_VERSION.
OLDEST_VERSION = 31
_SEASONS = ("Winter", "Spring", "Summer")


def version_label(major: int) -> str:
    """Release name of an API version: 20.0 is Winter '11, 60.0 Spring '24, 64.0 Summer '25."""
    i = major - 20
    return f"{_SEASONS[i % 3]} '{11 + i // 3:02d}"


@dataclass
class EmulatorSettings:
    """How an emulator instance behaves. Secrets here are demo-only defaults, overridable by env."""

    admin_username: str = "admin@sfops.demo"
    admin_password: str = "sfops-demo-password"  # noqa: S105 - demo-only default, documented
    security_token: str = ""
    client_id: str = "sfops-emulator-demo"
    client_secret: str = "sfops-demo-client-secret"  # noqa: S105 - demo-only default
    jwt_certificate: str | None = None  # PEM of the connected app's certificate (JWT bearer)
    session_seconds: float = 7200.0
    api_max: int = 15000
    seed: str | None = None  # None (org + admin + companion schema) or "demo"
    force_app: Path | None = None  # None: the companion metadata shipped with sfops (force-app/)
    org_name: str = "sfops Emulator Org"
    extra: dict[str, Any] = field(default_factory=dict)


class Emulator:
    """One emulated org."""

    def __init__(
        self,
        store_path: str | Path = ":memory:",
        settings: EmulatorSettings | None = None,
        scheme: str = "https",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.settings = settings or EmulatorSettings()
        self.scheme, self.host, self.port = scheme, host, port
        self.store = RecordState(store_path)
        self.schema: Schema = default_schema()
        self.faults = Faults()
        self.journal = Journal()
        self.usage = ApiCounter(0, self.settings.api_max)
        self.records = Records(self)
        self.state = OrgState(self)
        self._cache: dict[Any, Any] = {}
        self._cache_version = -1
        self._cursors: OrderedDict[str, tuple[list[dict[str, Any]], int, str]] = OrderedDict()
        self._cursor_lock = threading.Lock()
        self._persisted_schema = -1
        self._metadata: MetadataService | None = None
        self._catalogs: dict[str, Any] = {}
        self.started = time.time()
        self.schema_changed_at = self.started  # when describe output last changed (If-Modified-Since)
        self._seeded: Any = None
        self._schema_names: set[str] = set()
        self._boot()

    # ------------------------------------------------------------------ lifecycle
    def _boot(self) -> None:
        from sfops.emulator import seed

        meta = self.store.get_json("meta", "org") or {}
        self.ids = ids.IdFactory(start=int(meta.get("id_counter", 1)))
        self.schema = default_schema()
        saved = self.store.get_json("meta", "schema")
        if saved:
            self.schema.load_json(saved)
        self.org_id = meta.get("org_id", "")
        self.usage.set(int(meta.get("api_used", 0)), self.settings.api_max)
        from sfops.emulator.auth import Sessions

        self.sessions = Sessions(self, self.settings.session_seconds)
        if not self.org_id:
            seed.seed(self)
            self._persist_schema()
            self._seeded = self.store.dump()
        else:
            seed.configure_credentials(self)
        self._persist_schema()

    def reset(self) -> None:
        """Forget all data and seed again (POST /__emulator__/reset)."""
        with self.store.lock:
            self.store.clear()
            self.sessions.reset()
            self.faults.clear()
            self.journal.clear()
            set_clock_offset(timedelta(0))
            with self._cursor_lock:
                self._cursors.clear()
            self._metadata = None
            self._catalogs = {}
            self.usage.set(0, self.settings.api_max)
            self._persisted_schema = -1
            if self._seeded is not None:
                self.store.restore(self._seeded)  # same org as a fresh seed, without redeploying
            self._boot()

    def _persist_schema(self) -> None:
        if self.schema.version != self._persisted_schema:
            self.schema_changed_at = time.time()
            names = {o.key for o in self.schema}
            # an object deleted by a deploy takes its rows with it (a later re-create starts empty)
            for gone in self._schema_names - names:
                self.store.drop_object(gone)
            self._schema_names = names
            self.store.put_json("meta", "schema", self.schema.to_json())
            self._persisted_schema = self.schema.version

    def save_meta(self) -> None:
        self.store.put_json(
            "meta", "org", {"org_id": self.org_id, "id_counter": self.ids.peek(), "api_used": self.usage.used}
        )

    # ------------------------------------------------------------------ helpers used by handlers
    @property
    def api_version(self) -> str:
        return f"{LATEST_VERSION}.0"

    def base_url_for(self, req: Request | None = None) -> str:
        host = req.headers.get("host") if req is not None else None
        return f"{self.scheme}://{host or f'{self.host}:{self.port}'}"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def extra_audiences(self) -> list[str]:
        return [self.base_url, f"{self.scheme}://localhost:{self.port}"]

    def new_id(self, key_prefix: str) -> str:
        rid = self.ids.new(key_prefix)
        self.save_meta()
        return rid

    def record(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        found = self.store.get(record_id)
        if found is None or found[0] != sobject.lower():
            return None
        return found[1]

    def org_record(self) -> dict[str, Any]:
        return self.record("Organization", self.org_id) or {}

    def user_by_username(self, username: str) -> dict[str, Any] | None:
        obj = self.schema.get("User")
        rows = self.records.find(obj, "Username", username) if obj else []
        return rows[0] if rows and rows[0].get("IsActive", True) else None

    def admin_user_id(self) -> str:
        user = self.user_by_username(self.settings.admin_username)
        return user["Id"] if user else ""

    def cached(self, key: Any, build: Callable[[], Any]) -> Any:
        """Derived output (describe) cached until the schema changes."""
        if self._cache_version != self.schema.version:
            self._cache = {}
            self._cache_version = self.schema.version
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def catalog(self, tooling: bool) -> Any:
        api = "tooling" if tooling else "data"
        if api not in self._catalogs:
            from sfops.emulator.catalog import StateCatalog

            self._catalogs[api] = StateCatalog(self, api)
        return self._catalogs[api]

    def new_cursor(self, records: list[dict[str, Any]], total: int, entity: str) -> str:
        locator = ids.to15(self.ids.new("01g")) + "IAW"
        with self._cursor_lock:
            self._cursors[locator] = (records, total, entity)
            while len(self._cursors) > 200:
                self._cursors.popitem(last=False)
        return locator

    def cursor(self, locator: str) -> tuple[list[dict[str, Any]], int, str] | None:
        with self._cursor_lock:
            return self._cursors.get(locator)

    def insert_system(self, sobject: str, fields: Mapping[str, Any]) -> str:
        """Create a row bypassing API permissions (ApexLog, ApexClass...), with audit fields."""
        obj = self.schema.get(sobject)
        if obj is None:
            raise KeyError(sobject)
        now = fmt_datetime(now_utc())
        user = self.admin_user_id()
        row: dict[str, Any] = {f.name: (False if f.type == "boolean" else None) for f in obj.fields.values()}
        row.update({"Id": self.new_id(obj.key_prefix or "a00")})
        for name in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
            if obj.field(name):
                row[name] = now
        for name in ("CreatedById", "LastModifiedById", "OwnerId"):
            if obj.field(name):
                row[name] = user
        for key, value in fields.items():
            f = obj.field(key)
            if f is not None:
                row[f.name] = value
        self.store.put(obj.name, row)
        return row["Id"]

    def add_apexlog(self, body: str, fields: Mapping[str, Any] | None = None) -> str:
        """Seed one ApexLog with its body (ApexLog cannot be created through the API)."""
        fields = dict(fields or {})
        start = fields.get("StartTime") or fmt_datetime(now_utc())
        values = {
            "Application": "Unknown",
            "DurationMilliseconds": 100,
            "Location": "Monitoring",
            "LogUserId": self.admin_user_id(),
            "Request": "Api",
            "Status": "Success",
            "Operation": f"/services/data/v{self.api_version}/tooling/executeAnonymous/",
            **fields,
            "StartTime": start,
            "LastModifiedDate": start,
            "SystemModstamp": start,
            "LogLength": len(body.encode("utf-8")),
        }
        rid = self.insert_system("ApexLog", values)
        self.store.put_json("apexlog.body", rid, body)
        return rid

    def write_anonymous_log(self, user_id: str, apex: str, result: Mapping[str, Any]) -> str | None:
        """Execute Anonymous writes a debug log when the user has an active USER_DEBUG/DEVELOPER_LOG flag."""
        now = now_utc()
        from sfops.emulator.values import parse_datetime

        active = False
        for flag in self.store.rows("TraceFlag"):
            if flag.get("TracedEntityId") != user_id or flag.get("IsDeleted"):
                continue
            start = parse_datetime(flag["StartDate"]) if flag.get("StartDate") else now
            end = parse_datetime(flag["ExpirationDate"]) if flag.get("ExpirationDate") else now
            if start <= now < end:
                active = True
        if not active:
            return None
        from sfops.emulator.seed import anonymous_log_body

        body = anonymous_log_body(self, user_id, apex, result, now)
        status = "Success" if result.get("success") else (result.get("exceptionMessage") or "Compile error")
        return self.add_apexlog(
            body,
            {"LogUserId": user_id, "Status": status, "Operation": "/services/data/v64.0/tooling/executeAnonymous/"},
        )

    # ------------------------------------------------------------------ metadata service
    def metadata_service(self) -> MetadataService:
        """The Metadata API of this org (built on first use: most tests never deploy)."""
        if self._metadata is None:
            self._metadata = MetadataService(Host(self))
        return self._metadata

    def metadata_rest(self, req: Request, subpath: str) -> Response:
        status, headers, body = self.metadata_service().handle_rest(
            req.method, subpath, req.query, req.headers, req.body
        )
        return Response(status, body, dict(headers))

    # ------------------------------------------------------------------ dispatch
    def dispatch(self, req: Request) -> Response:
        """Serve one request (faults, auth, API counting, journal, Sforce-Limit-Info).

        An unexpected error becomes Salesforce's 500 UNKNOWN_EXCEPTION body, never a dropped connection."""
        try:
            return self._dispatch(req)
        except Exception as exc:  # a bug in the emulator must still answer like Salesforce does
            error_id = f"{abs(hash((req.path, time.time()))) % 10**10}-{type(exc).__name__}"
            resp = error_response(
                ApiError(
                    500,
                    "UNKNOWN_EXCEPTION",
                    f"An unexpected error occurred. Please include this ErrorId if you contact support: {error_id}",
                )
            )
            self.journal.add(req.method, req.path, "error.unexpected", 500, False)
            return resp

    def _dispatch(self, req: Request) -> Response:
        path = re.sub(r"/{2,}", "/", req.path)
        if len(path) > 1:
            path = path.rstrip("/")
        req.path = path
        if path.startswith("/__emulator__"):
            resp = control.handle(self, req)
            self.journal.add(req.method, path, resp.kind or "control", resp.status, False)
            return resp
        if not req.internal:
            if self.faults.take_drop(req.method, path):
                self.journal.add(req.method, path, "fault.drop", 0, False)
                return Response(0, drop=True)
            delay = self.faults.delay_seconds()
            if delay:
                time.sleep(delay)
        match = ROUTES.match(path, req.method)
        kind = match.route.kind if match else "unknown"
        try:
            rule = None if req.internal else self.faults.take_failure(req.method, path)
            if rule is not None:
                kind = "fault.injected"
                self._count(_is_api_call(path) and not req.internal, req)
                if path.startswith("/services/Soap/"):
                    resp = soap_fault(rule.error_code, rule.message)
                else:
                    resp = error_response(ApiError(rule.status, rule.error_code, rule.message))
            elif match is None:
                raise not_found()
            else:
                resp = match.route.handler(self, req, **match.params)
                kind = resp.kind or kind
        except ApiError as err:
            resp = error_response(err)
        if path.startswith("/services/"):
            resp.headers["Sforce-Limit-Info"] = self.usage.header()
        if not req.internal:
            self._persist_schema()
            self.journal.add(req.method, path, kind, resp.status, req.counted)
            _compress(req, resp)
        return resp

    def soap_metadata(self, req: Request) -> Response:
        """POST /services/Soap/m/NN.0[/...]: the Metadata API (counted as an API call)."""
        if self.usage.exhausted():
            return soap_fault("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        self._count(not req.internal, req)
        status, headers, body = self.metadata_service().handle_soap(req.body, req.headers)
        return Response(status, body, dict(headers))

    def rest_api(
        self, req: Request, version: str, tooling: bool, handler: Handler, params: Mapping[str, str]
    ) -> Response:
        """Authenticate and count a /services/data/vNN.0 request, then run its handler."""
        major = int(float(version))
        if major < OLDEST_VERSION:
            raise retired_version(version)
        if major > LATEST_VERSION:
            raise not_found()
        session = self.sessions.get(auth.bearer_token(req))
        if session is None:
            if not req.internal:
                return error_response(invalid_session(), kind="rest.auth")
            session = auth.Session("internal", self.admin_user_id(), time.time() + 60)
        if not req.internal:
            if self.usage.exhausted():
                return error_response(
                    ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."), kind="rest.limit"
                )
            self._count(True, req)
        ctx = rest.Ctx(
            self.state,
            req,
            version,
            tooling,
            session,
            base_url=self.base_url_for(req),
            dispatch=self.dispatch,
            faults=self.faults,
            metadata=self.metadata_rest,
        )
        return handler(ctx, **params)

    def _count(self, counted: bool, req: Request) -> None:
        if counted:
            req.counted = True
            self.usage.count()
            if self.usage.used % 50 == 0:
                self.save_meta()

    def limit_consumption(self) -> dict[str, int]:
        """How much of the non-API limits the org used: published events, async Apex, data storage."""
        events = len(self.store.list_json("event"))
        jobs = sum(1 for _ in self.store.rows("AsyncApexJob"))
        records = sum(self.store.count(o.name) for o in self.schema if "data" in o.apis and not o.is_event)
        return {
            "HourlyPublishedPlatformEvents": events,
            "DailyStandardVolumePlatformEvents": 0,
            "MonthlyPlatformEventsUsageEntitlement": events,
            "DailyAsyncApexExecutions": jobs,
            "DailyAsyncApexTests": jobs,
            "DataStorageMB": records * 2 // 1024,
        }

    def versions(self) -> list[dict[str, str]]:
        return [
            {"label": version_label(v), "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
            for v in range(OLDEST_VERSION, LATEST_VERSION + 1)
        ]

    # ------------------------------------------------------------------ MetadataHost support
    @contextmanager
    def transaction(self) -> Iterator[None]:
        snapshot = self.schema.copy()
        try:
            with self.store.transaction():
                yield
        except BaseException:
            self.schema.replace_with(snapshot)
            raise

    def now(self) -> datetime:
        return now_utc()


def _is_api_call(path: str) -> bool:
    """REST, Tooling and Metadata calls count against DailyApiRequests; OAuth and SOAP login do not."""
    return path.startswith("/services/data/v") or path.startswith("/services/Soap/m/")


def _compress(req: Request, resp: Response) -> None:
    """gzip the body when the client accepts it, as Salesforce does (REST API guide, "Compression Headers")."""
    if accepts_gzip(req.headers) and resp.body and "Content-Encoding" not in resp.headers:
        resp.body = gzip.compress(resp.body, compresslevel=5)
        resp.headers["Content-Encoding"] = "gzip"


def retired_version(version: str) -> ApiError:
    """REST's answer for a retired API version (410 GONE per the End-of-Life Policy; the body is our guess)."""
    return ApiError(
        410,
        "GONE",
        f"API version {version} is retired and no longer available. Use version {OLDEST_VERSION}.0 or later.",
    )


def _soap_version_gone(version: str) -> Response | None:
    """SOAP's answer for a retired API version: 500 UNSUPPORTED_API_VERSION; None for a live one."""
    try:
        major = int(float(version))
    except ValueError:
        return None
    if major >= OLDEST_VERSION:
        return None
    return soap_fault("UNSUPPORTED_API_VERSION", f"Invalid Api version specified on URL: {version}")


def _rest_route(handler: Handler, tooling: bool) -> Handler:
    def run(emu: Emulator, req: Request, version: str, **params: str) -> Response:
        return emu.rest_api(req, version, tooling, handler, params)

    return run


def _not_found_after_auth(ctx: rest.Ctx, **params: str) -> Response:
    raise not_found()  # an unknown resource under a valid version: 401 first for a bad session, then 404


def _build_routes() -> RouteTable:
    """Every path the emulator serves: pattern -> handler(emu, req, **params), with its journal kind.
    To add a REST or Tooling resource, add a line to `rest.DATA` or `rest.TOOLING` instead."""
    table = RouteTable()
    table.add("/services/oauth2/token", lambda emu, req: auth.oauth_token(emu, req), kind="auth.oauth")
    table.add("/services/oauth2/userinfo", lambda emu, req: auth.userinfo(emu, req), kind="auth.userinfo")
    table.add("/services/oauth2/revoke", lambda emu, req: auth.oauth_revoke(emu, req), kind="auth.revoke")
    table.add(
        "/id/{org_id}/{user_id}",
        lambda emu, req, org_id, user_id: auth.identity(emu, req, org_id, user_id),
        kind="auth.identity",
    )
    table.add(
        "/services/Soap/u/{version}/{rest:path}",
        lambda emu, req, version, rest=None: _soap_version_gone(version) or auth.soap_partner(emu, req, version),
        kind="soap.partner",
    )
    table.add(
        "/services/Soap/m/{version}/{rest:path}",
        lambda emu, req, version, rest=None: _soap_version_gone(version) or emu.soap_metadata(req),
        kind="soap.metadata",
    )
    table.add("/services/data", lambda emu, req: json_response(200, emu.versions()), kind="rest.versions")
    table.add("/cometd/{version}", lambda emu, req, version: cometd.handle(emu, req, version), kind="streaming.cometd")
    for api, prefix, sub in (("tooling", "/tooling", rest.TOOLING), ("rest", "", rest.DATA)):
        for route in sub.routes:
            pattern = f"/services/data/{{version:version}}{prefix}" + (f"/{route.pattern}" if route.pattern else "")
            table.add(
                pattern,
                _rest_route(route.handler, api == "tooling"),
                kind=f"{api}.{route.kind}" if route.kind else "rest",
                methods=route.methods,
            )
    table.add("/services/data/{version:version}/{rest:path}", _rest_route(_not_found_after_auth, False), kind="unknown")
    return table


ROUTES = _build_routes()
