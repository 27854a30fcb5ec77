"""What every check of the gate reads: the org, the store, the settings, the clock and release B."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sfops.release.config import ReleaseConfig
from sfops.release.source import Release, load_release

if TYPE_CHECKING:
    from sfops.salesforce import Org
    from sfops.store import Store


@dataclass
class GateContext:
    """Inputs of one gate run. `sections` are sfops.toml tables (rollback, oncall, alerts)."""

    org: Org
    store: Store
    alias: str
    repo: str
    from_ref: str
    to_ref: str
    config: ReleaseConfig
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    actor: str = "sfops"
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    sandbox: Org | None = None
    sleep: Callable[[float], None] = time.sleep
    validation_id: str | None = None  # B's own check-only deploy: the tests check reads its results

    @cached_property
    def release(self) -> Release:
        return load_release(self.repo, self.from_ref, self.to_ref, self.config.guards)

    @property
    def repo_path(self) -> Path:
        return Path(self.repo)

    @cached_property
    def now(self) -> dt.datetime:
        """One moment for the whole run, so every check judges the same time."""
        return self.clock()

    def section(self, name: str) -> Mapping[str, Any]:
        return self.sections.get(name) or {}
