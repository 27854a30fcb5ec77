"""`Org`: one connected org — REST, Tooling and Metadata through one resilient session."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlsplit
from xml.sax.saxutils import escape

from simple_salesforce import Salesforce

from sfops.config import OrgConfig
from sfops.errors import (
    ConfigError,
    RequestLimitExceededError,
    SalesforceError,
    SessionExpiredError,
    TransientError,
)
from sfops.salesforce.auth import Authenticator, Credentials, TokenManager, make_authenticator, soap_values
from sfops.salesforce.faults import error_from_response, save_result_error, sf_errors
from sfops.salesforce.ids import to18
from sfops.salesforce.session import OrgSession, RetryPolicy
from sfops.salesforce.usage import ApiUsage

if TYPE_CHECKING:
    from sfops.salesforce.metadata import MetadataClient

T = TypeVar("T")
COMPOSITE_SOBJECTS_MAX = 200


@dataclass(frozen=True)
class OrgIdentity:
    """Who we are connected as."""

    org_id: str
    user_id: str
    username: str
    instance_url: str
    api_version: str


def connect(
    config: OrgConfig,
    env: Mapping[str, str] | None = None,
    *,
    sleep: Callable[[float], None] | None = None,
    authenticator: Authenticator | None = None,
) -> Org:
    """An `Org` for `config`. Authentication happens lazily, on the first request."""
    _check_url(config, "login_url", config.login_url)
    if config.instance_url:
        _check_url(config, "instance_url", config.instance_url)
    verify: str | bool = True
    if config.ca_bundle:
        bundle = Path(config.ca_bundle).expanduser()
        if not bundle.is_file():
            raise ConfigError(f"Org '{config.alias}': ca_bundle {bundle} does not exist.")
        verify = str(bundle)
    session = OrgSession(
        timeout=(config.connect_timeout, config.read_timeout),
        policy=RetryPolicy(max_retries=config.max_retries),
        verify=verify,
        deadline=config.request_deadline,
        max_response_bytes=int(config.max_response_mb * 1024 * 1024),
        **({"sleep": sleep} if sleep else {}),
    )
    auth = authenticator or make_authenticator(config, os.environ if env is None else env)
    tokens = TokenManager(auth, session)
    session.tokens = tokens
    return Org(config, session, tokens)


def _check_url(config: OrgConfig, name: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        raise ConfigError(f"Org '{config.alias}': {name} must be an https:// URL (got {url!r}).")


class Org:
    """A connected org. Every call goes through `session` (timeouts, retries, re-auth, API usage)."""

    def __init__(self, config: OrgConfig, session: OrgSession, tokens: TokenManager) -> None:
        self.config = config
        self.session = session
        self.tokens = tokens
        self._sf: Salesforce | None = None
        self._identity: OrgIdentity | None = None
        self._describes: dict[str, dict[str, Any]] = {}
        self._metadata: MetadataClient | None = None
        tokens.listeners.append(self._on_new_credentials)

    def __repr__(self) -> str:
        return f"Org(alias={self.config.alias!r}, auth={self.config.auth!r}, api_version={self.api_version!r})"

    # -- basics --------------------------------------------------------------------------------
    @property
    def alias(self) -> str:
        """The org's alias in sfops.toml: the name audit records, caches and the store use for it."""
        return self.config.alias

    @property
    def api_version(self) -> str:
        return self.config.api_version

    @property
    def credentials(self) -> Credentials:
        """The current credentials (authenticating if needed)."""
        return self.tokens.current()

    @property
    def instance_url(self) -> str:
        return self.credentials.instance_url

    @property
    def base_path(self) -> str:
        return f"/services/data/v{self.api_version}/"

    @property
    def api_usage(self) -> ApiUsage | None:
        """API usage from the last response that carried Sforce-Limit-Info."""
        return self.session.api_usage

    def url(self, path: str) -> str:
        """Absolute URL: `path` is relative to /services/data/vNN.0/ unless it starts with '/'.

        A full URL is accepted only over https on the org's own hosts (instance, login, identity),
        because the bearer token goes with it.
        """
        if "://" in path:
            parts = urlsplit(path)
            creds = self.credentials
            trusted = {
                urlsplit(u).netloc.lower() for u in (creds.instance_url, self.config.login_url, creds.id_url or "") if u
            }
            if parts.scheme != "https" or parts.netloc.lower() not in trusted:
                raise SalesforceError(
                    f"Refusing to send the org's token to {parts.scheme}://{parts.netloc}: "
                    "not one of the org's own https hosts.",
                    error_code="UNTRUSTED_URL",
                )
            return path
        if path.startswith("/"):
            return self.instance_url + path
        return self.instance_url + self.base_path + path

    def _on_new_credentials(self, creds: Credentials) -> None:
        if self._sf is not None and self._sf.base_url.startswith(creds.instance_url + "/"):
            self._sf.session_id = creds.access_token
            self._sf.headers["Authorization"] = "Bearer " + creds.access_token
            self._sf._mdapi = None  # simple-salesforce caches the session id inside it
        elif self._sf is not None:
            self._sf = None  # the instance moved: build a new one on next use

    # -- raw requests ---------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        raw: bool = False,
        idempotent: bool | None = None,
    ) -> Any:
        """Send a request; returns parsed JSON, text, None (204) or the Response with `raw=True`.

        Errors come out as typed `SalesforceError`s (or AuthError for login failures).
        """
        # No Accept header by default: REST answers JSON anyway, and some resources (ApexLog Body) are text.
        response = self.session.request(
            method.upper(),
            self.url(path),
            params=params,
            json=json,
            data=data,
            headers=dict(headers or {}),
            sfops_idempotent=idempotent,
        )
        if response.status_code >= 400 or response.status_code == 300:  # 300: an external id matched many
            raise error_from_response(response)
        if raw:
            return response
        if response.status_code == 204 or not response.content:
            return None
        if "json" in response.headers.get("Content-Type", "") or response.content[:1] in (b"{", b"["):
            return _json_of(response)
        return response.text

    # -- queries --------------------------------------------------------------------------------
    def query_page(
        self, soql: str, *, include_deleted: bool = False, batch_size: int | None = None, tooling: bool = False
    ) -> dict[str, Any]:
        """The first page of a query result (raw dict with totalSize, done, records, nextRecordsUrl)."""
        resource = "tooling/query/" if tooling else ("queryAll/" if include_deleted else "query/")
        headers = {"Sforce-Query-Options": f"batchSize={int(batch_size)}"} if batch_size else None
        return self.request("GET", resource, params={"q": soql}, headers=headers)

    def query_more(self, next_records_url: str, *, batch_size: int | None = None) -> dict[str, Any]:
        """The page at a `nextRecordsUrl`."""
        headers = {"Sforce-Query-Options": f"batchSize={int(batch_size)}"} if batch_size else None
        return self.request("GET", next_records_url, headers=headers)

    def query_iter(
        self, soql: str, batch_size: int | None = None, *, include_deleted: bool = False, tooling: bool = False
    ) -> Iterator[dict[str, Any]]:
        """Every record of a query, page by page (lazily follows nextRecordsUrl)."""
        page = self.query_page(soql, include_deleted=include_deleted, batch_size=batch_size, tooling=tooling)
        seen: set[str] = set()
        while True:
            if not isinstance(page, dict):
                raise SalesforceError("A query answer is not a JSON object.", error_code="MALFORMED_RESPONSE")
            yield from page.get("records", [])
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            if next_url in seen:  # a server answering the same page forever must not hold us forever
                raise SalesforceError(
                    f"The org sent the query locator {next_url} twice: stopping a paging loop.",
                    error_code="PAGING_LOOP",
                )
            seen.add(next_url)
            page = self.query_more(next_url, batch_size=batch_size)

    def query(self, soql: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """All records of a query (all pages; each record keeps its 'attributes')."""
        return list(self.query_iter(soql, include_deleted=include_deleted))

    def query_count(self, soql: str) -> int:
        """totalSize of a query (for `SELECT COUNT() ...`)."""
        return int(self.query_page(soql).get("totalSize", 0))

    def tooling_query(self, soql: str) -> list[dict[str, Any]]:
        """All records of a Tooling API query."""
        return list(self.query_iter(soql, tooling=True))

    def tooling_request(self, method: str, path: str, **kwargs: Any) -> Any:
        """A request relative to /services/data/vNN.0/tooling/."""
        return self.request(method, "tooling/" + path.lstrip("/"), **kwargs)

    # -- records ------------------------------------------------------------------------------------
    def get(self, sobject: str, record_id: str, fields: Sequence[str] | None = None) -> dict[str, Any]:
        """One record by id (optionally only some fields)."""
        params = {"fields": ",".join(fields)} if fields else None
        return self.request("GET", f"sobjects/{_seg(sobject)}/{_seg(record_id)}", params=params)

    def create(self, sobject: str, data: Mapping[str, Any], *, retry_safe: bool = False) -> str:
        """Insert a record; returns its id. (A platform event's OPERATION_ENQUEUED is success.)

        `retry_safe=True` lets the session retry the POST after a lost reply or a 5xx: only for
        inserts a unique field makes safe (a second insert fails with DUPLICATE_VALUE, which the
        caller then resolves by reading the record back)."""
        result = self.request("POST", f"sobjects/{_seg(sobject)}/", json=dict(data), idempotent=retry_safe or None)
        if not isinstance(result, dict) or result.get("success") is False:
            raise save_result_error(result if isinstance(result, dict) else {}, status=None)
        return str(result["id"])

    def update(self, sobject: str, record_id: str, data: Mapping[str, Any], *, retry_safe: bool = False) -> None:
        """Update fields of a record.

        `retry_safe=True` lets the session retry the PATCH after a lost reply or a 5xx: right when it
        sets fields to fixed values (a kill switch to false), wrong when the values were computed from
        a read that a replay would not repeat (a counter + 1)."""
        self.request(
            "PATCH", f"sobjects/{_seg(sobject)}/{_seg(record_id)}", json=dict(data), idempotent=retry_safe or None
        )

    def delete(self, sobject: str, record_id: str) -> None:
        """Delete a record."""
        self.request("DELETE", f"sobjects/{_seg(sobject)}/{_seg(record_id)}")

    def upsert(self, sobject: str, ext_field: str, value: str, data: Mapping[str, Any]) -> tuple[str | None, bool]:
        """Insert or update by external id: (id or None, created)."""
        response = self.request(
            "PATCH",
            f"sobjects/{_seg(sobject)}/{_seg(ext_field)}/{_seg(value)}",
            json=dict(data),
            raw=True,
            idempotent=True,
        )
        if response.status_code == 204 or not response.content:
            return None, False
        body = response.json()
        if isinstance(body, dict) and body.get("success") is False:
            raise save_result_error(body, status=response.status_code)
        created = bool(body.get("created", response.status_code == 201)) if isinstance(body, dict) else False
        return (body.get("id") if isinstance(body, dict) else None), created

    def describe(self, sobject: str) -> dict[str, Any]:
        """sObject describe (cached for the life of this Org)."""
        key = sobject.lower()
        if key not in self._describes:
            self._describes[key] = self.request("GET", f"sobjects/{_seg(sobject)}/describe")
        return self._describes[key]

    def describe_global(self) -> dict[str, Any]:
        """The global describe (every sObject)."""
        return self.request("GET", "sobjects")

    def composite(self, subrequests: Sequence[Mapping[str, Any]], all_or_none: bool = False) -> list[dict]:
        """POST composite; returns compositeResponse (HTTP 200 even when a sub-request fails).

        A composite of GETs only changes nothing, so the session may retry it like a GET."""
        read_only = all(str(s.get("method", "")).upper() == "GET" for s in subrequests)
        body = self.request(
            "POST",
            "composite",
            json={"allOrNone": all_or_none, "compositeRequest": list(subrequests)},
            idempotent=read_only or None,
        )
        return list(body.get("compositeResponse", []))

    def composite_sobjects(self, method: str, records: Sequence[Any], all_or_none: bool = False) -> list[dict]:
        """Create (POST), update (PATCH) or delete (DELETE, record ids) many records.

        Salesforce takes 200 records per call; larger lists are sent in chunks of 200, which is
        only allowed without all_or_none (atomicity cannot span calls). Returns the SaveResult
        list in input order; failed items are returned, not raised (check `success`).
        """
        method = method.upper()
        if method not in ("POST", "PATCH", "DELETE"):
            raise ValueError(f"composite_sobjects: unsupported method {method}")
        if len(records) > COMPOSITE_SOBJECTS_MAX and all_or_none:
            raise ValueError(
                f"all_or_none covers at most {COMPOSITE_SOBJECTS_MAX} records per call (got {len(records)})"
            )
        results: list[dict] = []
        for start in range(0, len(records), COMPOSITE_SOBJECTS_MAX):
            chunk = list(records[start : start + COMPOSITE_SOBJECTS_MAX])
            if method == "DELETE":
                params = {"ids": ",".join(str(r) for r in chunk), "allOrNone": str(all_or_none).lower()}
                results.extend(self.request("DELETE", "composite/sobjects", params=params) or [])
            else:
                results.extend(
                    self.request(method, "composite/sobjects", json={"allOrNone": all_or_none, "records": chunk}) or []
                )
        return results

    def limits(self) -> dict[str, Any]:
        """GET /limits: {Name: {Max, Remaining, ...}}."""
        return self.request("GET", "limits/")

    # -- identity -----------------------------------------------------------------------------------
    @property
    def identity(self) -> OrgIdentity:
        """Org id (18), user id, username, instance URL, API version (fetched once)."""
        if self._identity is None:
            self._identity = self._fetch_identity()
        return self._identity

    def _fetch_identity(self) -> OrgIdentity:
        # userinfo needs an openid/id-capable token; the id URL likewise; SOAP getUserInfo works
        # with any API session. Errors that mean "cannot ask this way" move on to the next source.
        creds = self.credentials
        info: dict[str, Any] = {}
        refused: list[SalesforceError] = []
        sources: list[Callable[[], dict[str, Any]]] = [lambda: self.request("GET", "/services/oauth2/userinfo")]
        if creds.id_url:
            sources.append(lambda: self.request("GET", str(creds.id_url)))
        sources.append(self._soap_user_info)
        for source in sources:
            try:
                info = source() or {}
            except (SessionExpiredError, RequestLimitExceededError, TransientError):
                raise
            except SalesforceError as exc:
                refused.append(exc)
                continue
            if info.get("organization_id") and info.get("user_id"):
                break
        org_id = info.get("organization_id") or creds.org_id
        user_id = info.get("user_id") or creds.user_id
        username = info.get("preferred_username") or info.get("username") or creds.username
        if not (org_id and user_id and username):
            if refused:
                raise refused[0]
            raise SalesforceError(
                "The org did not say who we are (no organization_id/user_id in userinfo).", error_code="NO_IDENTITY"
            )
        return OrgIdentity(
            org_id=to18(str(org_id)),
            user_id=to18(str(user_id)),
            username=str(username),
            instance_url=self.credentials.instance_url,
            api_version=self.api_version,
        )

    def _soap_user_info(self) -> dict[str, Any]:
        """Partner SOAP getUserInfo, mapped to userinfo's keys."""
        token = self.credentials.access_token
        response = self.session.request(
            "POST",
            f"{self.instance_url}/services/Soap/u/{self.api_version}",
            data=_USER_INFO_ENVELOPE.format(session=escape(token)).encode("utf-8"),
            sfops_idempotent=True,
            headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "getUserInfo"},
        )
        if response.status_code >= 400:
            raise error_from_response(response)
        values = soap_values(response.content)
        return {
            "organization_id": values.get("organizationId"),
            "user_id": values.get("userId"),
            "preferred_username": values.get("userName"),
        }

    # -- simple-salesforce and Metadata ----------------------------------------------------------------
    @property
    def sf(self) -> Salesforce:
        """simple_salesforce.Salesforce in direct mode, sharing our session (and so its resilience)."""
        if self._sf is None:
            creds = self.credentials
            self._sf = Salesforce(
                instance_url=creds.instance_url,
                session_id=creds.access_token,
                version=self.api_version,
                session=self.session,
            )
        return self._sf

    def sf_call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call a simple-salesforce function; its exceptions come out as sfops errors."""
        with sf_errors():
            return fn(*args, **kwargs)

    @property
    def metadata(self) -> MetadataClient:
        """The Metadata API (SOAP) client for this org."""
        if self._metadata is None:
            from sfops.salesforce.metadata import MetadataClient

            self._metadata = MetadataClient(self)
        return self._metadata

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()


_USER_INFO_ENVELOPE = """<?xml version="1.0" encoding="utf-8"?>
<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">
<env:Header><urn:SessionHeader><urn:sessionId>{session}</urn:sessionId></urn:SessionHeader></env:Header>
<env:Body><urn:getUserInfo/></env:Body>
</env:Envelope>"""


def _json_of(response: Any) -> Any:
    """The JSON body; a body that says it is JSON but is not (cut, garbled, nested beyond reason) is an error,
    never text handed to a caller that expects a dict."""
    try:
        return response.json()
    except (ValueError, RecursionError) as exc:
        path = urlsplit(str(response.url)).path
        raise SalesforceError(
            f"Malformed JSON from {path} (HTTP {response.status_code}, {len(response.content)} "
            f"bytes): {type(exc).__name__}.",
            error_code="MALFORMED_RESPONSE",
            status=response.status_code,
        ) from None


def _seg(value: str) -> str:
    """One URL path segment, percent-encoded."""
    return quote(str(value), safe="")
