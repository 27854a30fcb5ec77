"""Request/response value types and Salesforce's error shapes (REST JSON arrays, SOAP faults)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

JSON_TYPE = "application/json;charset=UTF-8"
XML_TYPE = "text/xml;charset=UTF-8"


@dataclass
class Request:
    """An incoming HTTP request (path without query string; headers with lower-case names)."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    internal: bool = False  # a composite sub-request: not counted, no faults
    counted: bool = False  # set once this request was counted against DailyApiRequests

    def json(self) -> Any:
        """The body parsed as JSON (ApiError JSON_PARSER_ERROR when it is not)."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except json.JSONDecodeError as exc:
            raise ApiError(400, "JSON_PARSER_ERROR", jackson_message(exc)) from exc
        except ValueError as exc:  # not UTF-8
            raise ApiError(400, "JSON_PARSER_ERROR", "Invalid UTF-8 start byte at [line:1, column:1]") from exc


_EXPECTING = {
    "Expecting property name enclosed in double quotes": "was expecting double-quote to start field name",
    "Expecting value": "expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
    "Expecting ',' delimiter": "was expecting comma to separate Object entries",
    "Expecting ':' delimiter": "was expecting a colon to separate field name and value",
    "Extra data": "expected end-of-input",
}


def jackson_message(exc: json.JSONDecodeError) -> str:
    """A JSON syntax error worded like Salesforce's parser (Jackson), e.g. "Unexpected character ('}'
    (code 125)): was expecting double-quote to start field name at [line:2, column:34667]"."""
    where = f"at [line:{exc.lineno}, column:{exc.colno}]"
    if exc.pos >= len(exc.doc):
        return f"Unexpected end-of-input: expected close marker for OBJECT {where}"
    char = exc.doc[exc.pos]
    expected = _EXPECTING.get(exc.msg, "")
    return f"Unexpected character ('{char}' (code {ord(char)})){': ' + expected if expected else ''} {where}"


@dataclass
class Response:
    """An outgoing response."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = ""
    drop: bool = False  # close the connection without answering (fault)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class ApiError(Exception):
    """A REST error: HTTP status + `[{"message", "errorCode"[, "fields"]}]`."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields

    def body(self) -> list[dict[str, Any]]:
        item: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            item["fields"] = self.fields
        return [item]


def accepts_gzip(headers: dict[str, str]) -> bool:
    """Whether the request's Accept-Encoding allows a gzip body."""
    return "gzip" in [part.split(";")[0].strip().lower() for part in headers.get("accept-encoding", "").split(",")]


def json_response(status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
    body = b"" if data is None and status == 204 else json.dumps(data, separators=(",", ":")).encode()
    hdrs = {"Content-Type": JSON_TYPE} if body else {}
    hdrs.update(headers or {})
    return Response(status, body, hdrs)


def error_response(err: ApiError, kind: str = "") -> Response:
    """The REST error body of `err`; `kind` overrides the route's journal kind."""
    resp = json_response(err.status, err.body())
    resp.kind = kind
    return resp


def invalid_session() -> ApiError:
    """Exactly what Salesforce answers for an expired or unknown session (REST)."""
    return ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "The requested resource does not exist")


def soap_fault(code: str, message: str, fault_type: str = "UnexpectedErrorFault", status: int = 500) -> Response:
    """A SOAP 1.1 fault in the partner/metadata shape (HTTP 500 like Salesforce)."""
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><soapenv:Fault>"
        f"<faultcode>sf:{escape(code)}</faultcode><faultstring>{escape(code)}: {escape(message)}</faultstring>"
        f'<detail><sf:{fault_type} xsi:type="sf:{fault_type}"><sf:exceptionCode>{escape(code)}</sf:exceptionCode>'
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage></sf:{fault_type}></detail>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return Response(status, text.encode(), {"Content-Type": XML_TYPE})
