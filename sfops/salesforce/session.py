"""The HTTP session every call to an org goes through (ours and simple-salesforce's).

It adds, per request: connect/read timeouts, the current bearer token, retries with
exponential backoff and jitter for idempotent requests (connection errors, 429/502/503/504,
honouring Retry-After), a bounded re-authentication on 401, and API-usage tracking from the
`Sforce-Limit-Info` header of every response. REQUEST_LIMIT_EXCEEDED (403) is never retried.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from sfops.errors import SalesforceError, TransientError
from sfops.salesforce.faults import TRANSIENT_STATUSES
from sfops.salesforce.usage import ApiUsage, parse_limit_info

if TYPE_CHECKING:
    from sfops.salesforce.auth import TokenManager

log = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: `max_retries` extra attempts, backoff `base * 2**n` (capped) plus jitter."""

    max_retries: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 120.0
    max_reauths: int = 2

    def delay(self, attempt: int, retry_after: float | None = None,
              rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number `attempt` (0-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_max)
        backoff = min(self.backoff_base * (2 ** attempt), self.backoff_max)
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

    def __init__(self, *, timeout: tuple[float, float], policy: RetryPolicy | None = None,
                 verify: str | bool = True, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__()
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
    def request(self, method: str | bytes, url: str | bytes, params: Any = None,  # type: ignore[override]
                data: Any = None, headers: Any = None, **kwargs: Any) -> requests.Response:
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
        attempt = reauths = 0
        while True:
            send_headers = dict(headers or {})
            token = None
            if not is_auth and self.tokens is not None:
                token = self.tokens.current().access_token
                send_headers["Authorization"] = f"Bearer {token}"
            try:
                response = super().request(method_name, url, params=params, data=data,
                                           headers=send_headers, **kwargs)
            except requests.exceptions.SSLError as exc:
                raise SalesforceError(
                    f"TLS certificate verification failed for {_host(url)}. If the org uses a private CA, "
                    "set ca_bundle for it in sfops.toml (verification is never turned off).",
                    error_code="TLS_VERIFY_FAILED") from exc
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                # A connect timeout means nothing was sent, so even a POST may be retried.
                retryable = idempotent or isinstance(exc, requests.exceptions.ConnectTimeout)
                if retryable and attempt < self.policy.max_retries:
                    self._wait(attempt, None, f"{type(exc).__name__} on {method_name} {_host(url)}")
                    attempt += 1
                    continue
                raise TransientError(
                    f"{type(exc).__name__} talking to {_host(url)} ({method_name}); gave up after "
                    f"{attempt + 1} attempt(s).", error_code="CONNECTION_ERROR") from exc
            status = response.status_code
            if status == 401 and not is_auth and self.tokens is not None:
                if not self.tokens.authenticator.can_refresh:
                    response.close()
                    self.tokens.refresh(token)  # raises a SessionExpiredError that says what to do
                if reauths < self.policy.max_reauths:
                    reauths += 1
                    log.info("401 from %s %s: re-authenticating (%d/%d)", method_name, _path(url), reauths,
                             self.policy.max_reauths)
                    response.close()
                    self.tokens.refresh(token)
                    continue
            if status in TRANSIENT_STATUSES and idempotent and attempt < self.policy.max_retries:
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                response.close()
                self._wait(attempt, wait, f"HTTP {status} on {method_name} {_path(url)}")
                attempt += 1
                continue
            return response

    def _wait(self, attempt: int, retry_after: float | None, why: str) -> None:
        delay = self.policy.delay(attempt, retry_after)
        log.warning("%s: retry %d/%d in %.1f s", why, attempt + 1, self.policy.max_retries, delay)
        self.sleep(delay)


def _host(url: str | bytes) -> str:
    text = url.decode() if isinstance(url, bytes) else url
    return urlsplit(text).netloc or text


def _path(url: str | bytes) -> str:
    text = url.decode() if isinstance(url, bytes) else url
    return urlsplit(text).path
