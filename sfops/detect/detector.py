"""One detector tick for one org: observe every rule over stored signals, advance the alert states, and respond
(raise or update the incident through IncidentService, attach what changed, run the opt-in actions, write the
timeline on clearing and mark the incident mitigated).

The tick reads only the rules' windows from the store and makes no org API call unless an alert fires,
updates or clears (an idle tick is free).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sfops.detect import actions as detect_actions
from sfops.detect import engine
from sfops.detect.model import DetectConfig, Observation, Rule, Transition, fmt_duration
from sfops.detect.signals import (
    Fingerprints,
    StoreFingerprints,
    data_key,
    events,
    load_limit_frame,
    observe_events,
    observe_limits,
    render,
)
from sfops.errors import SfopsError
from sfops.store import Store
from sfops.store import detection as db

log = logging.getLogger(__name__)
LEARNED_KEY = "detect.learned.{org}"
FINGERPRINTED = ("failures", "exceptions")
RECORDED = ("fired", "updated", "cleared", "damped")
SLACK = dt.timedelta(seconds=1)  # the org and the store keep times to the millisecond or second


@dataclass
class DetectResult:
    """What a tick did."""

    org: str
    at: dt.datetime
    rules: int = 0
    events: int = 0
    transitions: list[Transition] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    learned: int | None = None

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.transitions:
            out[t.kind] = out.get(t.kind, 0) + 1
        return out


class Observer:
    """Reads the signals for a set of rules at one moment (each signal's window read once per tick)."""

    def __init__(
        self,
        store: Store,
        alias: str,
        rules: list[Rule],
        fingerprints: Fingerprints,
        *,
        source: Callable[..., list[dict[str, Any]]] = events,
        limit_frame: Any = None,
    ) -> None:
        self.store, self.alias, self.rules, self.fingerprints = store, alias, rules, fingerprints
        self.source, self.limit_frame = source, limit_frame
        self.data_org = data_key(store, alias)
        self.read = 0

    def observe(self, now: dt.datetime) -> dict[str, dict[str, Observation]]:
        """rule name -> (dedup key -> observation) at `now`."""
        windows: dict[str, dt.timedelta] = {}
        for rule in self.rules:
            if rule.signal != "limits":
                windows[rule.signal] = max(windows.get(rule.signal, dt.timedelta(0)), rule.window)
        found = {
            signal: self.source(self.store, self.alias, signal, now - span, now, self.data_org)
            for signal, span in windows.items()
        }
        self.read += sum(len(v) for v in found.values())
        for signal in FINGERPRINTED:
            seen: dict[str, tuple[dt.datetime, str]] = {}
            for event in found.get(signal, []):
                fp = event.get("fingerprint")
                if fp and fp not in seen:
                    seen[str(fp)] = (event["at"], str(event.get("source")))
            if seen:
                self.fingerprints.remember(seen)
        frame = self.limit_frame
        if frame is None and any(r.signal == "limits" for r in self.rules):
            frame = load_limit_frame(self.store, self.alias, now - dt.timedelta(hours=25))
        out = {}
        for rule in self.rules:
            if rule.signal == "limits":
                out[rule.name] = observe_limits(rule, self.alias, frame, now)
            else:
                out[rule.name] = observe_events(rule, self.alias, found[rule.signal], now, self.fingerprints)
        return out


def active_rules(config: DetectConfig, production: bool) -> list[Rule]:
    """The rules that apply to an org (production-only rules skip sandboxes and scratch orgs)."""
    return [r for r in config.rules if production or not r.production_only]


def learn(store: Store, alias: str, config: DetectConfig, now: dt.datetime) -> int | None:
    """First tick for an org: every fingerprint already stored (errors, and debug logs of the lookback) is
    known, so `new_fingerprint` means "new since the detector started watching" and a first tick over a
    long history does not page for old failures (threshold rules still see them). Returns how many."""
    key = LEARNED_KEY.format(org=alias)
    if store.get_state(key):
        return None
    logs = data_key(store, alias)
    seen = db.error_fingerprints_before(store, logs, now + dt.timedelta(microseconds=1))
    for event in db.log_failures(store, logs, now - config.lookback, now):
        if event.get("fingerprint"):
            seen.setdefault(str(event["fingerprint"]), (event["at"], "ApexLog"))
    # recorded as seen before any rule's window: "new" means new since the detector started watching
    before = now - config.lookback - max([r.window for r in config.rules] or [dt.timedelta(0)])
    learned = db.remember_fingerprints(
        store, alias, {fp: (min(at, before), f"learned:{source}"[:40]) for fp, (at, source) in seen.items()}
    )
    store.set_state(key, now.astimezone(dt.UTC).isoformat())
    return learned


def fields_for(rule: Rule, obs: Observation | None, org: str) -> dict[str, Any]:
    """What rule templates may name: the rule, the org, the group, counts, and the newest event's fields."""
    base: dict[str, Any] = {
        "rule": rule.name,
        "org": org,
        "severity": rule.severity,
        "window": fmt_duration(rule.window),
        "within": fmt_duration(rule.within),
    }
    if obs is None:
        return base
    label = "/".join(str(v) for v in obs.group.values())
    return {**obs.sample, **obs.group, **base, "group": label, "count": obs.count, "value": f"{obs.value:g}"}


class Responder:
    """Turns transitions into incidents, timeline entries and actions."""

    def __init__(
        self,
        store: Store,
        config: DetectConfig,
        *,
        alias: str,
        actor: str,
        now: dt.datetime,
        incidents: Callable[[], Any],
        get_org: Callable[[], Any],
    ) -> None:
        self.store, self.config, self.alias, self.actor, self.now = store, config, alias, actor, now
        self._incidents_factory, self._get_org = incidents, get_org
        self._incidents: Any = None
        self._resumed_from: dt.datetime | None = None

    @property
    def incidents(self) -> Any:
        if self._incidents is None:
            self._incidents = self._incidents_factory()
        return self._incidents

    def respond(self, t: Transition, *, resumed_from: dt.datetime | None = None) -> None:
        """Raise, update, note or mitigate for one transition. `resumed_from`: when the same firing was recorded
        as pending by an earlier tick that did not settle it, the steps that tick finished are not done again."""
        self._resumed_from = resumed_from
        if t.kind in ("fired", "updated"):
            self._raise(t)
        elif t.kind == "cleared":
            self._clear(t)
        elif t.kind == "damped" and t.incident_id:
            self._note(
                t,
                f"rule {t.rule.name} is flapping ({t.rule.flap_max} fires within "
                f"{fmt_duration(t.rule.flap_window)}): it stays firing until quiet for "
                f"{fmt_duration(max(t.rule.flap_window, t.rule.clear_after))}",
            )

    def _noted(self, t: Transition) -> bool:
        """Did the unsettled earlier attempt of this firing already write its timeline entry?"""
        from sfops.incidents.records import events as incident_events

        if self._resumed_from is None or not t.incident_id:
            return False
        return any(
            e.get("kind") == "detect"
            and e["at"] >= self._resumed_from - SLACK
            and (e.get("details") or {}).get("rule") == t.rule.name
            and (e.get("details") or {}).get("key") == t.key
            and (e.get("details") or {}).get("transition") == t.kind
            for e in incident_events(self.store, self.alias, str(t.incident_id))
        )

    def _raised_before(self, t: Transition) -> Any:
        """The incident the unsettled earlier attempt of this firing raised or counted, if it got that far."""
        from sfops.incidents.records import list_incidents

        if self._resumed_from is None:
            return None
        for incident in list_incidents(self.store, self.alias):
            seen = incident.last_seen_at or incident.detected_at  # raised, or counted as a repeat (recurred)
            if incident.dedup_key == t.key and seen is not None and seen >= self._resumed_from - SLACK:
                return incident
        return None

    def _acted_before(self, t: Transition, incident_id: str) -> list[dict[str, Any]] | None:
        """The actions the unsettled earlier attempt already ran (audited), or None when it ran none."""
        if self._resumed_from is None:
            return None
        done = [
            r
            for r in db.audit_events(
                self.store,
                self.alias,
                detect_actions.AUDIT_ACTION,
                self._resumed_from - SLACK,
                self.now + dt.timedelta(seconds=1),
            )
            if r.get("incident_id") == incident_id and (r.get("details") or {}).get("rule") == t.rule.name
        ]
        return [
            {
                "type": (r.get("details") or {}).get("type"),
                "target": r.get("target"),
                "outcome": r.get("outcome"),
                "audit_id": r.get("id"),
            }
            for r in done
        ] or None

    def _note(self, t: Transition, note: str) -> None:
        from sfops.incidents.records import add_event

        if self._noted(t):
            return
        add_event(
            self.store,
            alias=self.alias,
            incident_id=str(t.incident_id),
            kind="detect",
            actor=self.actor,
            at=self.now,
            note=note,
            details={"rule": t.rule.name, "key": t.key, "transition": t.kind},
        )

    def _raise(self, t: Transition) -> None:
        from sfops.detect.model import DEFAULT_CATEGORY

        rule, obs = t.rule, t.observation
        fields = fields_for(rule, obs, self.alias)
        summary = render(rule.summary, fields)[:1000]
        context = json.dumps(
            {
                "rule": rule.name,
                "signal": rule.signal,
                "condition": rule.condition_text(),
                "group": obs.group if obs else {},
                "count": obs.count if obs else 0,
                "value": obs.value if obs else None,
                "sample": {
                    k: v
                    for k, v in (obs.sample if obs else {}).items()
                    if isinstance(v, str | int | float | bool) or v is None
                },
            },
            default=str,
        )
        earlier = self._raised_before(t)
        if earlier is not None:  # raised (and paged) by the tick that crashed before settling: not again
            incident, created, recurred = earlier, False, False
        else:
            outcome = self.incidents.service.raise_incident(
                rule.severity,
                summary,
                context=context,
                category=rule.category or DEFAULT_CATEGORY[rule.signal],
                dedup_key=t.key,
                source=f"detect:{rule.name}"[:255],
            )
            incident, created, recurred = outcome.incident, outcome.created, outcome.recurred
        t.incident_id, t.incident_ref = incident.id, incident.ref
        t.state["incident_id"] = incident.id
        if t.kind == "updated":
            return
        noted = self._noted(t)
        self._note(
            t, f"rule {rule.name} fired: {rule.signal} {rule.condition_text()} (value {fields.get('value', '-')})"
        )
        if (created or recurred or earlier is not None) and not noted:
            self._attach_changes(t, incident)
        acted = self._acted_before(t, incident.id) if rule.actions else None
        if acted is not None:
            t.actions = acted
        elif rule.actions:
            t.actions = detect_actions.run_actions(
                rule,
                self.config,
                self._get_org(),
                self.store,
                alias=self.alias,
                actor=self.actor,
                incident_id=incident.id,
                incident_ref=incident.ref,
                sample=dict(obs.sample if obs else {}),
                now=self.now,
            )

    def _attach_changes(self, t: Transition, incident: Any) -> None:
        try:
            from sfops.changes import attach_to_incident, collect_changes
        except ImportError:
            return
        sample = t.observation.sample if t.observation else {}
        try:
            collect_changes(self._get_org(), self.store, self.alias, now=self.now)  # the latest deploys first
            attach_to_incident(
                self.store,
                self.alias,
                incident.id,
                detected_at=self.now,
                actor=self.actor,
                stack_texts=[sample.get("stack"), sample.get("entry_point")],
                org=self._get_org(),
            )
        except SfopsError as exc:  # the incident stands; the investigation aid is best effort
            log.warning("could not attach changes to %s: %s", incident.ref, exc.message)

    def _clear(self, t: Transition) -> None:
        if not t.incident_id:
            return
        from sfops.incidents.model import Status

        rule = t.rule
        self._note(t, f"rule {rule.name} cleared: condition false for {fmt_duration(rule.clear_after)}")
        if not rule.mitigate_on_clear:
            return
        service = self.incidents.service
        incident = service.get(t.incident_id)
        t.incident_ref = incident.ref
        if incident.status in (Status.TRIAGED, Status.INVESTIGATING):
            service.mitigate(incident.id, note=f"{rule.name} cleared: failures stopped")
        elif incident.status == Status.NEW:
            self._note(t, "not marked mitigated: nobody acknowledged it yet (sfops incident ack)")


def run_detection(
    store: Store,
    config: DetectConfig,
    *,
    alias: str,
    now: dt.datetime,
    production: bool,
    actor: str,
    incidents: Callable[[], Any],
    get_org: Callable[[], Any],
    fingerprints: Fingerprints | None = None,
) -> DetectResult:
    """One detector tick for one org (see the module docstring)."""
    result = DetectResult(org=alias, at=now)
    if not config.enabled:
        return result
    rules = active_rules(config, production)
    result.rules = len(rules)
    if any(r.condition == "new_fingerprint" for r in rules):
        result.learned = learn(store, alias, config, now)
    observer = Observer(store, alias, rules, fingerprints or StoreFingerprints(store, alias))
    observed = observer.observe(now)
    result.events = observer.read
    alerts = db.load_alerts(store, alias)
    responder = Responder(store, config, alias=alias, actor=actor, now=now, incidents=incidents, get_org=get_org)
    pending = db.pending_firings(store, alias)
    rows, firings = [], []
    for rule in rules:
        states = {key: row for (name, key), row in alerts.items() if name == rule.name}
        for t in engine.step(rule, observed[rule.name], states, now):
            if t.kind in RECORDED:
                # intent first: a crash after the page but before the settle below leaves this record pending,
                # and the next tick finishes the same firing (no second raise, page or action)
                earlier = pending.pop((rule.name, t.key, t.kind), None)
                firing_id = (
                    earlier["id"]
                    if earlier
                    else db.record_firing_intent(
                        store,
                        alias,
                        {"rule": rule.name, "key": t.key, "kind": t.kind, "at": now, "severity": rule.severity},
                    )
                )
                try:
                    responder.respond(t, resumed_from=earlier["at"] if earlier else None)
                except SfopsError as exc:
                    result.errors.append(f"{rule.name} {t.kind} {t.key}: {exc.message}")
                    log.error("detect %s %s %s failed: %s", rule.name, t.kind, t.key, exc.message)
                    continue  # the state stays as it was (the intent stays pending): the next tick tries again
                firings.append(
                    {
                        "id": firing_id,
                        "rule": rule.name,
                        "key": t.key,
                        "kind": t.kind,
                        "at": earlier["at"] if earlier else now,
                        "severity": rule.severity,
                        "incident_id": t.incident_id,
                        "value": t.state.get("value"),
                        "details": {
                            "status": "done",
                            "incident": t.incident_ref,
                            "actions": [
                                {k: a.get(k) for k in ("type", "target", "outcome", "why", "audit_id")}
                                for a in t.actions
                            ],
                        }
                        | ({"resumed_at": now.isoformat()} if earlier else {}),
                    }
                )
            rows.append(t.state)
            if t.kind != "held":
                result.transitions.append(t)
    db.save_alerts(store, alias, rows, firings)
    return result


def firings(
    store: Store,
    *,
    org: str | None = None,
    since: dt.datetime | None = None,
    rule: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Recorded firings (fired, updated, cleared, damped), newest first: what the agent's metrics count."""
    return db.firing_rows(store, org=org, since=since, rule=rule, limit=limit)


def firing_counts(store: Store, org: str | None = None) -> dict[tuple[str, str, str], int]:
    """(org, rule, kind) -> number of firing records."""
    return db.firing_counts(store, org)
