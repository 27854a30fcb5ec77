"""The live web console: org overview, incident pages and analytics, served by `sfops agent run --listen`
or `sfops console --listen`, and the page builders the static export (`sfops dashboard`) shares.

Read-only by default. Write actions (acknowledge or resolve an incident, flip a kill switch) exist only
with `[console] writes = true` AND a token in `SFOPS_CONSOLE_TOKEN`: a user signs in with the token
(a session cookie: HttpOnly, SameSite=Strict), every form carries a CSRF token bound to the session
and checked on POST (together with the Origin header when the browser sends one), production orgs
need the alias typed as confirmation, and each action calls the same domain function as the CLI, so
it leaves the same audit record / incident timeline entry (actor "<actor> (console)").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from sfops.config import Settings
from sfops.errors import ConfigError, SfopsError
from sfops.store import Store, agent_status, console_reads
from sfops.web import data, pages
from sfops.web.pages import Forms, Links
from sfops.web.server import Request, Response

TOKEN_ENV = "SFOPS_CONSOLE_TOKEN"  # noqa: S105 -- the variable's name, not a secret
SESSION_COOKIE = "sfops_console"
SESSION_SECONDS = 8 * 3600
Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class ConsoleConfig:
    """`[console]` in sfops.toml: `writes` (default false) and `switch_cache_seconds` (default 60)."""

    writes: bool = False
    switch_cache_seconds: int = 60

    @classmethod
    def from_settings(cls, settings: Settings) -> ConsoleConfig:
        section = settings.section("console")
        where = f"[console] in {settings.config_path}"
        unknown = sorted(set(section) - {"writes", "switch_cache_seconds"})
        if unknown:
            raise ConfigError(
                f"{where}: unknown key(s) {', '.join(unknown)}. Valid keys: writes, switch_cache_seconds."
            )
        writes = section.get("writes", False)
        if not isinstance(writes, bool):
            raise ConfigError(f"{where}: writes must be true or false.")
        ttl = section.get("switch_cache_seconds", 60)
        if not isinstance(ttl, int) or isinstance(ttl, bool) or not 0 <= ttl <= 3600:
            raise ConfigError(f"{where}: switch_cache_seconds must be an integer from 0 to 3600.")
        return cls(writes=writes, switch_cache_seconds=ttl)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Console:
    """What the pages read from and act on."""

    store: Store
    settings: Settings
    orgs: tuple[str, ...]
    get_org: Callable[[str], Any] | None
    actor: str
    config: ConsoleConfig = field(default_factory=ConsoleConfig)
    clock: Clock = _utcnow
    leading: Callable[[], dict[str, bool]] | None = None
    switches: data.SwitchCache = field(init=False)

    def __post_init__(self) -> None:
        self.switches = data.SwitchCache(self.get_org, ttl=self.config.switch_cache_seconds)

    def production(self) -> frozenset[str]:
        known = self.settings.orgs
        return frozenset(alias for alias in self.orgs if alias in known and known[alias].production)

    # -- pages (shared with the static export) -----------------------------------------------------
    def index_body(self, links: Links) -> str:
        names = [f"agent:{o}" for o in self.orgs]
        now = self.clock()
        leaders = {
            r["name"][len("agent:") :]: r["holder"]
            for r in agent_status.lease_rows(self.store, names)
            if r["expires_at"] > now
        }
        counts: dict[str, dict[str, int]] = {o: {} for o in self.orgs}
        for org, sev, n in agent_status.open_incident_counts(self.store, self.orgs, data.OPEN):
            counts[org][sev] = n
        from sfops.agent.runs import last_runs

        failed: dict[str, list[str]] = {o: [] for o in self.orgs}
        for (org, job), run in sorted(last_runs(self.store, list(self.orgs)).items()):
            if run.outcome == "failed":
                failed[org].append(job)
        rows = [{"org": o, "leader": leaders.get(o), "open": counts[o], "failed_jobs": failed[o]} for o in self.orgs]
        return pages.index_page(rows, links)

    def org_body(self, alias: str, links: Links, forms: Forms | None) -> str:
        from sfops.agent.runs import last_runs

        now = self.clock()
        leader = None
        for row in agent_status.lease_rows(self.store, [f"agent:{alias}"]):
            leader = row["holder"] if row["expires_at"] > now else None
        details = agent_status.latest_details(self.store, [alias], "breaker-sync").get(alias)
        breakers = details.get("states") if isinstance(details, dict) and "states" in details else None
        jobs = [
            {
                "job": job,
                "started_at": r.started_at,
                "outcome": r.outcome,
                "summary": r.summary,
                "error": r.error,
                "holder": r.holder,
            }
            for (org, job), r in sorted(last_runs(self.store, [alias]).items())
        ]
        return pages.org_page(
            alias,
            production=alias in self.production(),
            leader=leader,
            switches=self.switches.values(alias, self.store),
            breakers=breakers,
            open_incidents=console_reads.incidents_by_status(self.store, alias, data.OPEN),
            limits=data.limit_lines(self.store, alias, now),
            failures=data.failure_groups(self.store, alias, now),
            jobs=jobs,
            links=links,
            forms=forms,
            recent=console_reads.recent_incidents(self.store, alias, 10),
        )

    def incident_body(self, alias: str, ref: str, links: Links, forms: Forms | None) -> str | None:
        from sfops.incidents import postmortem, records

        incident = records.load_incident(self.store, alias, ref)
        if incident is None:
            return None
        timeline = records.timeline(self.store, incident)
        changes = [
            c
            for ref_ in {incident.id, incident.id[:15], *([incident.name] if incident.name else [])}
            for c in self.store.audit_history(incident_id=ref_, limit=200)
        ]
        changes.sort(key=lambda c: c.at)
        from sfops.store import notifications

        return pages.incident_page(
            incident,
            timeline=timeline,
            notifications=notifications.outbox_rows(self.store, alias, incident_id=incident.id),
            changes=changes,
            postmortem=postmortem.draft(incident, timeline),
            links=links,
            forms=forms,
        )

    def analytics_body(self, alias: str | None, period: str, bucket: str, links: Links) -> str:
        aliases = [alias] if alias else list(self.orgs)
        figures = data.analytics(self.store, aliases, period, bucket, self.clock())
        return pages.analytics_page(figures, self.orgs, alias, links)

    def page(
        self,
        title: str,
        body: str,
        links: Links,
        *,
        signed_in: bool | None = None,
        message: str | None = None,
        error: str | None = None,
    ) -> str:
        return pages.layout(
            title, body, links, generated=self.clock(), signed_in=signed_in, message=message, error=error
        )


class Sessions:
    """Signed-in console sessions (in memory: a restart signs everyone out) and their CSRF tokens."""

    def __init__(self, token: str | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.token = token
        self.clock = clock
        self._secret = secrets.token_bytes(32)
        self._sessions: dict[str, float] = {}
        self._lock = threading.Lock()

    def check_token(self, offered: str) -> bool:
        return bool(self.token) and hmac.compare_digest(offered.encode(), (self.token or "").encode())

    def open(self) -> str:
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[sid] = self.clock() + SESSION_SECONDS
        return sid

    def close(self, sid: str | None) -> None:
        with self._lock:
            self._sessions.pop(sid or "", None)

    def valid(self, sid: str | None) -> bool:
        if not sid:
            return False
        with self._lock:
            expires = self._sessions.get(sid)
            if expires is None or expires < self.clock():
                self._sessions.pop(sid, None)
                return False
        return True

    def csrf(self, sid: str) -> str:
        return hmac.new(self._secret, sid.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, sid: str, offered: str | None) -> bool:
        return bool(offered) and hmac.compare_digest(self.csrf(sid), offered or "")


def _same_origin(request: Request) -> bool:
    """False only when the browser says the request comes from another origin."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin != "null"
    return urlsplit(origin).netloc == (request.headers.get("Host") or "")


def _redirect(location: str, **headers: str) -> Response:
    return Response(303, b"", "text/plain; charset=utf-8", {"Location": location, **headers})


def console_handler(console: Console, environ: Mapping[str, str] | None = None) -> Callable[[Request], Response]:
    """The console's request handler (GET pages; POST sign-in and write actions when enabled)."""
    env = console.settings.env if environ is None else environ
    token = env.get(TOKEN_ENV) or None
    writes = console.config.writes and token is not None
    sessions = Sessions(token if writes else None)
    links = Links()

    def signed_in(request: Request) -> str | None:
        sid = request.cookie(SESSION_COOKIE)
        return sid if writes and sessions.valid(sid) else None

    def forms_for(sid: str | None) -> Forms | None:
        return Forms(sessions.csrf(sid), console.production()) if sid else None

    def html_page(status: int, title: str, body: str, request: Request, **flash: str | None) -> Response:
        state = (signed_in(request) is not None) if writes else None
        return Response.html(
            status,
            console.page(title, body, links, signed_in=state, **flash),
            **{
                "Cache-Control": "no-store",
                "Referrer-Policy": "same-origin",
                "X-Frame-Options": "DENY",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                "img-src data:; form-action 'self'",
            },
        )

    def not_found(request: Request, what: str) -> Response:
        return html_page(404, "Not found", f"<h1>Not found</h1><p>{pages.e(what)}</p>", request)

    def get(request: Request) -> Response:
        parts = [unquote(p) for p in request.path.strip("/").split("/")] if request.path != "/" else []
        sid = signed_in(request)
        message, error = request.arg("msg"), request.arg("err")
        if not parts:
            return html_page(200, "sfops - orgs", console.index_body(links), request, message=message)
        if parts == ["analytics"]:
            org = request.arg("org") or None
            period = request.arg("period") or "90d"
            bucket = request.arg("bucket") or "month"
            if (org and org not in console.orgs) or period not in data.PERIODS or bucket not in ("week", "month"):
                return html_page(400, "Bad filter", "<h1>Unknown org, period or bucket</h1>", request)
            return html_page(
                200,
                f"sfops analytics - {org or 'all orgs'}",
                console.analytics_body(org, period, bucket, links),
                request,
            )
        if len(parts) == 2 and parts[0] == "org" and parts[1] in console.orgs:
            return html_page(
                200,
                f"sfops - {parts[1]}",
                console.org_body(parts[1], links, forms_for(sid)),
                request,
                message=message,
                error=error,
            )
        if len(parts) == 3 and parts[0] == "incident" and parts[1] in console.orgs:
            body = console.incident_body(parts[1], parts[2], links, forms_for(sid))
            if body is None:
                return not_found(request, f"No incident {parts[2]} in {parts[1]}.")
            return html_page(200, f"sfops incident {parts[2]}", body, request, message=message, error=error)
        if parts == ["login"] and writes:
            return html_page(
                200,
                "sfops - sign in",
                '<h1>Sign in</h1><form method="post" action="/login">'
                '<label>Console token <input type="password" name="token" autocomplete="off"></label> '
                '<button type="submit">Sign in</button></form>',
                request,
                error=error,
            )
        return not_found(request, request.path)

    def post(request: Request) -> Response:
        if not writes:
            return Response.text(
                403, f"The console is read-only: enable [console] writes and set {TOKEN_ENV} to allow write actions.\n"
            )
        if not _same_origin(request):
            return Response.text(403, "Cross-origin request refused.\n")
        form = request.form()
        if request.path == "/login":
            if not sessions.check_token(form.get("token", "")):
                return _redirect("/login?err=" + quote("Wrong token."))
            new_sid = sessions.open()
            return _redirect("/", **{"Set-Cookie": f"{SESSION_COOKIE}={new_sid}; HttpOnly; SameSite=Strict; Path=/"})
        sid = signed_in(request)
        if sid is None:
            return Response.text(401, "Sign in first (POST /login with the console token).\n")
        if not sessions.csrf_ok(sid, form.get("csrf")):
            return Response.text(403, "Missing or wrong CSRF token; reload the page and try again.\n")
        if request.path == "/logout":
            sessions.close(sid)
            return _redirect("/", **{"Set-Cookie": f"{SESSION_COOKIE}=; Max-Age=0; Path=/"})
        parts = [unquote(p) for p in request.path.strip("/").split("/")]
        if len(parts) >= 3 and parts[0] in ("org", "incident") and parts[1] in console.orgs:
            alias = parts[1]
            back = links.org(alias) if parts[0] == "org" else links.incident(alias, parts[2])
            if alias in console.production() and form.get("confirm", "").strip() != alias:
                return html_page(
                    409,
                    "Confirm",
                    f"<h1>{pages.e(alias)} is a production org</h1><p>Type the "
                    "org alias in the confirmation box to do this. Nothing was changed.</p>"
                    f'<p><a href="{pages.e(back)}">Back</a></p>',
                    request,
                )
            try:
                message = _act(console, parts, form)
            except SfopsError as exc:
                return _redirect(f"{back}?err={quote(exc.message)}")
            return _redirect(f"{back}?msg={quote(message)}")
        return not_found(request, request.path)

    def handle(request: Request) -> Response:
        if request.method == "POST":
            return post(request)
        return get(request)

    return handle


def _act(console: Console, parts: Sequence[str], form: Mapping[str, str]) -> str:
    """Run one write action with the CLI's domain functions; a one-line message for the flash."""
    from sfops.errors import UsageError

    if console.get_org is None:
        raise UsageError("No org connection: write actions need the live console.")
    alias, actor = parts[1], f"{console.actor} (console)"
    if parts[0] == "org" and parts[2:] == ["switch"]:
        from sfops.switches import flip

        name, value, reason = form.get("switch", ""), form.get("value"), form.get("reason", "").strip()
        if value not in ("on", "off") or not name:
            raise UsageError("Choose a switch and on or off.")
        if not reason:
            raise UsageError("A reason is required (it goes into the audit record).")
        result = flip(console.get_org(alias), console.store, {name: value == "on"}, actor=actor, reason=reason)
        console.switches.forget(alias)
        return f"{name} turned {value} ({len(result.audit_ids)} audit record(s))."
    if parts[0] == "incident" and len(parts) == 4 and parts[3] in ("ack", "resolve"):
        from sfops.incidents.wiring import build

        incidents = build(
            console.settings, console.get_org(alias), console.store, alias=alias, actor=actor, strict=False
        )
        if parts[3] == "ack":
            outcome = incidents.service.acknowledge(parts[2], note=form.get("note") or None)
        else:
            outcome = incidents.service.resolve(
                parts[2], resolution=form.get("resolution", ""), root_cause=form.get("root_cause") or None
            )
        return f"{outcome.incident.ref}: {outcome.previous.value} -> {outcome.incident.status.value}."
    raise UsageError("Unknown action.")
