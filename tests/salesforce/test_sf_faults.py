"""Error mapping: real Salesforce error bodies -> sfops error types keeping errorCode and status."""

from __future__ import annotations

import json

import pytest
import requests
from sf_fixtures import wire_bytes, wire_text
from simple_salesforce import exceptions as sfx

from sfops.errors import (
    AuthError,
    NotFoundError,
    RecordLockedError,
    RequestLimitExceededError,
    SalesforceError,
    SessionExpiredError,
    TransientError,
)
from sfops.salesforce.faults import (
    error_from_body,
    error_from_response,
    map_sf_exception,
    parse_soap_fault,
    save_result_error,
    sf_errors,
)


def _response(status: int, body: bytes, content_type: str = "application/json") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers["Content-Type"] = content_type
    response.url = "https://acme.my.salesforce.com/services/data/v64.0/query?q=SELECT+Id"
    return response


@pytest.mark.parametrize(
    ("fixture", "status", "cls", "code", "text"),
    [
        ("error-invalid-session-id.json", 401, SessionExpiredError, "INVALID_SESSION_ID", "Session expired"),
        ("error-invalid-field.json", 400, SalesforceError, "INVALID_FIELD", "No such column 'foo'"),
        ("error-not-found.json", 404, NotFoundError, "NOT_FOUND", "requested resource does not exist"),
        ("error-not-found-bad-id.json", 404, NotFoundError, "NOT_FOUND", "23foo"),
    ],
)
def test_rest_error_arrays(fixture: str, status: int, cls: type, code: str, text: str) -> None:
    error = error_from_response(_response(status, wire_bytes(fixture)))
    assert type(error) is cls
    assert error.error_code == code
    assert error.status == status
    assert text in error.message
    assert error.message.startswith(code)
    assert error.url == "https://acme.my.salesforce.com/services/data/v64.0/query"  # query string dropped
    assert error.errors == json.loads(wire_text(fixture))


def test_request_limit_exceeded_and_row_lock() -> None:
    limit = error_from_body([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}], 403)
    assert isinstance(limit, RequestLimitExceededError) and limit.status == 403
    lock = error_from_body(
        [
            {
                "message": "unable to obtain exclusive access to this record or 1 records: 001000000000001AAA",
                "errorCode": "UNABLE_TO_LOCK_ROW",
                "fields": [],
            }
        ],
        500,
    )
    assert isinstance(lock, RecordLockedError)
    assert lock.error_code == "UNABLE_TO_LOCK_ROW" and lock.status == 500


def test_composite_sub_response_bodies_map_like_top_level_errors() -> None:
    composite = json.loads(wire_text("composite-response-invalid-type.json"))["compositeResponse"]
    failed = composite[1]
    error = error_from_body(failed["body"], failed["httpStatusCode"])
    assert type(error) is SalesforceError
    assert error.error_code == "INVALID_TYPE" and error.status == 400
    assert "sObject type 'XYZZY' is not supported" in error.message
    missing = json.loads(wire_text("composite-response-subrequest-not-found.json"))["compositeResponse"][0]
    assert isinstance(error_from_body(missing["body"], missing["httpStatusCode"]), NotFoundError)


def test_save_result_errors_use_status_code() -> None:
    result = {
        "id": None,
        "success": False,
        "errors": [
            {
                "statusCode": "DUPLICATE_VALUE",
                "message": "duplicate value found: Dedup_Key__c",
                "fields": ["Dedup_Key__c"],
            }
        ],
    }
    error = save_result_error(result, status=400)
    assert error.error_code == "DUPLICATE_VALUE"
    assert error.fields == ["Dedup_Key__c"]
    assert error_from_body(result, 400).error_code == "DUPLICATE_VALUE"
    locked = save_result_error(
        {
            "id": "a0B000000000001AAA",
            "success": False,
            "errors": [
                {"statusCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access", "fields": []}
            ],
        }
    )
    assert isinstance(locked, RecordLockedError)
    assert "a0B000000000001AAA" in locked.message


@pytest.mark.parametrize("fixture", ["oauth-token-error-invalid-grant.json", "oauth-refresh-error-expired.json"])
def test_oauth_errors_become_auth_errors(fixture: str) -> None:
    error = error_from_response(_response(400, wire_bytes(fixture)))
    assert isinstance(error, AuthError)
    body = json.loads(wire_text(fixture))
    assert error.message == f"invalid_grant: {body['error_description']}"


def test_soap_faults() -> None:
    assert parse_soap_fault(wire_bytes("soap-fault-invalid-session-id.xml")) == (
        "INVALID_SESSION_ID",
        "Invalid Session ID found in SessionHeader: Illegal Session",
    )
    assert parse_soap_fault(wire_bytes("soap-login-fault-invalid-login.xml")) == (
        "INVALID_LOGIN",
        "Invalid username, password, security token; or user locked out.",
    )
    assert parse_soap_fault(wire_bytes("mdapi-deploy-response-queued.xml")) is None
    assert parse_soap_fault(b"not xml") is None
    error = error_from_response(_response(500, wire_bytes("soap-fault-invalid-session-id.xml"), "text/xml"))
    assert isinstance(error, SessionExpiredError) and error.status == 500
    # SOAP faults always use HTTP 500: the fault code, not the status, decides (not a TransientError)
    other = error_from_response(
        _response(
            500,
            wire_bytes("soap-fault-invalid-session-id.xml").replace(
                b"INVALID_SESSION_ID", b"INVALID_CROSS_REFERENCE_KEY"
            ),
            "text/xml",
        )
    )
    assert type(other) is SalesforceError and other.error_code == "INVALID_CROSS_REFERENCE_KEY"


def test_unknown_bodies_fall_back_on_status() -> None:
    gateway = error_from_response(_response(503, b"<html>Service Unavailable</html>", "text/html"))
    assert isinstance(gateway, TransientError) and gateway.status == 503
    assert "Service Unavailable" in gateway.message
    teapot = error_from_response(_response(418, b""))
    assert type(teapot) is SalesforceError and teapot.error_code == "HTTP_418"


def test_simple_salesforce_exceptions_map_the_same_way() -> None:
    content = wire_bytes("error-invalid-field.json")
    error = map_sf_exception(sfx.SalesforceMalformedRequest("https://x/q", 400, "query", content))
    assert error.error_code == "INVALID_FIELD" and error.status == 400
    expired = map_sf_exception(
        sfx.SalesforceExpiredSession("https://x", 401, "query", wire_bytes("error-invalid-session-id.json"))
    )
    assert isinstance(expired, SessionExpiredError)
    # a Metadata SOAP fault arrives as SalesforceGeneralError with raw XML: parse the faultcode
    general = map_sf_exception(
        sfx.SalesforceGeneralError("https://x", 500, "mdapi", wire_bytes("soap-fault-invalid-session-id.xml"))
    )
    assert isinstance(general, SessionExpiredError)
    auth = map_sf_exception(sfx.SalesforceAuthenticationFailed("INVALID_LOGIN", "bad password"))
    assert isinstance(auth, AuthError) and "bad password" in auth.message
    with pytest.raises(NotFoundError), sf_errors():
        raise sfx.SalesforceResourceNotFound("https://x", 404, "Account", wire_bytes("error-not-found.json"))
