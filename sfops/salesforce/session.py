"""The HTTP session every call to an org goes through (ours and simple-salesforce's).

It adds, per request: connect/read timeouts, the current bearer token, retries with
exponential backoff and jitter for idempotent requests (connection errors, 429/502/503/504,
honouring Retry-After), a bounded re-authentication on 401, and API-usage tracking from the
`Sforce-Limit-Info` header of every response. REQUEST_LIMIT_EXCEEDED (403) is never retried.
"""

from __future__ import annotations

import logging
import random
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
import urllib3

from sfops.errors import SalesforceError, TransientError
from sfops.salesforce.faults import TRANSIENT_STATUSES
from sfops.salesforce.usage import ApiUsage, parse_limit_info

if TYPE_CHECKING:
    from sfops.salesforce.auth import TokenManager

log = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
DEFAULT_DEADLINE = 600.0
DEFAULT_MAX_RESPONSE_BYTES = 200 * 1024 * 1024  # a debug log is at most 20 MB, a retrieve zip about 50 MB
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: `max_retries` extra attempts, backoff `base * 2**n` (capped) plus jitter."""

    max_retries: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 120.0
    max_reauths: int = 2

    def delay(self, attempt: int, retry_after: float | None = None, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number `attempt` (0-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_max)
        backoff = min(self.backoff_base * (2**attempt), self.backoff_max)
        return backoff / 2 + rand() * backoff / 2  # "equal jitter": never zero, never above the cap


def retry_after_seconds(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(parsedate_to_datetime(value).timestamp() - now(), 0.0)
    except (TypeError, ValueError):
        return None


class OrgSession(requests.Session):
    """A requests.Session bound to one org (see the module docstring).

    Extra keyword arguments understood by `request`:
    `sfops_auth=True` marks a login call (no token, no re-auth); `sfops_idempotent=True/False`
    overrides the method-based idempotency decision.
    """

    def __init__(
        self,
        *,
        timeout: tuple[float, float],
        policy: RetryPolicy | None = None,
        verify: str | bool = True,
        sleep: Callable[[float], None] = time.sleep,
        deadline: float = DEFAULT_DEADLINE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        super().__init__()
        self.deadline = deadline  # seconds for a whole call (retries and a trickling body included)
        self.max_response_bytes = max_response_bytes  # decoded bytes of one answer
        if verify is False:
            raise ValueError("TLS verification cannot be turned off")
        self.verify = verify
        self.timeout = timeout
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.tokens: TokenManager | None = None
        self.api_usage: ApiUsage | None = None
        self.hooks["response"].append(self._record_usage)
        self.headers["User-Agent"] = "sfops"

    def __repr__(self) -> str:
        return f"OrgSession(timeout={self.timeout}, verify={self.verify!r})"

    def _record_usage(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        usage = parse_limit_info(response.headers.get("Sforce-Limit-Info"))
        if usage is not None:
            self.api_usage = usage
        return response

    # requests.Session.request takes every option positionally too; ours pass through **kwargs (with the
    # sfops_* ones added), which callers use by name only.
    def request(  # type: ignore[override]
        self,
        method: str | bytes,
        url: str | bytes,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        **kwargs: Any,
    ) -> requests.Response:
        is_auth = bool(kwargs.pop("sfops_auth", False))
        method_name = method.decode() if isinstance(method, bytes) else str(method)
        method_name = method_name.upper()
        idempotent = kwargs.pop("sfops_idempotent", None)
        if idempotent is None:
            idempotent = method_name in IDEMPOTENT_METHODS
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        if kwargs.get("verify") is False:
            raise ValueError("TLS verification cannot be turned off")
        if kwargs.get("verify") is None and self.verify is not True:
            # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override session.verify; an org's
            # own ca_bundle must win, so pass it per request.
            kwargs["verify"] = self.verify
        caller_streams = bool(kwargs.pop("stream", False))
        deadline = time.monotonic() + self.deadline
        attempt = reauths = 0
        while True:
            send_headers = dict(headers or {})
            token = None
            if not is_auth and self.tokens is not None:
                token = self.tokens.current().access_token
                send_headers["Authorization"] = f"Bearer {token}"
            try:
                response = super().request(
                    method_name, url, params=params, data=data, headers=send_headers, stream=True, **kwargs
                )
                if not caller_streams:
                    self._read_body(response, deadline, method_name, url)
            except requests.exceptions.SSLError as exc:
                raise SalesforceError(tls_advice(_host(url), exc), error_code="TLS_VERIFY_FAILED") from exc
            except (
                requests.exceptions.ConnectionError,
                requests.exceptions.Timeout,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as exc:
                # ChunkedEncodingError / ContentDecodingError: the body was cut short or garbled on the way.
                # A connect timeout means nothing was sent, so even a POST may be retried.
                retryable = idempotent or isinstance(exc, requests.exceptions.ConnectTimeout)
                if retryable and attempt < self.policy.max_retries and time.monotonic() < deadline:
                    self._wait(attempt, None, f"{type(exc).__name__} on {method_name} {_host(url)}")
                    attempt += 1
                    continue
                raise TransientError(
                    f"{type(exc).__name__} talking to {_host(url)} ({method_name}); gave up after "
                    f"{attempt + 1} attempt(s).",
                    error_code="CONNECTION_ERROR",
                ) from exc
            status = response.status_code
            if status == 401 and not is_auth and self.tokens is not None:
                if not self.tokens.authenticator.can_refresh:
                    response.close()
                    self.tokens.refresh(token)  # raises a SessionExpiredError that says what to do
                if reauths < self.policy.max_reauths:
                    reauths += 1
                    log.info(
                        "401 from %s %s: re-authenticating (%d/%d)",
                        method_name,
                        _path(url),
                        reauths,
                        self.policy.max_reauths,
                    )
                    response.close()
                    self.tokens.refresh(token)
                    continue
            if (
                status in TRANSIENT_STATUSES
                and idempotent
                and attempt < self.policy.max_retries
                and time.monotonic() < deadline
            ):
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                response.close()
                self._wait(attempt, wait, f"HTTP {status} on {method_name} {_path(url)}")
                attempt += 1
                continue
            return response

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        """Follow a redirect only to the same host over https: an org that points elsewhere (another
        host, or https -> http) is refused, whatever the request carried."""
        target = super().get_redirect_target(resp)
        if target is None:
            return None
        here, there = urlsplit(resp.url), urlsplit(requests.compat.urljoin(resp.url, target))
        if there.scheme != "https" or there.netloc.lower() != here.netloc.lower():
            resp.close()
            raise SalesforceError(
                f"{here.netloc} redirected to {there.scheme}://{there.netloc}: not followed "
                "(only same-host https redirects are).",
                error_code="UNSAFE_REDIRECT",
            )
        return target

    def _read_body(self, response: requests.Response, deadline: float, method: str, url: str | bytes) -> None:
        """Read the whole body now, within the call's deadline and the size cap.

        requests' read timeout is per socket read: a server sending a byte every few seconds never
        trips it, and `response.content` holds whatever size the server sends. Each read here returns
        what has arrived (read1), so the deadline is checked while a body trickles in.
        """
        limit = self.max_response_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            response.close()
            raise _too_large(method, url, int(declared), limit)
        parts: list[bytes] = []
        size = 0
        try:
            while True:
                chunk = response.raw.read1(_CHUNK, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    response.close()
                    raise _too_large(method, url, size, limit)
                if time.monotonic() > deadline:
                    response.close()
                    raise TransientError(
                        f"{method} {_host(url)}{_path(url)} did not finish within {self.deadline:g} s "
                        f"(the answer was still arriving after {size} bytes).",
                        error_code="DEADLINE_EXCEEDED",
                    )
                parts.append(chunk)
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise requests.exceptions.ReadTimeout(exc) from exc
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError) as exc:
            raise requests.exceptions.ChunkedEncodingError(exc) from exc
        # requests has no public way to hand it a body read elsewhere; these two are what `.content` sets
        response._content = b"".join(parts)
        response._content_consumed = True
        response.raw.release_conn()

    def _wait(self, attempt: int, retry_after: float | None, why: str) -> None:
        delay = self.policy.delay(attempt, retry_after)
        log.warning("%s: retry %d/%d in %.1f s", why, attempt + 1, self.policy.max_retries, delay)
        self.sleep(delay)


def tls_advice(host: str, exc: BaseException) -> str:
    """What failed in a TLS handshake with `host`, and the remedy that fits (verification is never turned off)."""
    reason = _verify_message(exc)
    text = reason.lower()
    if "hostname mismatch" in text or "doesn't match" in text or "not valid for" in text:
        return (
            f"TLS: the certificate {host} presented is not valid for that name ({reason}). Check the URL "
            "(login_url / instance_url: the org's My Domain host?); a ca_bundle does not change this."
        )
    if "expired" in text or "not yet valid" in text:
        return (
            f"TLS: the certificate of {host} is outside its validity dates ({reason}). The server must renew "
            "it, or this machine's clock is wrong."
        )
    if "self-signed" in text or "self signed" in text or "local issuer" in text or "unknown ca" in text:
        return (
            f"TLS: {host} presented a certificate from a CA this machine does not trust ({reason}). If the "
            "org is behind a private CA (a corporate proxy, a local org), set ca_bundle for it in sfops.toml."
        )
    if "verify" in text:
        return (
            f"TLS certificate verification failed for {host} ({reason}). If the org uses a private CA, set "
            "ca_bundle for it in sfops.toml (verification is never turned off)."
        )
    return f"TLS handshake with {host} failed ({reason or type(exc).__name__}); verification is never turned off."


def _verify_message(exc: BaseException) -> str:
    """The OpenSSL verification message inside requests' and urllib3's wrappers."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError) and current.verify_message:
            return str(current.verify_message)
        stack.extend(a for a in current.args if isinstance(a, BaseException))
        stack.extend(
            e
            for e in (current.__cause__, current.__context__, getattr(current, "reason", None))
            if isinstance(e, BaseException)
        )
    return str(exc).split(" (Caused by ")[-1][:200]


def _too_large(method: str, url: str | bytes, size: int, limit: int) -> SalesforceError:
    return SalesforceError(
        f"{method} {_host(url)}{_path(url)}: the answer is larger than {limit // (1024 * 1024)} MB "
        f"({size} bytes so far); refusing to hold it in memory (max_response_mb).",
        error_code="RESPONSE_TOO_LARGE",
    )


def _host(url: str | bytes) -> str:
    text = url.decode() if isinstance(url, bytes) else url
    return urlsplit(text).netloc or text


def _path(url: str | bytes) -> str:
    text = url.decode() if isinstance(url, bytes) else url
    return urlsplit(text).path
