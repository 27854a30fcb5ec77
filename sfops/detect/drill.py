"""Drills: a scripted rehearsal of a production failure on a non-production org, with each stage timed.

Like a Chaos Toolkit experiment: a steady-state hypothesis is checked, a failure is injected (method), the
response is observed stage by stage (detected, incident raised, on-call paged, switch flipped, recovered)
against targets, the steady state is restored (rollbacks), and a journal is written as Markdown and JSON.

Injection, `via`:
* `apex`: anonymous Apex that runs 101 SOQL queries (a sandbox; a USER_DEBUG trace flag on the running user
  captures the debug log);
* `control`: an injector the caller passes (`inject_failure`), which writes `failure_injection(at)` (one failing
  debug log and one ApexUnexpectedException event) through a local org's control endpoint. This module never
  addresses such an endpoint itself: client code works unchanged against a real org.

A production org is refused: by its `production = true` in sfops.toml and, for `apex`, by the org itself
(`Organization.IsSandbox`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sfops.detect.detector import run_detection
from sfops.detect.model import DetectConfig
from sfops.errors import SfopsError, UsageError
from sfops.store import Store

STAGES = ("detected", "raised", "paged", "switch_flipped", "recovered")
APEX = (
    "Integer n = 0;\nfor (Integer i = 0; i < 101; i++) {\n"
    "    n += [SELECT COUNT() FROM User WHERE Id = :UserInfo.getUserId()];\n}\n"
)


@dataclass(frozen=True)
class Drill:
    """A named rehearsal."""

    name: str
    hypothesis: str
    method: str
    targets: dict[str, float]  # stage -> seconds after the injection


DRILLS = {
    "governor-limit": Drill(
        name="governor-limit",
        hypothesis="A SOQL governor-limit failure is detected, raised as an incident, paged to the on-call person "
        "and its feature switched off within the targets; the org returns to its steady state.",
        method="Inject System.LimitException: Too many SOQL queries: 101 (debug log and ApexUnexpectedException "
        "event), then run the agent's collection and detection as it would on its next tick.",
        targets={"detected": 60.0, "raised": 60.0, "paged": 90.0, "switch_flipped": 90.0, "recovered": 300.0},
    ),
}


@dataclass
class Stage:
    """One stage of the response: when it happened (seconds after the injection), its target, pass/fail."""

    name: str
    seconds: float | None
    target: float
    passed: bool
    detail: str = ""


@dataclass
class DrillReport:
    """The journal of one drill run."""

    drill: str
    org: str
    run_id: str
    started_at: str
    hypothesis: str
    method: str
    via: str
    steady_state_before: dict[str, Any]
    steady_state_after: dict[str, Any] = field(default_factory=dict)
    stages: list[Stage] = field(default_factory=list)
    rollbacks: list[str] = field(default_factory=list)
    incident: str | None = None
    passed: bool = False
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        """The report as Markdown."""
        rows = "\n".join(
            f"| {s.name} | {'-' if s.seconds is None else f'{s.seconds:.1f} s'} | {s.target:g} s | "
            f"{'pass' if s.passed else 'FAIL'} | {s.detail} |"
            for s in self.stages
        )
        notes = "".join(f"- {n}\n" for n in self.notes) or "- none\n"
        return (
            f"# Drill {self.drill} on {self.org}: {'PASSED' if self.passed else 'FAILED'}\n\n"
            f"Run {self.run_id}, started {self.started_at}, injection via {self.via}.\n\n"
            f"## Steady-state hypothesis\n\n{self.hypothesis}\n\nBefore: `{json.dumps(self.steady_state_before)}`"
            f"\n\nAfter: `{json.dumps(self.steady_state_after)}`\n\n## Method\n\n{self.method}\n\n"
            f"## Stages\n\n| stage | time | target | result | detail |\n|---|---|---|---|---|\n{rows}\n\n"
            f"## Rollbacks\n\n" + "".join(f"- {r}\n" for r in self.rollbacks) + f"\n## Notes\n\n{notes}"
        )


def _failing_log(at: dt.datetime) -> str:
    clock = at.strftime("%H:%M:%S.%f")[:12]
    return "\n".join(
        [
            "64.0 APEX_CODE,FINE;APEX_PROFILING,INFO;DB,INFO;SYSTEM,DEBUG",
            f"{clock} (1000)|EXECUTION_STARTED",
            f"{clock} (2000)|CODE_UNIT_STARTED|[EXTERNAL]|execute_anonymous_apex",
            f"{clock} (3000)|EXCEPTION_THROWN|[3]|System.LimitException: Too many SOQL queries: 101",
            f"{clock} (4000)|FATAL_ERROR|System.LimitException: Too many SOQL queries: 101",
            "",
            "AnonymousBlock: line 3, column 1",
            f"{clock} (5000)|CUMULATIVE_LIMIT_USAGE",
            f"{clock} (5000)|LIMIT_USAGE_FOR_NS|(default)|",
            "  Number of SOQL queries: 101 out of 100 ******* CLOSE TO LIMIT",
            "",
            f"{clock} (5000)|CUMULATIVE_LIMIT_USAGE_END",
            f"{clock} (6000)|CODE_UNIT_FINISHED|execute_anonymous_apex",
            f"{clock} (7000)|EXECUTION_FINISHED",
            "",
        ]
    )


Injector = Callable[[dt.datetime], str]  # injects the failure at a moment; returns what it did


def failure_injection(at: dt.datetime) -> dict[str, Any]:
    """What a `control` injector writes: one failing debug log and one ApexUnexpectedException event at `at`."""
    return {
        "logs": [{"body": _failing_log(at), "at": at.isoformat(), "Status": "Assertion Failed"}],
        "exceptions": [
            {
                "at": at.isoformat(),
                "exception_type": "System.LimitException",
                "exception_message": "Too many SOQL queries: 101",
                "exception_category": "LimitException: SoqlQueries",
                "stack_trace": "AnonymousBlock: line 3, column 1",
            }
        ],
    }


def inject_with_apex(org: Any) -> str:
    """Run the drill's anonymous Apex (101 SOQL queries) on a sandbox; returns what was done."""
    result = org.request("GET", "tooling/executeAnonymous/", params={"anonymousBody": APEX})
    return f"anonymous Apex (101 SOQL queries): success={result.get('success')}, {result.get('exceptionMessage')}"


def _refuse_production(org: Any, production: bool, via: str) -> None:
    if production:
        raise UsageError(
            "Drills never run on a production org (production = true in sfops.toml). Use a sandbox or a local org."
        )
    if via == "apex":
        rows = org.query("SELECT IsSandbox FROM Organization")
        if not rows or not rows[0].get("IsSandbox"):
            raise UsageError(
                "This org is not a sandbox (Organization.IsSandbox is false): drills never run on production."
            )


def run_drill(
    org: Any,
    store: Store,
    config: DetectConfig,
    *,
    alias: str,
    production: bool,
    actor: str,
    incidents: Callable[[], Any],
    drill: Drill,
    via: str = "apex",
    inject_failure: Injector | None = None,
    collect: Callable[[], None] | None = None,
    timeout: float = 120.0,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> DrillReport:
    """Run one drill end to end (see the module docstring) and return its journal."""
    if via not in ("control", "apex"):
        raise UsageError(f"--via must be control or apex, not {via!r}.")
    if via == "control" and inject_failure is None:
        raise UsageError("--via control needs an injector for the org's control endpoint (the CLI passes one).")
    _refuse_production(org, production, via)
    from sfops.detect.actions import actions_log, undo
    from sfops.store.detection import firing_rows
    from sfops.store.notifications import outbox_rows

    run_id = uuid.uuid4().hex[:8]
    started = clock()
    # the drill's own alerts and incidents: the live ones (and their dedup keys) are not touched
    config = dataclasses.replace(
        config,
        rules=[
            dataclasses.replace(
                r, name=f"drill:{r.name}", dedup_key=f"drill-{run_id}:{r.dedup_key}", production_only=False
            )
            for r in config.rules
        ],
    )
    incidents_obj = incidents()
    service = incidents_obj.service
    open_before = [i.ref for i in service.find(open_only=True)]
    report = DrillReport(
        drill=drill.name,
        org=alias,
        run_id=run_id,
        started_at=started.isoformat(),
        hypothesis=drill.hypothesis,
        method=drill.method,
        via=via,
        steady_state_before={"open_incidents": len(open_before)},
    )
    trace_user = None
    if via == "apex":
        from sfops.logs.traceflags import trace_on

        trace_user = org.identity().user_id
        trace_on(org, store, trace_user, actor=actor, reason=f"drill {drill.name} {run_id}", minutes=30)
        report.rollbacks.append("trace flag on the running user (removed at the end)")
    t0 = time.monotonic()
    report.notes.append(inject_failure(clock()) if via == "control" and inject_failure else inject_with_apex(org))
    times: dict[str, float] = {}
    details: dict[str, str] = {}
    incident_id = None
    raised: list[str] = []
    deadline = t0 + timeout
    while (
        time.monotonic() < deadline
        and "paged" not in times
        and not ("raised" in times and time.monotonic() - t0 - times["raised"] > 10)
    ):
        if collect is not None:
            collect()
        result = run_detection(
            store,
            config,
            alias=alias,
            now=clock(),
            production=True,
            actor=actor,
            incidents=lambda: incidents_obj,
            get_org=lambda: org,
        )
        for t in result.transitions:
            if t.kind != "fired" or t.at < started - dt.timedelta(seconds=1):
                continue
            times.setdefault("detected", time.monotonic() - t0)
            details.setdefault("detected", f"rule {t.rule.name}")
            if t.incident_id:
                incident_id = incident_id or t.incident_id
                if t.incident_id not in raised:
                    raised.append(t.incident_id)
                times.setdefault("raised", time.monotonic() - t0)
                details.setdefault("raised", str(t.incident_ref))
            for action in t.actions:
                if action["type"] == "switch_off" and action["outcome"] in ("done", "observed"):
                    times.setdefault("switch_flipped", time.monotonic() - t0)
                    details.setdefault("switch_flipped", f"{action['target']} ({action['outcome']})")
        if incident_id:
            sent = outbox_rows(store, alias=alias, statuses=["sent"], incident_id=incident_id)
            if sent:
                times.setdefault("paged", time.monotonic() - t0)
                details.setdefault(
                    "paged",
                    f"{len(sent)} notification(s) sent: " + ", ".join(sorted({str(n["channel"]) for n in sent})),
                )
        if "paged" not in times:
            time.sleep(2.0)
    # restore the steady state: undo the automatic actions, resolve the drill's incident, remove the trace flag
    for entry in actions_log(store, alias, started - dt.timedelta(seconds=1)):
        if entry["action"] == "detect.action" and entry["outcome"] == "done":
            try:
                undo(org, store, entry["id"], alias=alias, actor=actor, reason=f"drill {drill.name} {run_id}: restore")
                report.rollbacks.append(f"undid automatic action {entry['id']} ({entry['target']})")
            except SfopsError as exc:
                report.notes.append(f"could not undo action {entry['id']}: {exc.message}")
    for n, raised_id in enumerate(raised):
        incident = service.get(raised_id)
        report.incident = report.incident or incident.ref
        if incident.status.value == "New":
            service.acknowledge(incident.id, note=f"drill {drill.name} {run_id}")
        if incident.status.value not in ("Resolved", "Closed"):
            service.resolve(
                incident.id,
                resolution=f"Drill {drill.name} ({run_id}): rehearsal, no real impact",
                root_cause="Injected by sfops drill",
            )
            report.rollbacks.append(f"resolved {incident.ref}" + (" (raised by another rule)" if n else ""))
    if trace_user:
        from sfops.logs.traceflags import trace_off

        trace_off(org, store, trace_user, actor=actor, reason=f"drill {drill.name} {run_id}: restore")
    times.setdefault("recovered", time.monotonic() - t0)
    open_after = [i.ref for i in service.find(open_only=True)]
    report.steady_state_after = {"open_incidents": len(open_after)}
    fired = firing_rows(store, org=alias, since=started)
    details["recovered"] = (
        f"{len(open_after)} open incident(s), as before"
        if open_after == open_before
        else f"open incidents changed: {open_before} -> {open_after}"
    )
    for name in STAGES:
        seconds = times.get(name)
        target = drill.targets[name]
        passed = seconds is not None and seconds <= target and (name != "recovered" or open_after == open_before)
        report.stages.append(
            Stage(
                name,
                None if seconds is None else round(seconds, 2),
                target,
                passed,
                details.get(name, "not reached" if seconds is None else ""),
            )
        )
    report.passed = all(s.passed for s in report.stages)
    report.notes.append(f"{len(fired)} detector firing(s) recorded during the drill")
    return report


def write_report(report: DrillReport, folder: Path) -> tuple[Path, Path]:
    """`drill-<name>-<run>.md` and `.json` in `folder` (which must exist)."""
    stem = folder / f"drill-{report.drill}-{report.run_id}"
    md, js = stem.with_suffix(".md"), stem.with_suffix(".json")
    md.write_text(report.markdown(), encoding="utf-8")
    js.write_text(json.dumps(asdict(report), indent=2, default=str) + "\n", encoding="utf-8")
    return md, js
