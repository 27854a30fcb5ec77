"""The alert state machine: a pure function from (rule, observations, stored states, now) to transitions.

    inactive --true--> pending --true for `for`--> firing --false for `clear_after`--> inactive (cleared)
                 (for = 0: straight to firing)      |  new events while firing: "updated"

"held" is a tick where the condition is still true and nothing else happened (only `last_true_at` moves).

Hysteresis: a firing alert clears only after its condition has been false for `clear_after`, so a gap between
two failures does not close and reopen the incident. Flapping: when an alert has fired `flap_max` times within
`flap_window`, it stays firing until its condition has been false for the whole `flap_window` ("damped").
The live detector and `sfops detect test` (replay) share this code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sfops.detect.model import Observation, Rule, Transition

INACTIVE, PENDING, FIRING = "inactive", "pending", "firing"


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def _time(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def new_state(rule: Rule, key: str, now: dt.datetime) -> dict[str, Any]:
    """A fresh alert row for (rule, key)."""
    return {
        "rule": rule.name,
        "key": key,
        "state": INACTIVE,
        "pending_since": None,
        "fired_at": None,
        "last_true_at": None,
        "cleared_at": None,
        "incident_id": None,
        "value": None,
        "flips": [],
        "details": {},
        "updated_at": now,
    }


def _recent_flips(state: Mapping[str, Any], rule: Rule, now: dt.datetime) -> list[str]:
    return [f for f in state.get("flips") or [] if (_time(f) or now) >= now - rule.flap_window]


def step(
    rule: Rule, observations: Mapping[str, Observation], states: Mapping[str, dict[str, Any]], now: dt.datetime
) -> list[Transition]:
    """Advance every alert of `rule` to `now`; returns the transitions (states are updated in place copies)."""
    out: list[Transition] = []
    keys = {k for k, o in observations.items() if o.true} | {k for k, s in states.items() if s["state"] != INACTIVE}
    for key in sorted(keys):
        obs = observations.get(key)
        state = dict(states.get(key) or new_state(rule, key, now))
        state["updated_at"] = now
        kind = _advance(rule, obs, state, now)
        if kind is not None:
            out.append(
                Transition(
                    rule=rule,
                    key=key,
                    kind=kind,
                    at=now,
                    observation=obs,
                    state=state,
                    incident_id=state.get("incident_id"),
                )
            )
    return out


def _advance(rule: Rule, obs: Observation | None, state: dict[str, Any], now: dt.datetime) -> str | None:
    details = dict(state.get("details") or {})
    state["details"] = details
    if obs is not None and obs.true:
        state["last_true_at"] = now
        state["value"] = f"{obs.value:g}"
        newest = _iso(obs.newest)
        if state["state"] == FIRING:
            details["damped"] = False
            if newest is not None and newest > (details.get("newest") or ""):
                details.update(newest=newest, count=obs.count)
                return "updated"
            return "held"
        if state["state"] == INACTIVE:
            state.update(state=PENDING, pending_since=now)
            if rule.for_.total_seconds() > 0:
                details.update(newest=newest, count=obs.count)
                return "pending"
        pending_since = _time(state.get("pending_since")) or now
        if now - pending_since >= rule.for_:
            flips = _recent_flips(state, rule, now)
            state.update(state=FIRING, fired_at=now, cleared_at=None, flips=[*flips, _iso(now)])
            details.update(newest=newest, count=obs.count, damped=False)
            return "fired"
        details.update(newest=newest, count=obs.count)
        return "held"
    # the condition is false (or there is nothing in the window any more)
    if state["state"] == PENDING:
        state.update(state=INACTIVE, pending_since=None)
        return "reset"
    if state["state"] != FIRING:
        return None
    # When did it become false? Between ticks the events of the window still held it true until the newest one
    # left the window (an upper bound for thresholds above one), so sparse ticks do not clear early.
    ended = _time(state.get("last_true_at")) or now
    if rule.signal != "limits" and details.get("newest"):
        ended = max(ended, min(now, (_time(details["newest"]) or now) + rule.window))
    quiet_for = now - ended
    flips = _recent_flips(state, rule, now)
    flapping = len(flips) >= rule.flap_max
    needed = max(rule.clear_after, rule.flap_window) if flapping else rule.clear_after
    if quiet_for >= needed:
        state.update(state=INACTIVE, cleared_at=now, pending_since=None, flips=flips)
        details["damped"] = False
        return "cleared"
    if flapping and quiet_for >= rule.clear_after and not details.get("damped"):
        details["damped"] = True
        return "damped"
    return None
