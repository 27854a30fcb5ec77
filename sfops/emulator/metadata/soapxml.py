"""SOAP plumbing for the Metadata API: parse requests (defusedxml), render responses and faults.

Responses are rendered exactly like the real recorded ones: one line, default namespace
``http://soap.sforce.com/2006/04/metadata``, elements in the order the result dicts list them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from defusedxml import ElementTree

SOAPENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
MD_NS = "http://soap.sforce.com/2006/04/metadata"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>'
SOAP_HEADERS = {"Content-Type": "text/xml;charset=UTF-8"}


class SoapFault(Exception):
    """A SOAP fault to return (HTTP 500), e.g. ``SoapFault("INVALID_SESSION_ID", "...")``."""

    def __init__(self, code: str, message: str, *, client: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.client = client  # soapenv:Client faults (bad request XML, unknown operation)


def local(tag: str) -> str:
    """Tag without its namespace."""
    return tag.rsplit("}", 1)[-1]


def child(elem: Any, name: str) -> Any | None:
    """First child element with this local name."""
    for c in elem:
        if local(c.tag) == name:
            return c
    return None


def children(elem: Any, name: str) -> list[Any]:
    """All child elements with this local name."""
    return [c for c in elem if local(c.tag) == name]


def text(elem: Any, name: str, default: str | None = None) -> str | None:
    """Stripped text of the first child with this local name."""
    c = child(elem, name)
    if c is None:
        return default
    return (c.text or "").strip()


def texts(elem: Any, name: str) -> list[str]:
    """Stripped texts of every child with this local name."""
    return [(c.text or "").strip() for c in children(elem, name)]


def parse_bool(value: str | None, default: bool = False) -> bool:
    """xsd:boolean, case-insensitively (simple-salesforce sends True/False)."""
    if value is None or value.strip() == "":
        return default
    v = value.strip().lower()
    if v in ("true", "1"):
        return True
    if v in ("false", "0"):
        return False
    raise SoapFault("INVALID_TYPE", f"'{value}' is not a valid value for the type xsd:boolean", client=True)


def parse_envelope(body: bytes) -> tuple[Any, str | None]:
    """(first element of soapenv:Body, sessionId from SessionHeader or None)."""
    try:
        root = ElementTree.fromstring(body)
    except Exception as exc:  # defusedxml raises ParseError and its own DTD/entity errors
        raise SoapFault("Client", f"Could not parse the request XML: {exc}", client=True) from exc
    if local(root.tag) != "Envelope":
        raise SoapFault("Client", "Request is not a SOAP envelope", client=True)
    session_id = None
    header = child(root, "Header")
    if header is not None:
        sh = child(header, "SessionHeader")
        if sh is not None:
            session_id = text(sh, "sessionId")
    soap_body = child(root, "Body")
    if soap_body is None or len(soap_body) == 0:
        raise SoapFault("Client", "SOAP Body is empty", client=True)
    return soap_body[0], session_id


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return escape(str(v))


class RawXml(str):
    """Already-serialised XML to insert verbatim (stored metadata inside readMetadata)."""


def render(name: str, value: Any) -> str:
    """One element (or several for a list). None renders nothing; "" renders an empty element."""
    if value is None:
        return ""
    if isinstance(value, RawXml):
        return f"<{name}>{value}</{name}>"
    if isinstance(value, list):
        return "".join(render(name, v) for v in value)
    if isinstance(value, Mapping):
        attrs = ""
        inner = []
        for k, v in value.items():
            if k == "@xsi:type":
                attrs = f' xsi:type="{escape(str(v))}"'
            elif k == "@xsi:nil":
                attrs = f' xsi:nil="{escape(str(v))}"'
            elif isinstance(v, RawXml) and k == "#raw":
                inner.append(str(v))
            else:
                inner.append(render(k, v))
        return f"<{name}{attrs}>{''.join(inner)}</{name}>"
    return f"<{name}>{_value(value)}</{name}>"


def envelope(operation: str, result: Any, *, xsi: bool = False) -> bytes:
    """``<{operation}Response><result>...`` inside a SOAP envelope; a list gives several results."""
    ns = f' xmlns:xsi="{XSI_NS}"' if xsi else ""
    inner = render("result", result) if result is not None else ""
    return (
        f'{XML_DECL}<soapenv:Envelope xmlns:soapenv="{SOAPENV_NS}" xmlns="{MD_NS}"{ns}><soapenv:Body>'
        f"<{operation}Response>{inner}</{operation}Response></soapenv:Body></soapenv:Envelope>"
    ).encode()


def fault(code: str, message: str, *, client: bool = False) -> bytes:
    """A fault shaped like wire/soap-fault-invalid-session-id.xml."""
    if client:
        return (
            f'{XML_DECL}<soapenv:Envelope xmlns:soapenv="{SOAPENV_NS}"><soapenv:Body><soapenv:Fault>'
            f"<faultcode>soapenv:Client</faultcode><faultstring>{escape(message)}</faultstring>"
            "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
        ).encode()
    full = f"{code}: {message}"
    return (
        f'{XML_DECL}<soapenv:Envelope xmlns:soapenv="{SOAPENV_NS}" '
        f'xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="{XSI_NS}"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>sf:{escape(code)}</faultcode><faultstring>{escape(full)}</faultstring><detail>"
        '<sf:UnexpectedErrorFault xsi:type="sf:UnexpectedErrorFault">'
        f"<sf:exceptionCode>{escape(code)}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
        "</sf:UnexpectedErrorFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    ).encode()
