"""Constants and helpers shared by the gateway tests (a unique module name: `conftest` is not importable
reliably when several test directories have one)."""

from __future__ import annotations

from paths import WIRE

INSTANCE = "https://acme.my.salesforce.com"
LOGIN = "https://login.example.test"
API = f"{INSTANCE}/services/data/v64.0"
TOKEN = "00D5e000000AbCd!AQ8AQOLDTOKENvalue.secretpart"
LIMIT_INFO = {"Sforce-Limit-Info": "api-usage=25/15000"}


def wire_text(name: str) -> str:
    """A real recorded Salesforce body from tests/data/wire."""
    return (WIRE / name).read_text(encoding="utf-8")


def wire_bytes(name: str) -> bytes:
    return (WIRE / name).read_bytes()
