"""`sfops detect test`: replay the rules over stored history and show what would have fired and when.

The replay steps a clock from `since` to `until` and runs the same observation and state machine as the live
detector, with its own in-memory states and fingerprints: nothing is raised, paged or changed, and the live
detector's state is untouched (the idea of `promtool test rules`).
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sfops.detect import engine
from sfops.detect.detector import Observer, active_rules, fields_for
from sfops.detect.model import DetectConfig
from sfops.detect.signals import MemoryFingerprints, data_key, events, load_limit_frame, render
from sfops.store import Store
from sfops.store import detection as db


@dataclass
class ReplayResult:
    """Every transition the rules would have made, in time order."""

    org: str
    since: dt.datetime
    until: dt.datetime
    step: dt.timedelta
    ticks: int = 0
    rules: int = 0
    transitions: list[dict[str, Any]] = field(default_factory=list)


class _Preloaded:
    """Each signal's events over the whole replay, read once; windows are sliced out by time."""

    def __init__(self, store: Store, alias: str, since: dt.datetime, until: dt.datetime) -> None:
        self.store, self.alias, self.since, self.until = store, alias, since, until
        self.cache: dict[str, tuple[list[dt.datetime], list[dict[str, Any]]]] = {}

    def __call__(
        self, _store: Store, _alias: str, signal: str, start: dt.datetime, end: dt.datetime, data_org: str | None = None
    ) -> list[dict[str, Any]]:
        if signal not in self.cache:
            found = events(self.store, self.alias, signal, self.since, self.until, data_org)
            self.cache[signal] = ([e["at"] for e in found], found)
        times, found = self.cache[signal]
        return found[bisect.bisect_left(times, start) : bisect.bisect_right(times, end)]


def replay(
    store: Store,
    config: DetectConfig,
    *,
    alias: str,
    since: dt.datetime,
    until: dt.datetime,
    production: bool,
    step: dt.timedelta = dt.timedelta(minutes=1),
) -> ReplayResult:
    """What the rules would have done between `since` and `until`, evaluated every `step`."""
    rules = active_rules(config, production)
    result = ReplayResult(org=alias, since=since, until=until, step=step, rules=len(rules))
    longest = max([r.window for r in rules] + [config.lookback, dt.timedelta(hours=25)])
    fingerprints = MemoryFingerprints()
    history_start = since - longest
    logs = data_key(store, alias)
    fingerprints.remember(db.error_fingerprints_before(store, logs, since))
    for event in db.log_failures(store, logs, since - config.lookback, since):
        if event.get("fingerprint"):
            fingerprints.remember({str(event["fingerprint"]): (event["at"], "ApexLog")})
    frame = load_limit_frame(store, alias, history_start) if any(r.signal == "limits" for r in rules) else None
    observer = Observer(
        store, alias, rules, fingerprints, source=_Preloaded(store, alias, history_start, until), limit_frame=frame
    )
    states: dict[str, dict[str, dict[str, Any]]] = {r.name: {} for r in rules}
    now = since
    while now <= until:
        observed = observer.observe(now)
        for rule in rules:
            for t in engine.step(rule, observed[rule.name], states[rule.name], now):
                states[rule.name][t.key] = t.state
                if t.kind in ("fired", "cleared", "damped", "pending"):
                    fields = fields_for(rule, t.observation, alias)
                    result.transitions.append(
                        {
                            "at": now,
                            "rule": rule.name,
                            "kind": t.kind,
                            "severity": rule.severity,
                            "key": t.key,
                            "value": t.state.get("value"),
                            "summary": render(rule.summary, fields) if t.kind == "fired" else "",
                            "actions": [a.describe() for a in rule.actions] if t.kind == "fired" else [],
                        }
                    )
        result.ticks += 1
        now += step
    return result
