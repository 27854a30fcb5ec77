"""Turning Salesforce error bodies into `sfops.errors` types that keep errorCode and HTTP status.

Shapes handled:
- REST error arrays `[{"message", "errorCode", "fields"}]`
- SaveResult errors `{"success": false, "errors": [{"statusCode", "message", "fields"}]}`
- OAuth errors `{"error", "error_description"}`
- SOAP faults (`soapenv:Fault` with `faultcode` / `sf:exceptionCode`)
- simple-salesforce exceptions (which carry `.status` and `.content`)
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

import requests
from defusedxml import ElementTree
from simple_salesforce import exceptions as sf_exceptions

from sfops.errors import (
    AuthError,
    NotFoundError,
    RecordLockedError,
    RequestLimitExceededError,
    SalesforceError,
    SessionExpiredError,
    SfopsError,
    TransientError,
)
from sfops.salesforce.redact import redact

_BY_CODE: dict[str, type[SalesforceError]] = {
    "INVALID_SESSION_ID": SessionExpiredError,
    "REQUEST_LIMIT_EXCEEDED": RequestLimitExceededError,
    "UNABLE_TO_LOCK_ROW": RecordLockedError,
    "NOT_FOUND": NotFoundError,
    "ENTITY_IS_DELETED": NotFoundError,
}
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})


def error_class(error_code: str, status: int | None) -> type[SalesforceError]:
    """The sfops error type for an errorCode / HTTP status pair (errorCode wins)."""
    if error_code in _BY_CODE:
        return _BY_CODE[error_code]
    if status == 404:
        return NotFoundError
    if status == 401:
        return SessionExpiredError
    if status is not None and (status in TRANSIENT_STATUSES or status >= 500):
        return TransientError
    return SalesforceError


def make_error(
    error_code: str,
    message: str,
    *,
    status: int | None = None,
    fields: list[str] | None = None,
    url: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    soap_fault: bool = False,
) -> SalesforceError:
    """Build the typed error; the message reads `ERROR_CODE: text` and never contains a token.

    SOAP faults always come with HTTP 500, so for them only the fault code decides the type.
    """
    text = redact(f"{error_code}: {message}" if message else error_code)
    cls = error_class(error_code, None if soap_fault else status)
    missing = _missing_companion(error_code, message, url)
    if missing:
        error = cls(
            f"The org has no {missing}: deploy sfops's companion metadata (force-app) first.",
            error_code=error_code,
            status=status,
            fields=fields,
            url=_safe_url(url),
            errors=errors,
        )
        error.actions = [DEPLOY_COMPANION, "docs: README.md, 'Connecting a real org'"]
        return error
    return cls(text, error_code=error_code, status=status, fields=fields, url=_safe_url(url), errors=errors)


# The objects of sfops's companion package (force-app/): an org without them answers INVALID_TYPE (SOQL) or
# NOT_FOUND (sObject resources), which means "deploy the package", not a Salesforce fault.
COMPANION_OBJECTS = (
    "Kill_Switch__c",
    "Circuit_Breaker__c",
    "Incident_Log__c",
    "Incident_Event__e",
    "Incident_Alert_Setting__c",
    "Error_Log__c",
)
DEPLOY_COMPANION = "sf project deploy start --source-dir force-app --target-org <your org's sf alias>"


def _missing_companion(error_code: str, message: str, url: str | None) -> str | None:
    """The companion object an error says the org lacks, else None."""
    if error_code == "INVALID_TYPE":
        return next((name for name in COMPANION_OBJECTS if name.casefold() in message.casefold()), None)
    if error_code == "NOT_FOUND" and url:
        path = url.split("?", 1)[0].rstrip("/").casefold()  # the object's own resources, not one of its records
        return next(
            (
                name
                for name in COMPANION_OBJECTS
                if path.endswith((f"/sobjects/{name.casefold()}", f"/sobjects/{name.casefold()}/describe"))
            ),
            None,
        )
    return None


def parse_xml(content: str | bytes, what: str) -> Any:
    """Parse an XML answer with defusedxml; a malformed body, a DTD or an entity expansion (an XML bomb)
    becomes one SalesforceError instead of a parser traceback."""
    try:
        return ElementTree.fromstring(content)
    except Exception as exc:  # ParseError, defusedxml's DTDForbidden / EntitiesForbidden, RecursionError
        raise SalesforceError(
            f"{what}: the answer is not XML sfops will read ({type(exc).__name__}).", error_code="MALFORMED_RESPONSE"
        ) from None


def parse_soap_fault(text: str | bytes) -> tuple[str, str] | None:
    """(exceptionCode, message) from a SOAP fault envelope, or None if `text` is not one."""
    try:
        root = ElementTree.fromstring(text)
    except Exception:  # not XML at all
        return None
    fault = next((el for el in root.iter() if _local(el.tag) == "Fault"), None)
    if fault is None:
        return None
    values = {_local(el.tag): (el.text or "").strip() for el in fault.iter()}
    code = values.get("exceptionCode") or values.get("faultcode", "UNKNOWN").split(":")[-1]
    message = values.get("exceptionMessage") or values.get("faultstring", "")
    prefix = f"{code}: "
    if message.startswith(prefix):
        message = message[len(prefix) :]
    return code, message


def error_from_body(body: Any, status: int | None, url: str | None = None) -> SfopsError | None:
    """A typed error for a decoded error body, or None if the body is not a known error shape."""
    if isinstance(body, list) and body and isinstance(body[0], Mapping):
        first = body[0]
        code = str(first.get("errorCode") or first.get("statusCode") or "UNKNOWN")
        return make_error(
            code,
            str(first.get("message", "")),
            status=status,
            fields=list(first.get("fields") or []),
            url=url,
            errors=list(body),
        )
    if isinstance(body, Mapping):
        if "error" in body and ("error_description" in body or isinstance(body["error"], str)):
            code = str(body["error"])
            return AuthError(
                redact(f"{code}: {body.get('error_description', '')}".rstrip(": ")),
                data={"error": code, "status": status},
            )
        if body.get("success") is False and body.get("errors"):
            return save_result_error(body, status=status, url=url)
        if "exceptionCode" in body:  # Bulk v1 style
            return make_error(str(body["exceptionCode"]), str(body.get("exceptionMessage", "")), status=status, url=url)
    return None


def save_result_error(
    result: Mapping[str, Any], *, status: int | None = None, url: str | None = None
) -> SalesforceError:
    """The error for a failed SaveResult (`errors[].statusCode`)."""
    errors = list(result.get("errors") or [])
    first = errors[0] if errors else {}
    code = str(first.get("statusCode") or first.get("errorCode") or "UNKNOWN")
    message = str(first.get("message", ""))
    if result.get("id"):
        message = f"{message} (record {result['id']})"
    return make_error(code, message, status=status, fields=list(first.get("fields") or []), url=url, errors=errors)


def error_from_response(response: requests.Response) -> SfopsError:
    """The typed error for a failed HTTP response (any of the known bodies, else status-based)."""
    status, url = response.status_code, response.url
    body: Any = None
    text = response.text or ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if body is not None:
        error = error_from_body(body, status, url)
        if error is not None:
            return error
    fault = parse_soap_fault(response.content) if text.lstrip().startswith("<") else None
    if fault:
        return make_error(fault[0], fault[1], status=status, url=url, soap_fault=True)
    snippet = " ".join(text.split())[:300]
    return make_error(
        _status_code_name(status),
        f"HTTP {status} from {_safe_url(url)}" + (f": {snippet}" if snippet else ""),
        status=status,
        url=url,
    )


def map_sf_exception(exc: Exception) -> SfopsError:
    """The sfops error for a simple-salesforce exception (same mapping as raw responses)."""
    if isinstance(exc, SfopsError):
        return exc
    if isinstance(exc, sf_exceptions.SalesforceAuthenticationFailed):
        return AuthError(redact(f"{exc.code}: {exc.auth_message}"))
    if isinstance(exc, sf_exceptions.SalesforceError):
        content: Any = exc.content
        if isinstance(content, bytes | str):
            try:
                content = json.loads(content)
            except ValueError:
                fault = parse_soap_fault(content)
                if fault:
                    return make_error(fault[0], fault[1], status=exc.status, url=exc.url, soap_fault=True)
                content = None
        error = error_from_body(content, exc.status, exc.url) if content is not None else None
        if error is not None:
            return error
        return make_error(
            _status_code_name(exc.status),
            f"HTTP {exc.status} from {_safe_url(exc.url)}",
            status=exc.status,
            url=exc.url,
        )
    return SalesforceError(redact(f"{type(exc).__name__}: {exc}"))


@contextlib.contextmanager
def sf_errors() -> Iterator[None]:
    """Context manager: simple-salesforce exceptions raised inside come out as sfops errors."""
    try:
        yield
    except sf_exceptions.SalesforceError as exc:
        raise map_sf_exception(exc) from exc


def _status_code_name(status: int | None) -> str:
    names = {
        300: "MORE_THAN_ONE_RECORD",
        400: "BAD_REQUEST",
        401: "INVALID_SESSION_ID",
        403: "FORBIDDEN",
        404: "NOT_FOUND",
        405: "METHOD_NOT_ALLOWED",
        429: "TOO_MANY_REQUESTS",
        500: "SERVER_ERROR",
        502: "BAD_GATEWAY",
        503: "SERVICE_UNAVAILABLE",
        504: "GATEWAY_TIMEOUT",
    }
    return names.get(status or 0, f"HTTP_{status}")


def _safe_url(url: str | None) -> str | None:
    """The URL without its query string (it may carry SOQL with user data; never tokens)."""
    return url.split("?", 1)[0] if url else url


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
