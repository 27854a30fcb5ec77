"""Helpers for the emulator tests: an authenticated client and a recursive JSON shape comparison."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from sfops.emulator.testing import RunningEmulator

API = "v64.0"


class Client:
    """A requests session logged in to the emulator, with short helpers."""

    def __init__(self, emu: RunningEmulator, token: str | None = None) -> None:
        self.emu = emu
        self.s = emu.session()
        self.token = token or emu.login()["access_token"]
        self.s.headers["Authorization"] = f"Bearer {self.token}"

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.emu.url + path

    def data(self, path: str) -> str:
        return self.url(f"/services/data/{API}/{path.lstrip('/')}")

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.s.get(self.data(path), timeout=30, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.s.post(self.data(path), timeout=30, **kw)

    def patch(self, path: str, **kw: Any) -> requests.Response:
        return self.s.patch(self.data(path), timeout=30, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.s.delete(self.data(path), timeout=30, **kw)

    def query(self, soql: str, tooling: bool = False, **kw: Any) -> requests.Response:
        return self.get(("tooling/" if tooling else "") + "query", params={"q": soql}, **kw)


def load(path: Path) -> Any:
    return json.loads(path.read_text())


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def shape_diff(
    expected: Any, actual: Any, path: str = "$", *, allow_extra: bool = True, nullable: bool = True
) -> list[str]:
    """Differences in keys, value types and nesting between a real body and ours.

    Dict keys of `expected` must be present in `actual` (extra keys allowed unless allow_extra=False).
    Lists compare their first element's shape. A null on either side matches any type when
    `nullable` (real bodies have nulls where ours have values and vice versa for optional fields).
    """
    problems: list[str] = []
    ek, ak = _kind(expected), _kind(actual)
    if ek == "null" or ak == "null":
        if nullable or ek == ak:
            return problems
        return [f"{path}: expected {ek}, got {ak}"]
    if ek != ak:
        return [f"{path}: expected {ek}, got {ak}"]
    if isinstance(expected, dict):
        for key in expected:
            if key not in actual:
                problems.append(f"{path}: missing key {key!r}")
            else:
                problems += shape_diff(
                    expected[key], actual[key], f"{path}.{key}", allow_extra=allow_extra, nullable=nullable
                )
        if not allow_extra:
            problems += [f"{path}: extra key {k!r}" for k in actual if k not in expected]
    elif isinstance(expected, list) and expected and actual:
        problems += shape_diff(expected[0], actual[0], f"{path}[0]", allow_extra=allow_extra, nullable=nullable)
    return problems
