"""Breaker -> kill switch: when a breaker opens, switch its linked feature off; when it closes
again, switch it back on, but only if the breaker machinery was what switched it off.

What sfops switched off is remembered in the local store (key `breakers.linked.<org>.<breaker>`)
and mirrored into Circuit_Breaker__c.Kill_Switch_Flipped__c, the flag the Apex CircuitBreaker
uses for the same rule; a close restores the switch when either says so. A switch a person
turned off by hand stays off when the breaker closes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sfops.breakers.core import CircuitBreaker, Listener, Snapshot, State
from sfops.errors import SfopsError
from sfops.switches.service import flip

if TYPE_CHECKING:
    from sfops.salesforce import Org
    from sfops.store import Store


@dataclass(frozen=True)
class LinkOutcome:
    """What the linkage did for one breaker transition."""

    breaker: str
    switch: str | None
    action: str  # switched-off | already-off | already-flipped | restored | not-ours | none | failed
    detail: str = ""
    audit_ids: list[int] = field(default_factory=list)


def _key(org: Org, breaker: str) -> str:
    return f"breakers.linked.{org.alias}.{breaker}"


def flipped_by_sfops(org: Org, store: Store, breaker: str) -> dict[str, Any] | None:
    """The marker left when sfops switched a breaker's linked switch off (None if it did not)."""
    return store.get_state(_key(org, breaker)) or None


def on_breaker_open(
    org: Org,
    store: Store,
    breaker: str,
    switch: str | None,
    *,
    actor: str,
    why: str | None = None,
    incident_id: str | None = None,
) -> LinkOutcome:
    """Switch `switch` off at org level because `breaker` opened (idempotent)."""
    if not switch:
        return LinkOutcome(breaker, None, "none", "no linked kill switch")
    marker = flipped_by_sfops(org, store, breaker)
    reason = f"circuit breaker {breaker} opened" + (f": {why}" if why else "")
    # Always ask the org: the marker says sfops switched it off once, not that it is still off (a
    # person may have switched it on again outside sfops). flip() writes nothing when it is off.
    try:
        result = flip(org, store, {switch: False}, actor=actor, reason=reason, incident_id=incident_id)
    except SfopsError as exc:
        _audit_failure(org, store, breaker, switch, reason, incident_id, actor, exc)
        return LinkOutcome(breaker, switch, "failed", exc.message)
    change = result.changes[0]
    if not change.changed:
        if marker:
            return LinkOutcome(
                breaker, change.switch, "already-flipped", "sfops already switched it off for this breaker"
            )
        return LinkOutcome(
            breaker,
            change.switch,
            "already-off",
            "the switch was already off; it will not be switched on when the breaker closes",
        )
    store.set_state(
        _key(org, breaker),
        {"switch": change.switch, "at": dt.datetime.now(dt.UTC).isoformat(), "audit_ids": result.audit_ids},
    )
    return LinkOutcome(breaker, change.switch, "switched-off", reason, result.audit_ids)


def on_breaker_close(
    org: Org,
    store: Store,
    breaker: str,
    *,
    actor: str,
    why: str | None = None,
    incident_id: str | None = None,
    apex_flipped: str | None = None,
) -> LinkOutcome:
    """Switch the linked switch back on if (and only if) the breaker switched it off: sfops did
    (store marker) or the Apex CircuitBreaker did (`apex_flipped` = the linked switch when
    Kill_Switch_Flipped__c is set on the record)."""
    marker = flipped_by_sfops(org, store, breaker)
    switch = marker["switch"] if marker else apex_flipped
    if not switch:
        return LinkOutcome(breaker, None, "not-ours", "the breaker did not switch anything off")
    reason = f"circuit breaker {breaker} closed" + (f": {why}" if why else "")
    try:
        result = flip(org, store, {switch: True}, actor=actor, reason=reason, incident_id=incident_id)
    except SfopsError as exc:
        _audit_failure(org, store, breaker, switch, reason, incident_id, actor, exc)
        return LinkOutcome(breaker, switch, "failed", exc.message)
    store.delete_state(_key(org, breaker))
    return LinkOutcome(breaker, result.changes[0].switch, "restored", reason, result.audit_ids)


def _audit_failure(
    org: Org,
    store: Store,
    breaker: str,
    switch: str,
    reason: str,
    incident_id: str | None,
    actor: str,
    error: SfopsError,
) -> None:
    store.record_audit(
        actor=actor,
        alias=org.alias,
        action="breaker.link",
        target=f"Circuit_Breaker__c.{breaker}",
        reason=reason,
        incident_id=incident_id,
        outcome="failed",
        details={"switch": switch, "error": error.message},
    )


class KillSwitchLink(Listener):
    """A breaker listener that applies the linkage on open and close transitions.

    The linked switch comes from the breaker's storage (Circuit_Breaker__c.Linked_Kill_Switch__c)
    or from `BreakerConfig.linked_switch`. Outcomes are kept in `outcomes` for inspection.
    """

    def __init__(self, org: Org, store: Store, *, actor: str = "sfops-breaker") -> None:
        self.org, self.store, self.actor = org, store, actor
        self.outcomes: list[LinkOutcome] = []

    def state_change(self, breaker: CircuitBreaker, old: State, new: State, snapshot: Snapshot) -> None:
        switch = snapshot.linked_switch or breaker.config.linked_switch
        if new is State.OPEN and old is State.CLOSED:
            why = snapshot.last_error
            outcome = on_breaker_open(self.org, self.store, breaker.name, switch, actor=self.actor, why=why)
            if outcome.action == "switched-off":
                _mark(breaker, True)
        elif new is State.CLOSED:
            probes = snapshot.success_threshold or breaker.config.success_threshold
            outcome = on_breaker_close(
                self.org,
                self.store,
                breaker.name,
                actor=self.actor,
                why=f"{probes} successful probe(s)" if old is State.HALF_OPEN else None,
                apex_flipped=switch if snapshot.switch_flipped else None,
            )
            if outcome.action == "restored":
                _mark(breaker, False)
        else:
            return
        self.outcomes.append(outcome)


def _mark(breaker: CircuitBreaker, flipped: bool) -> None:
    """Mirror the linkage into Kill_Switch_Flipped__c (for Apex and people looking at the record)."""
    current = breaker.storage.load()
    if current.switch_flipped is not flipped:
        breaker.storage.save(dataclasses.replace(current, switch_flipped=flipped), current)
