"""Authentication: sessions, the OAuth token endpoint (password, refresh_token, client_credentials,
JWT bearer), SOAP partner login, userinfo and the identity URL.

Credentials live in the emulator state: users' passwords under kind "credential" (keyed by lower-case
username), connected apps under kind "connected_app" (client_id -> secret and optional PEM certificate
for JWT). Access tokens look like Salesforce's: "<15-char org id>!<random>".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import jwt
from cryptography import x509
from defusedxml import ElementTree

from sfops.emulator import ids
from sfops.emulator.wire import XML_TYPE, Request, Response, json_response, soap_fault

if TYPE_CHECKING:
    from sfops.emulator.app import Emulator

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LOGIN_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


@dataclass
class Session:
    """One access token."""

    token: str
    user_id: str
    expires: float
    app: str | None = None


class Sessions:
    """Live access tokens and refresh tokens (persisted so a restart keeps them)."""

    def __init__(self, emu: Emulator, lifetime: float = 7200.0) -> None:
        self.emu = emu
        self.lifetime = lifetime
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {k: Session(**v) for k, v in emu.store.list_json("session").items()}

    def create(self, user_id: str, app: str | None = None) -> Session:
        token = ids.to15(self.emu.org_id) + "!" + secrets.token_urlsafe(72)
        session = Session(token, user_id, time.time() + self.lifetime, app)
        with self._lock:
            self._sessions[token] = session
        self.emu.store.put_json("session", token, vars(session))
        return session

    def get(self, token: str | None) -> Session | None:
        """The live session for a token (None when unknown or expired)."""
        if not token:
            return None
        with self._lock:
            session = self._sessions.get(token)
        if session is None or session.expires <= time.time():
            return None
        return session

    def expire_all(self) -> int:
        """Expire every session (new logins still work). Returns how many were live."""
        now = time.time()
        with self._lock:
            live = [s for s in self._sessions.values() if s.expires > now]
            for s in live:
                s.expires = now - 1
        for s in live:
            self.emu.store.put_json("session", s.token, vars(s))
        return len(live)

    def revoke(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(token, None)
        self.emu.store.delete_json("session", token)

    def new_refresh_token(self, user_id: str, app: str | None) -> str:
        token = ids.to15(self.emu.org_id) + "!" + secrets.token_urlsafe(48)
        self.emu.store.put_json("refresh_token", token, {"user_id": user_id, "app": app})
        return token

    def reset(self) -> None:
        with self._lock:
            self._sessions.clear()


def bearer_token(req: Request) -> str | None:
    """The token from `Authorization: Bearer|OAuth <token>` (None when absent)."""
    auth = req.headers.get("authorization", "")
    parts = auth.split(None, 1)
    if len(parts) == 2 and parts[0].lower() in ("bearer", "oauth"):
        return parts[1].strip()
    return None


# ---------------------------------------------------------------------------- credentials


def check_password(emu: Emulator, username: str, password: str) -> dict[str, Any] | None:
    """The active User row when `password` (optionally followed by the security token) is right."""
    cred = emu.state.credential(username)
    if not cred:
        return None
    good = cred["password"]
    token = cred.get("security_token") or ""
    if not (hmac.compare_digest(password, good) or (token and hmac.compare_digest(password, good + token))):
        return None
    return emu.state.user_by_username(username)


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return json_response(status, {"error": error, "error_description": description})


def _token_body(
    emu: Emulator, req: Request, session: Session, extra: dict[str, Any] | None = None, secret: str | None = None
) -> dict[str, Any]:
    base = emu.base_url_for(req)
    issued = str(int(time.time() * 1000))
    ident = f"{base}/id/{emu.org_id}/{session.user_id}"
    key = (secret or "emulator").encode()
    signature = base64.b64encode(hmac.new(key, (ident + issued).encode(), hashlib.sha256).digest()).decode()
    body = {
        "access_token": session.token,
        "instance_url": base,
        "id": ident,
        "token_type": "Bearer",
        "issued_at": issued,
        "signature": signature,
    }
    body.update(extra or {})
    return body


def oauth_token(emu: Emulator, req: Request) -> Response:
    """POST /services/oauth2/token."""
    if req.method != "POST":
        return _oauth_error("invalid_request", "must use HTTP POST", 400)
    form = {k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()}
    form.update({k: v for k, v in req.query.items() if k not in form})
    grant = form.get("grant_type", "")
    client_id = form.get("client_id", "")
    app = emu.state.connected_app(client_id) if client_id else None
    if grant == "password":
        if app is None:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if app.get("client_secret") and not hmac.compare_digest(form.get("client_secret", ""), app["client_secret"]):
            return _oauth_error("invalid_client", "invalid client credentials")
        user = check_password(emu, form.get("username", ""), form.get("password", ""))
        if user is None:
            return _oauth_error("invalid_grant", "authentication failure")
        session = emu.sessions.create(user["Id"], client_id)
        return json_response(200, _token_body(emu, req, session, secret=app.get("client_secret")))
    if grant == "client_credentials":
        if app is None:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if not app.get("client_secret") or not hmac.compare_digest(form.get("client_secret", ""), app["client_secret"]):
            return _oauth_error("invalid_client", "invalid client credentials")
        run_as = app.get("run_as") or emu.admin_user_id()
        session = emu.sessions.create(run_as, client_id)
        return json_response(200, _token_body(emu, req, session, {"scope": "api"}, secret=app.get("client_secret")))
    if grant == "refresh_token":
        stored = emu.state.refresh_token(form.get("refresh_token", ""))
        if stored is None:
            return _oauth_error("invalid_grant", "expired access/refresh token")
        if app is None or (stored.get("app") and stored["app"] != client_id):
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if (
            app.get("client_secret")
            and form.get("client_secret")
            and not hmac.compare_digest(form["client_secret"], app["client_secret"])
        ):
            return _oauth_error("invalid_client", "invalid client credentials")
        session = emu.sessions.create(stored["user_id"], client_id)
        return json_response(
            200, _token_body(emu, req, session, {"scope": "api refresh_token"}, secret=app.get("client_secret"))
        )
    if grant == JWT_GRANT:
        return _jwt_bearer(emu, req, form.get("assertion", ""))
    return _oauth_error("unsupported_grant_type", "grant type not supported")


def _jwt_bearer(emu: Emulator, req: Request, assertion: str) -> Response:
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return _oauth_error("invalid_grant", "invalid assertion")
    client_id = str(claims.get("iss", ""))
    app = emu.state.connected_app(client_id)
    if app is None:
        return _oauth_error("invalid_client_id", "client identifier invalid")
    if not app.get("certificate"):
        return _oauth_error("invalid_grant", "invalid assertion")
    public_key = x509.load_pem_x509_certificate(app["certificate"].encode()).public_key()
    base = emu.base_url_for(req)
    audiences = [*LOGIN_AUDIENCES, base, base + "/", *emu.extra_audiences()]
    try:
        claims = jwt.decode(
            assertion,
            public_key,
            algorithms=["RS256"],
            audience=audiences,
            options={"require": ["exp", "iss", "sub", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        return _oauth_error("invalid_grant", "expired authorization code")
    except jwt.InvalidAudienceError:
        return _oauth_error("invalid_grant", "audience is invalid")
    except jwt.PyJWTError:
        return _oauth_error("invalid_grant", "invalid assertion")
    user = emu.state.user_by_username(str(claims["sub"]))
    if user is None:
        return _oauth_error("invalid_grant", "user hasn't approved this consumer")
    session = emu.sessions.create(user["Id"], client_id)
    return json_response(200, _token_body(emu, req, session, {"scope": "api"}, secret=app.get("client_secret")))


def oauth_revoke(emu: Emulator, req: Request) -> Response:
    """POST /services/oauth2/revoke."""
    form = {k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()}
    token = form.get("token") or req.query.get("token", "")
    emu.sessions.revoke(token)
    emu.state.revoke_refresh_token(token)
    return Response(200, b"", {})


def _forbidden() -> Response:
    return Response(403, b"Bad_OAuth_Token", {"Content-Type": "text/plain;charset=UTF-8"})


def userinfo(emu: Emulator, req: Request) -> Response:
    """GET /services/oauth2/userinfo (OpenID Connect shape)."""
    session = emu.sessions.get(bearer_token(req))
    if session is None:
        return _forbidden()
    user = emu.state.user(session.user_id)
    if user is None:
        return _forbidden()
    base = emu.base_url_for(req)
    v = emu.api_version
    return json_response(
        200,
        {
            "sub": f"{base}/id/{emu.org_id}/{user['Id']}",
            "user_id": user["Id"],
            "organization_id": emu.org_id,
            "preferred_username": user["Username"],
            "nickname": user.get("Alias"),
            "name": user.get("Name"),
            "email": user.get("Email"),
            "email_verified": True,
            "given_name": user.get("FirstName"),
            "family_name": user.get("LastName"),
            "zoneinfo": user.get("TimeZoneSidKey"),
            "photos": {"picture": f"{base}/profilephoto/005/F", "thumbnail": f"{base}/profilephoto/005/T"},
            "profile": f"{base}/{user['Id']}",
            "picture": f"{base}/profilephoto/005/F",
            "address": {},
            "is_salesforce_integration_user": False,
            "urls": _identity_urls(base, v, emu.org_id, user["Id"]),
            "active": bool(user.get("IsActive")),
            "user_type": "STANDARD",
            "language": "en_US",
            "locale": "en_US",
            "utcOffset": 0,
            "updated_at": user.get("LastModifiedDate"),
            "is_app_installed": True,
        },
    )


def _identity_urls(base: str, v: str, org: str, user: str) -> dict[str, str]:
    org15 = ids.to15(org)
    return {
        "enterprise": f"{base}/services/Soap/c/{{version}}/{org15}",
        "metadata": f"{base}/services/Soap/m/{{version}}/{org15}",
        "partner": f"{base}/services/Soap/u/{{version}}/{org15}",
        "rest": f"{base}/services/data/v{{version}}/",
        "sobjects": f"{base}/services/data/v{{version}}/sobjects/",
        "search": f"{base}/services/data/v{{version}}/search/",
        "query": f"{base}/services/data/v{{version}}/query/",
        "recent": f"{base}/services/data/v{{version}}/recent/",
        "tooling_soap": f"{base}/services/Soap/T/{{version}}/{org15}",
        "tooling_rest": f"{base}/services/data/v{{version}}/tooling/",
        "profile": f"{base}/{user}",
        "feeds": f"{base}/services/data/v{{version}}/chatter/feeds",
        "groups": f"{base}/services/data/v{{version}}/chatter/groups",
        "users": f"{base}/services/data/v{{version}}/chatter/users",
        "feed_items": f"{base}/services/data/v{{version}}/chatter/feed-items",
        "feed_elements": f"{base}/services/data/v{{version}}/chatter/feed-elements",
        "custom_domain": base,
    }


def identity(emu: Emulator, req: Request, org_id: str, user_id: str) -> Response:
    """GET /id/{orgId}/{userId}: the identity service."""
    session = emu.sessions.get(bearer_token(req))
    if session is None:
        return _forbidden()
    if not (ids.looks_like_id(org_id) and ids.looks_like_id(user_id)) or ids.normalize(org_id) != emu.org_id:
        return Response(404, b"Bad_Id", {"Content-Type": "text/plain;charset=UTF-8"})
    user = emu.state.user(user_id)
    if user is None:
        return Response(404, b"Bad_Id", {"Content-Type": "text/plain;charset=UTF-8"})
    base = emu.base_url_for(req)
    return json_response(
        200,
        {
            "id": f"{base}/id/{emu.org_id}/{user['Id']}",
            "asserted_user": session.user_id == user["Id"],
            "user_id": user["Id"],
            "organization_id": emu.org_id,
            "username": user["Username"],
            "nick_name": user.get("Alias"),
            "display_name": user.get("Name"),
            "email": user.get("Email"),
            "email_verified": True,
            "first_name": user.get("FirstName"),
            "last_name": user.get("LastName"),
            "timezone": user.get("TimeZoneSidKey"),
            "photos": {},
            "addr_street": None,
            "addr_city": None,
            "addr_state": None,
            "addr_country": None,
            "addr_zip": None,
            "mobile_phone": None,
            "mobile_phone_verified": False,
            "is_lightning_login_user": False,
            "status": {"created_date": None, "body": None},
            "urls": _identity_urls(base, emu.api_version, emu.org_id, user["Id"]),
            "active": bool(user.get("IsActive")),
            "user_type": "STANDARD",
            "language": "en_US",
            "locale": "en_US",
            "utcOffset": 0,
            "last_modified_date": user.get("LastModifiedDate"),
            "is_app_installed": True,
        },
    )


# ---------------------------------------------------------------------------- SOAP partner API


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def soap_partner(emu: Emulator, req: Request, version: str) -> Response:
    """POST /services/Soap/u/{version}: `login` (other partner calls are not emulated)."""
    try:
        root = ElementTree.fromstring(req.body)
    except Exception:  # any parse failure is a client error
        return soap_fault("INVALID_XML", "Unable to parse the request body", "UnexpectedErrorFault")
    body = next((c for c in root if _local(c.tag) == "Body"), None)
    call = next(iter(body), None) if body is not None else None
    if call is None or _local(call.tag) != "login":
        header_sid = None
        for elem in root.iter():
            if _local(elem.tag) == "sessionId":
                header_sid = (elem.text or "").strip()
        if emu.sessions.get(header_sid) is None:
            return soap_fault("INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal Session")
        name = _local(call.tag) if call is not None else "?"
        return soap_fault("UNKNOWN_EXCEPTION", f"The emulator does not implement the partner call {name}")
    values = {_local(c.tag): (c.text or "") for c in call}
    user = check_password(emu, values.get("username", ""), values.get("password", ""))
    if user is None:
        return soap_fault(
            "INVALID_LOGIN", "Invalid username, password, security token; or user locked out.", "LoginFault"
        )
    session = emu.sessions.create(user["Id"])
    return Response(200, login_response_xml(emu, req, version, session, user).encode(), {"Content-Type": XML_TYPE})


def login_response_xml(emu: Emulator, req: Request, version: str, session: Session, user: dict[str, Any]) -> str:
    """The partner `loginResponse`, shaped like wire/soap-login-response-partner.xml."""
    base = emu.base_url_for(req)
    org = emu.state.organization()
    org15 = ids.to15(emu.org_id)
    e = escape
    info = {
        "accessibilityMode": "false",
        "currencySymbol": "$",
        "orgAttachmentFileSizeLimit": "5242880",
        "orgDefaultCurrencyIsoCode": "USD",
        "orgDisallowHtmlAttachments": "false",
        "orgHasPersonAccounts": "false",
        "organizationId": emu.org_id,
        "organizationMultiCurrency": "false",
        "organizationName": org.get("Name") or "",
        "profileId": user.get("ProfileId") or "",
        "roleId": user.get("UserRoleId"),
        "sessionSecondsValid": str(int(emu.sessions.lifetime)),
        "userDefaultCurrencyIsoCode": None,
        "userEmail": user.get("Email") or "",
        "userFullName": user.get("Name") or "",
        "userId": user["Id"],
        "userLanguage": "en_US",
        "userLocale": "en_US",
        "userName": user["Username"],
        "userTimeZone": user.get("TimeZoneSidKey") or "",
        "userType": "Standard",
        "userUiSkin": "Theme3",
    }
    info_xml = "".join(f'<{k} xsi:nil="true"/>' if v is None else f"<{k}>{e(v)}</{k}>" for k, v in info.items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><loginResponse><result>"
        f"<metadataServerUrl>{e(base)}/services/Soap/m/{e(version)}/{org15}</metadataServerUrl>"
        "<passwordExpired>false</passwordExpired>"
        f"<sandbox>{'true' if org.get('IsSandbox') else 'false'}</sandbox>"
        f"<serverUrl>{e(base)}/services/Soap/u/{e(version)}/{org15}</serverUrl>"
        f"<sessionId>{e(session.token)}</sessionId><userId>{user['Id']}</userId>"
        f"<userInfo>{info_xml}</userInfo>"
        "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
    )
