"""Authentication: the five ways sfops obtains an access token, and the cache that holds it.

Modes (OrgConfig.auth):
- sfcli: reuse an org authorised with the Salesforce CLI (`sf org display` +
  `sf org auth show-access-token`, argv lists, never a shell); cached with a TTL.
- jwt: OAuth 2.0 JWT bearer (RS256, consumer key + private key file + username).
- password: SOAP partner `login` with username + password + security token.
- client_credentials: OAuth client credentials (consumer key + secret).
- token: a given access token + instance URL; cannot be refreshed.

Secrets come only from `OrgConfig.secret(name)` (environment / .env) and never appear in
reprs, logs or error messages.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import jwt
import requests

from sfops.config import OrgConfig
from sfops.errors import AuthError, ConfigError, SessionExpiredError, SfopsError
from sfops.salesforce.faults import error_from_response, parse_soap_fault, parse_xml
from sfops.salesforce.redact import mask_token, redact

log = logging.getLogger(__name__)

SF_CLI_TOKEN_TTL = 15 * 60.0
SF_CLI_TIMEOUT = 120.0
JWT_LIFETIME = 180


@dataclass(frozen=True)
class Credentials:
    """An access token and where to use it, plus what the login told us about the user."""

    access_token: str = field(repr=False)
    instance_url: str
    id_url: str | None = None
    org_id: str | None = None
    user_id: str | None = None
    username: str | None = None

    def __repr__(self) -> str:
        return (
            f"Credentials(access_token={mask_token(self.access_token)!r}, "
            f"instance_url={self.instance_url!r}, org_id={self.org_id!r}, username={self.username!r})"
        )


class Authenticator(Protocol):
    """Obtains fresh credentials. `ttl` (seconds) makes the cache re-fetch proactively."""

    mode: str
    ttl: float | None
    can_refresh: bool

    def fetch(self, session: requests.Session) -> Credentials: ...


def _post_auth(session: requests.Session, url: str, **kwargs: Any) -> requests.Response:
    """POST to a login endpoint: no bearer token, no re-auth, retried on transient failures."""
    return session.request("POST", url, sfops_auth=True, sfops_idempotent=True, **kwargs)  # type: ignore[call-arg]


def _oauth_credentials(response: requests.Response, what: str, secret: str | None = None) -> Credentials:
    if response.status_code != 200:
        error = error_from_response(response)
        raise AuthError(
            redact(f"{what} failed: {error.message}", secret), data={"status": response.status_code}
        ) from None
    try:
        body = response.json()
        token, instance = body["access_token"], body["instance_url"]
    except (ValueError, KeyError, TypeError):
        raise AuthError(f"{what} failed: the token endpoint answered without access_token/instance_url.") from None
    org_id = user_id = None
    id_url = body.get("id")
    if id_url:
        parts = urlsplit(id_url).path.rstrip("/").split("/")
        if len(parts) >= 2 and parts[-2].startswith("00D"):
            org_id, user_id = parts[-2], parts[-1]
    return Credentials(
        access_token=token, instance_url=instance.rstrip("/"), id_url=id_url, org_id=org_id, user_id=user_id
    )


def _require(config: OrgConfig, *names: str) -> None:
    missing = [n for n in names if not getattr(config, n)]
    if missing:
        raise ConfigError(
            f"Org '{config.alias}' (auth = {config.auth}) needs {', '.join(missing)} in its [orgs.*] table."
        )


def _require_secret(config: OrgConfig, name: str) -> str:
    value = config.secret(name)
    if not value:
        raise ConfigError(
            f"Org '{config.alias}' (auth = {config.auth}) needs the {name.replace('_', ' ')}: "
            f"set {config.secret_variable(name)} in the environment or .env."
        )
    return value


def _token_url(config: OrgConfig) -> str:
    return config.login_url.rstrip("/") + "/services/oauth2/token"


class StaticTokenAuth:
    """auth = token: an access token and instance URL given by the user; no refresh possible."""

    mode: str = "token"
    ttl: float | None = None
    can_refresh: bool = False

    def __init__(self, config: OrgConfig) -> None:
        _require(config, "instance_url")
        self.config = config
        self.token = _require_secret(config, "access_token")
        self._used = False

    def fetch(self, session: requests.Session) -> Credentials:
        if self._used:
            raise SessionExpiredError(
                f"The access token for org '{self.config.alias}' was rejected (expired or revoked), and "
                "auth = token cannot refresh it. Set a fresh token in "
                f"{self.config.secret_variable('access_token')}, or use auth = sfcli, jwt, password or "
                "client_credentials.",
                error_code="INVALID_SESSION_ID",
                status=401,
            )
        self._used = True
        return Credentials(access_token=self.token, instance_url=str(self.config.instance_url).rstrip("/"))


_SANDBOX_HOST_SUFFIXES = (".sandbox.my.salesforce.com", ".scratch.my.salesforce.com")


def jwt_audience(login_url: str) -> str:
    """The JWT `aud` for a login URL.

    Salesforce accepts only https://login.salesforce.com (production, developer), https://test.salesforce.com
    (sandbox, scratch) or an Experience Cloud site URL as audience, even when the token is requested
    from a My Domain URL (simple-salesforce PR #711, forcedotcom/cli#3325: "audience is invalid").
    Any other authorization server is identified by its own login URL.
    """
    parts = urlsplit(login_url.rstrip("/"))
    host = (parts.hostname or "").lower()
    if parts.path not in ("", "/"):
        return login_url.rstrip("/")  # an Experience Cloud site, e.g. https://acme.force.com/customers
    if host == "test.salesforce.com" or host.endswith(_SANDBOX_HOST_SUFFIXES):
        return "https://test.salesforce.com"
    if host == "salesforce.com" or host.endswith((".salesforce.com", ".force.com")):
        return "https://login.salesforce.com"
    return login_url.rstrip("/")


class JwtAuth:
    """auth = jwt: OAuth 2.0 JWT bearer flow, a new RS256 assertion for every token."""

    mode: str = "jwt"
    ttl: float | None = None
    can_refresh: bool = True

    def __init__(self, config: OrgConfig, clock: Callable[[], float] = time.time) -> None:
        _require(config, "client_id", "username", "private_key_file")
        self.config, self.clock = config, clock
        path = Path(str(config.private_key_file)).expanduser()
        try:
            self.private_key = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"Org '{config.alias}': cannot read private_key_file {path}: {exc.strerror}.") from None

    def assertion(self) -> str:
        """The signed JWT: iss = consumer key, sub = username, aud = `jwt_audience(login_url)`,
        exp = now + 3 min."""
        claims = {
            "iss": self.config.client_id,
            "sub": self.config.username,
            "aud": jwt_audience(self.config.login_url),
            "exp": int(self.clock()) + JWT_LIFETIME,
        }
        try:
            return jwt.encode(claims, self.private_key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise ConfigError(
                f"Org '{self.config.alias}': private_key_file is not a usable RSA private key ({type(exc).__name__})."
            ) from None

    def fetch(self, session: requests.Session) -> Credentials:
        response = _post_auth(
            session,
            _token_url(self.config),
            data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": self.assertion()},
        )
        creds = _oauth_credentials(response, f"JWT bearer login for {self.config.username}")
        return _with_username(creds, self.config.username)


class ClientCredentialsAuth:
    """auth = client_credentials: OAuth client credentials flow (runs as the app's execution user)."""

    mode: str = "client_credentials"
    ttl: float | None = None
    can_refresh: bool = True

    def __init__(self, config: OrgConfig) -> None:
        _require(config, "client_id")
        self.config = config
        self.secret = _require_secret(config, "client_secret")

    def fetch(self, session: requests.Session) -> Credentials:
        response = _post_auth(
            session,
            _token_url(self.config),
            data={"grant_type": "client_credentials", "client_id": self.config.client_id, "client_secret": self.secret},
        )
        return _oauth_credentials(response, f"Client credentials login to {self.config.login_url}", self.secret)


_LOGIN_ENVELOPE = """<?xml version="1.0" encoding="utf-8"?>
<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">
  <env:Body>
    <urn:login>
      <urn:username>{username}</urn:username>
      <urn:password>{password}</urn:password>
    </urn:login>
  </env:Body>
</env:Envelope>"""


class PasswordAuth:
    """auth = password: SOAP partner login with username + password + security token."""

    mode: str = "password"
    ttl: float | None = None
    can_refresh: bool = True

    def __init__(self, config: OrgConfig) -> None:
        _require(config, "username")
        self.config = config
        self.password = _require_secret(config, "password")
        self.security_token = config.secret("security_token") or ""

    def fetch(self, session: requests.Session) -> Credentials:
        version = self.config.api_version
        url = f"{self.config.login_url.rstrip('/')}/services/Soap/u/{version}"
        body = _LOGIN_ENVELOPE.format(
            username=escape(str(self.config.username)), password=escape(self.password + self.security_token)
        )
        response = _post_auth(
            session,
            url,
            data=body.encode("utf-8"),
            headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "login"},
        )
        fault = parse_soap_fault(response.content) if response.content.lstrip().startswith(b"<") else None
        if fault:
            raise AuthError(
                redact(
                    f"Login for {self.config.username} failed: {fault[0]}: {fault[1]}",
                    self.password,
                    self.security_token,
                )
            )
        if response.status_code != 200:
            raise AuthError(
                redact(
                    f"Login for {self.config.username} failed: {error_from_response(response).message}", self.password
                )
            )
        values = soap_values(response.content)
        if not values.get("sessionId") or not values.get("serverUrl"):
            raise AuthError(f"Login for {self.config.username} failed: no sessionId/serverUrl in the answer.")
        return Credentials(
            access_token=values["sessionId"],
            instance_url=_instance_of(values["serverUrl"]),
            org_id=values.get("organizationId"),
            user_id=values.get("userId"),
            username=values.get("userName") or self.config.username,
        )


def soap_values(content: bytes) -> dict[str, str]:
    """Leaf values of a SOAP answer by local name (first occurrence wins)."""
    out: dict[str, str] = {}
    for el in parse_xml(content, "SOAP login").iter():
        name = el.tag.rsplit("}", 1)[-1]
        if len(el) == 0 and name not in out:
            out[name] = (el.text or "").strip()
    return out


def _instance_of(server_url: str) -> str:
    """scheme://host[:port] of a SOAP serverUrl; `na12-api.salesforce.com` -> `na12.salesforce.com`
    (the API host alias that older logins return, as simple-salesforce also strips)."""
    parts = urlsplit(server_url)
    host, _, port = parts.netloc.partition(":")
    first, dot, rest = host.partition(".")
    if first.endswith("-api"):
        host = first[:-4] + dot + rest
    return f"{parts.scheme}://{host}{':' + port if port else ''}"


def _with_username(creds: Credentials, username: str | None) -> Credentials:
    if creds.username or not username:
        return creds
    return Credentials(
        access_token=creds.access_token,
        instance_url=creds.instance_url,
        id_url=creds.id_url,
        org_id=creds.org_id,
        user_id=creds.user_id,
        username=username,
    )


class SfCliAuth:
    """auth = sfcli: an org already authorised with the Salesforce CLI.

    Runs `sf org display --target-org X --json` (instance URL, username, org id) and, because
    recent CLIs redact the token there, `sf org auth show-access-token --target-org X --json`.
    Both refresh the CLI's auth first. The binary is `$SFOPS_SF_BIN` or `sf` on PATH.
    """

    mode, can_refresh = "sfcli", True

    def __init__(self, config: OrgConfig, env: Mapping[str, str] | None = None, ttl: float = SF_CLI_TOKEN_TTL) -> None:
        self.config = config
        self.env = dict(os.environ if env is None else env)
        self.binary = self.env.get("SFOPS_SF_BIN") or "sf"
        self.target = config.sf_alias or config.alias
        self.ttl: float | None = ttl

    def _run(self, *args: str) -> dict[str, Any]:
        argv = [self.binary, *args, "--target-org", self.target, "--json"]
        env = {**self.env, "SF_DISABLE_TELEMETRY": "true", "SF_AUTOUPDATE_DISABLE": "true"}
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=SF_CLI_TIMEOUT, env=env, check=False)
        except FileNotFoundError:
            raise AuthError(
                f"The Salesforce CLI '{self.binary}' was not found. Install it "
                "(npm install -g @salesforce/cli) or set SFOPS_SF_BIN to its path."
            ) from None
        except subprocess.TimeoutExpired:
            raise AuthError(f"'{self.binary} {' '.join(args)}' did not answer within {SF_CLI_TIMEOUT:.0f} s.") from None
        except OSError as exc:
            raise AuthError(f"Cannot run the Salesforce CLI '{self.binary}': {exc.strerror}.") from None
        body = _json_object(proc.stdout)
        if proc.returncode != 0 or not isinstance(body, dict) or body.get("status", 0) != 0:
            message = (body or {}).get("message") if isinstance(body, dict) else None
            detail = message or (proc.stderr or proc.stdout or "").strip()[:300] or f"exit {proc.returncode}"
            raise AuthError(
                redact(f"'sf {' '.join(args)} --target-org {self.target}' failed: {detail}"),
                actions=[f"sf org login web --alias {self.target}"],
            )
        result = body.get("result")
        if not isinstance(result, dict):
            raise AuthError(f"'sf {' '.join(args)}' answered without a result object.")
        return result

    def fetch(self, session: requests.Session) -> Credentials:
        shown = self._run("org", "display")
        instance = shown.get("instanceUrl")
        if not instance:
            raise AuthError(f"'sf org display' gave no instanceUrl for '{self.target}'.")
        token = shown.get("accessToken") or ""
        if not token or token.startswith("[REDACTED"):
            token = self._run("org", "auth", "show-access-token").get("accessToken") or ""
        if not token or token.startswith("[REDACTED"):
            raise AuthError(f"The Salesforce CLI gave no access token for '{self.target}'.")
        log.debug("sf CLI token for %s: %s", self.target, mask_token(token))
        return Credentials(
            access_token=token,
            instance_url=str(instance).rstrip("/"),
            org_id=shown.get("id"),
            username=shown.get("username"),
        )


def _json_object(text: str) -> dict[str, Any] | None:
    """The JSON envelope a CLI printed, tolerating other lines (update notices, warnings) around it."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict) and ("status" in value or "result" in value):
            return value
        start = text.find("{", start + 1)
    return None


def make_authenticator(config: OrgConfig, env: Mapping[str, str] | None = None) -> Authenticator:
    """The authenticator for `config.auth`."""
    if config.auth == "sfcli":
        return SfCliAuth(config, env)
    if config.auth == "jwt":
        return JwtAuth(config)
    if config.auth == "password":
        return PasswordAuth(config)
    if config.auth == "client_credentials":
        return ClientCredentialsAuth(config)
    if config.auth == "token":
        return StaticTokenAuth(config)
    raise ConfigError(f"Org '{config.alias}': unknown auth mode '{config.auth}'.")


class TokenManager:
    """Holds the current credentials; fetches on first use, after the TTL, and on `refresh()`."""

    def __init__(
        self,
        authenticator: Authenticator,
        session: requests.Session,
        clock: Callable[[], float] = time.monotonic,
        failure_memory: float = 300.0,
    ) -> None:
        self.authenticator, self.session, self.clock = authenticator, session, clock
        self.failure_memory = failure_memory  # seconds a failed login is remembered (a long-lived agent retries)
        self._failed_at = 0.0
        self._creds: Credentials | None = None
        self._fetched_at = 0.0
        self._lock = threading.RLock()
        self.listeners: list[Callable[[Credentials], None]] = []
        self.fetch_count = 0
        self.failed_logins = 0
        self._failure: SfopsError | None = None

    def __repr__(self) -> str:
        return f"TokenManager(mode={self.authenticator.mode!r}, credentials={self._creds!r})"

    def current(self) -> Credentials:
        """Valid-looking credentials, fetching them if none or the TTL has passed."""
        with self._lock:
            ttl = self.authenticator.ttl
            if self._creds is None or (ttl is not None and self.clock() - self._fetched_at >= ttl):
                self._fetch()
            assert self._creds is not None
            return self._creds

    def refresh(self, stale_token: str | None = None) -> Credentials:
        """Fetch new credentials (after a 401); raises SessionExpiredError where impossible.

        With `stale_token` (the token that was rejected), a refresh that another thread already
        did is reused instead of logging in twice.
        """
        with self._lock:
            if stale_token is not None and self._creds is not None and self._creds.access_token != stale_token:
                return self._creds
            self._fetch()
            assert self._creds is not None
            return self._creds

    def _fetch(self) -> None:
        # One login attempt per TokenManager (per command) after a failure: a rejected password or a
        # login that timed out is not tried again by every later request. Salesforce locks a user out
        # after 3 to 10 failed logins, and a command making one request per record would get there.
        if self._failure is not None and self.clock() - self._failed_at < self.failure_memory:
            again = copy.copy(self._failure)
            again.message = f"{self._failure.message} (not tried again: one login attempt per run after a failure)"
            again.args = (again.message,)
            raise again from None
        try:
            creds = self.authenticator.fetch(self.session)
        except SfopsError as exc:
            self.failed_logins += 1
            self._failure, self._failed_at = exc, self.clock()
            raise
        except requests.RequestException as exc:
            self.failed_logins += 1
            self._failure, self._failed_at = (
                AuthError(redact(f"Login failed: {type(exc).__name__}: {exc}")),
                self.clock(),
            )
            raise self._failure from None
        self._failure = None
        self.fetch_count += 1
        self._creds, self._fetched_at = creds, self.clock()
        for listener in self.listeners:
            listener(creds)
