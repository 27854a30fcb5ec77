"""What the detector works with: rules (from `[[detect.rules]]`), their actions, alert states and transitions."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

SIGNALS = ("failures", "exceptions", "long_running", "async_jobs", "limits", "breakers", "integrations", "deploys")
CONDITIONS = ("threshold", "rate", "new_fingerprint", "forecast", "failure_rate")
ACTIONS = ("switch_off", "breaker_open", "trace")
SEVERITIES = ("P1", "P2", "P3", "P4")
MODES = ("act", "observe")

# What each signal groups by when a rule does not say (one alert, and one incident, per group).
DEFAULT_GROUP_BY: dict[str, tuple[str, ...]] = {
    "failures": ("fingerprint",),
    "exceptions": ("fingerprint",),
    "async_jobs": ("apex_class",),
    "long_running": ("exception_type",),  # one alert per org: the limit is the org's, not a page's
    "limits": ("name",),
    "breakers": ("name",),
    "integrations": ("name",),
    "deploys": ("id",),
}
# Incident category per signal (Incident_Log__c.Category__c), unless the rule says.
DEFAULT_CATEGORY: dict[str, str] = {
    "failures": "Other",
    "exceptions": "Other",
    "async_jobs": "Other",
    "long_running": "Governor Limit",
    "limits": "Governor Limit",
    "breakers": "Integration",
    "integrations": "Integration",
    "deploys": "Deployment",
}

_DURATION = re.compile(r"(\d+)([smhd])", re.IGNORECASE)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str | int | float, where: str) -> dt.timedelta:
    """`30s`, `15m`, `6h`, `1d`, `1h30m` (or a number of seconds) into a timedelta; 0 is allowed."""
    from sfops.errors import ConfigError

    if isinstance(text, bool):
        raise ConfigError(f"{where}: expected a duration like 15m, got {text!r}.")
    if isinstance(text, int | float):
        return dt.timedelta(seconds=float(text))
    compact = str(text).strip().replace(" ", "")
    parts = _DURATION.findall(compact)
    if compact in ("0", ""):
        return dt.timedelta(0)
    if not parts or "".join(n + u for n, u in parts).lower() != compact.lower():
        raise ConfigError(f"{where}: bad duration '{text}': use e.g. 30s, 15m, 6h, 1d or 1h30m.")
    return dt.timedelta(seconds=sum(int(n) * _SECONDS[u.lower()] for n, u in parts))


def fmt_duration(delta: dt.timedelta) -> str:
    """A timedelta as `1h30m`, `15m`, `45s`, `0s`."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "0s"
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out += f"{seconds // size}{unit}"
            seconds %= size
    return out


@dataclass(frozen=True)
class Action:
    """An opt-in action of a rule, done once when the rule fires (guard rails apply)."""

    type: str  # switch_off | breaker_open | trace
    target: str  # switch name, breaker name, or user ("{user_id}" takes the failing user)
    scope: str | None = None  # switch scope (org default when None)
    minutes: int = 30  # trace flag length

    def describe(self) -> str:
        if self.type == "switch_off":
            return f"switch {self.target} off" + (f" at {self.scope}" if self.scope else "")
        if self.type == "breaker_open":
            return f"open breaker {self.target}"
        return f"trace {self.target} for {self.minutes} min"


@dataclass(frozen=True)
class Rule:
    """One detection rule: a signal, a condition over a window, and what firing does."""

    name: str
    signal: str
    condition: str
    severity: str
    description: str = ""
    match: dict[str, Any] = field(default_factory=dict)  # field -> value or list of values ("*" globs)
    threshold: float = 1.0  # events in the window (limits: percent used)
    rate: float | None = None  # events per minute over the window (condition "rate")
    min_calls: int = 10  # condition "failure_rate": fewer calls in the window never fire
    window: dt.timedelta = dt.timedelta(minutes=15)
    within: dt.timedelta = dt.timedelta(hours=6)  # forecast horizon (condition "forecast")
    for_: dt.timedelta = dt.timedelta(0)  # how long the condition must hold before firing
    clear_after: dt.timedelta = dt.timedelta(minutes=15)  # how long it must be false before clearing
    flap_window: dt.timedelta = dt.timedelta(hours=1)
    flap_max: int = 3  # fires inside flap_window after which clearing waits for a quiet flap_window
    group_by: tuple[str, ...] = ()
    dedup_key: str = "sfops:{org}:{rule}:{group}"
    summary: str = "{rule}: {count} in {window} ({group})"
    category: str | None = None
    production_only: bool = False
    mitigate_on_clear: bool = True
    actions: tuple[Action, ...] = ()
    builtin: bool = False

    @property
    def groups(self) -> tuple[str, ...]:
        return self.group_by or DEFAULT_GROUP_BY[self.signal]

    def condition_text(self) -> str:
        """The condition in one line, e.g. `>= 1 in 15m` or `forecast within 6h`."""
        if self.condition == "threshold":
            unit = "% used" if self.signal == "limits" else f" in {fmt_duration(self.window)}"
            return f">= {self.threshold:g}{unit}"
        if self.condition == "rate":
            return f">= {self.rate:g}/min over {fmt_duration(self.window)}"
        if self.condition == "failure_rate":
            return (
                f">= {self.threshold:g}% of calls failed over {fmt_duration(self.window)} (>= {self.min_calls} calls)"
            )
        if self.condition == "new_fingerprint":
            return f"fingerprint never seen before (first seen within {fmt_duration(self.window)})"
        return f"runs out within {fmt_duration(self.within)}"


@dataclass
class DetectConfig:
    """`[detect]`: mode, guard rails for actions, and the rules."""

    rules: list[Rule]
    mode: str = "act"
    max_actions_per_hour: int = 3
    quiet: list[dict[str, Any]] = field(default_factory=list)  # windows with no automatic action
    lookback: dt.timedelta = dt.timedelta(hours=24)  # first tick: how far back fingerprints are learned
    enabled: bool = True


@dataclass(frozen=True)
class Observation:
    """A rule's condition for one group at one moment: true or not, its value, and the matching events."""

    key: str  # the dedup key
    group: dict[str, Any]
    true: bool
    value: float
    count: int = 0
    newest: dt.datetime | None = None
    sample: dict[str, Any] = field(default_factory=dict)  # one matching event (for the summary and actions)


@dataclass
class Transition:
    """What one evaluation changed for one alert: fired, updated, cleared, pending, damped."""

    rule: Rule
    key: str
    kind: str
    at: dt.datetime
    observation: Observation | None
    state: dict[str, Any]
    incident_id: str | None = None
    incident_ref: str | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)
    note: str | None = None
