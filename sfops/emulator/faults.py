"""Fault injection state, set through POST /__emulator__/faults or CLI flags.

Body of POST /__emulator__/faults (every key optional; keys given replace that knob):
  {"latency": {"fixed_ms": 50, "jitter_ms": 20},
   "fail": {"count": 2, "status": 503, "errorCode": "SERVER_UNAVAILABLE", "message": "...",
            "method": "GET", "path": "/services/data/*/query*"},      # glob on the path
   "expire_sessions": true,
   "lock_record": "001...", "unlock_record": "001...",
   "drop_connections": {"count": 1, "path": "..."},
   "deploy": {"failing_tests": ["MyTest.testX"], "component_problem": "...", "deploys": 1},
   "anonymous": {"compiled": false, "compileProblem": "...", "line": 1, "column": 5},  # executeAnonymous
   "limits": {"DataStorageMB": {"Max": 5, "Remaining": 1}},   # any /limits entry (not DailyApiRequests)
   "api_usage": {"used": 14990, "max": 15000}}
DELETE /__emulator__/faults clears every knob (sessions stay as they are).
"""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import dataclass, field
from typing import Any

from sfops.emulator import ids

# Every key a POST /__emulator__/faults body may hold (a typo must not be ignored silently).
KNOBS = frozenset(
    {
        "latency",
        "fail",
        "expire_sessions",
        "lock_record",
        "unlock_record",
        "drop_connections",
        "deploy",
        "anonymous",
        "limits",
        "api_usage",
    }
)

DEFAULT_MESSAGES = {
    "UNABLE_TO_LOCK_ROW": "unable to obtain exclusive access to this record or 1 records: {id}",
    "REQUEST_LIMIT_EXCEEDED": "TotalRequests Limit exceeded.",
    "SERVER_UNAVAILABLE": "Service Unavailable",
}


@dataclass
class FailRule:
    """The next `count` matching requests fail with `status` / `error_code`."""

    count: int
    status: int
    error_code: str
    message: str
    method: str | None = None
    path: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return not (self.path and not fnmatch.fnmatchcase(path, self.path))


@dataclass
class Faults:
    """All fault knobs. Thread-safe through `lock`."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    fail_rules: list[FailRule] = field(default_factory=list)
    drop_rules: list[FailRule] = field(default_factory=list)
    locked: set[str] = field(default_factory=set)
    deploy: dict[str, Any] | None = None
    anonymous: dict[str, Any] | None = None
    limits: dict[str, dict[str, int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def delay_seconds(self) -> float:
        if not self.latency_ms and not self.jitter_ms:
            return 0.0
        return max(0.0, self.latency_ms + random.uniform(-self.jitter_ms, self.jitter_ms)) / 1000.0

    def take_failure(self, method: str, path: str) -> FailRule | None:
        """The failure to inject for this request (decrements its counter), or None."""
        return self._take(self.fail_rules, method, path)

    def take_drop(self, method: str, path: str) -> bool:
        return self._take(self.drop_rules, method, path) is not None

    def _take(self, rules: list[FailRule], method: str, path: str) -> FailRule | None:
        with self.lock:
            for rule in rules:
                if rule.count > 0 and rule.matches(method, path):
                    rule.count -= 1
                    if rule.count == 0:
                        rules.remove(rule)
                    return rule
        return None

    def is_locked(self, record_id: str) -> bool:
        return ids.looks_like_id(record_id) and ids.normalize(record_id) in self.locked

    def clear(self) -> None:
        with self.lock:
            self.latency_ms = self.jitter_ms = 0.0
            self.fail_rules.clear()
            self.drop_rules.clear()
            self.locked.clear()
            self.deploy = None
            self.anonymous = None
            self.limits = {}

    def describe(self) -> dict[str, Any]:
        """The current knobs as JSON (GET /__emulator__/faults)."""
        with self.lock:
            return {
                "latency": {"fixed_ms": self.latency_ms, "jitter_ms": self.jitter_ms},
                "fail": [vars(r) for r in self.fail_rules],
                "drop_connections": [vars(r) for r in self.drop_rules],
                "locked_records": sorted(self.locked),
                "deploy": self.deploy,
                "anonymous": self.anonymous,
                "limits": self.limits,
            }

    def apply(self, spec: dict[str, Any]) -> None:
        """Apply a POST /__emulator__/faults body (see module docstring). Raises ValueError."""
        unknown = sorted(set(spec) - KNOBS)
        if unknown:
            raise ValueError(f"unknown fault knob(s): {', '.join(unknown)}; valid: {', '.join(sorted(KNOBS))}")
        usage = spec.get("api_usage")
        if usage is not None and not isinstance(usage, dict):
            raise ValueError('api_usage: expected {"used": n, "max": n}')
        with self.lock:
            if "latency" in spec:
                lat = _object(spec["latency"] or {}, "latency")
                self.latency_ms = float(lat.get("fixed_ms", 0))
                self.jitter_ms = float(lat.get("jitter_ms", 0))
            fails = spec.get("fail") or []
            for item in _object_list(fails, "fail"):
                code = str(item.get("errorCode", "SERVER_UNAVAILABLE"))
                self.fail_rules.append(
                    FailRule(
                        count=int(item.get("count", 1)),
                        status=int(item.get("status", 503)),
                        error_code=code,
                        message=str(item.get("message", DEFAULT_MESSAGES.get(code, code))),
                        method=item.get("method"),
                        path=item.get("path"),
                    )
                )
            drops = spec.get("drop_connections")
            if drops:
                drops = {"count": drops} if isinstance(drops, int) else _object(drops, "drop_connections")
                self.drop_rules.append(
                    FailRule(
                        count=int(drops.get("count", 1)),
                        status=0,
                        error_code="",
                        message="",
                        method=drops.get("method"),
                        path=drops.get("path"),
                    )
                )
            for key, adding in (("lock_record", True), ("unlock_record", False)):
                values = spec.get(key)
                for value in [values] if isinstance(values, str) else values or []:
                    if not ids.looks_like_id(value):
                        raise ValueError(f"{key}: not a record id: {value}")
                    (self.locked.add if adding else self.locked.discard)(ids.normalize(value))
            if "deploy" in spec:
                self.deploy = spec["deploy"] or None
            if "anonymous" in spec:
                self.anonymous = spec["anonymous"] or None
            if "limits" in spec:
                given = spec["limits"] or {}
                if not isinstance(given, dict) or not all(isinstance(v, dict) for v in given.values()):
                    raise ValueError('limits: expected {"Name": {"Max": n, "Remaining": n}}')
                self.limits = {
                    k: {kk: int(vv) for kk, vv in v.items() if kk in ("Max", "Remaining")} for k, v in given.items()
                }


def _object(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{key}: expected a JSON object")
    return value


def _object_list(value: Any, key: str) -> list[dict[str, Any]]:
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ValueError(f"{key}: expected a JSON object or a list of objects")
    return items
