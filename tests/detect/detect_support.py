"""Helpers for the detection tests: rules from TOML text, an incident service on the emulator, injections."""

from __future__ import annotations

import datetime as dt
import tomllib
from types import SimpleNamespace
from typing import Any

from sfops.detect import DetectConfig, load_config, run_detection
from sfops.incidents.service import IncidentService

LIMIT_EXCEPTION = {
    "exception_type": "System.LimitException",
    "exception_message": "Too many SOQL queries: 101",
    "exception_category": "LimitException: SoqlQueries",
    "stack_trace": "Class.QuoteGuard.needsReview: line 4, column 1\nTrigger.QuoteTrigger: line 2, column 1",
}


def config(toml: str = "") -> DetectConfig:
    """`[detect]` from a TOML snippet (the text after the [detect] header)."""
    return load_config(tomllib.loads(toml).get("detect", {}))


def iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat()


class Harness:
    """Runs detector ticks against one org and store with an injected clock."""

    def __init__(
        self, org: Any, store: Any, clock: Any, cfg: DetectConfig, *, alias: str = "emu", production: bool = True
    ) -> None:
        self.org, self.store, self.clock, self.cfg = org, store, clock, cfg
        self.alias, self.production = alias, production
        self.service = IncidentService(org, store, alias=alias, actor="sfops-agent", clock=clock)

    def tick(self) -> Any:
        return run_detection(
            self.store,
            self.cfg,
            alias=self.alias,
            now=self.clock(),
            production=self.production,
            actor="sfops-agent",
            incidents=lambda: SimpleNamespace(service=self.service),
            get_org=lambda: self.org,
        )
