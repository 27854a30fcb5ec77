"""`sfops detect`: the detection rules, a replay over stored history, one tick now, firings and actions."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import click

from sfops.cli.common import output_command, pass_app, reason_option, target_org_option, yes_option
from sfops.cli.context import AppContext
from sfops.cli.output import Result, when_text
from sfops.errors import UsageError

# sfops.detect (pandas, SQLAlchemy) is imported inside the commands: `sfops detect --help` stays fast.

RULE_COLUMNS = ["rule", "when", "sev", "actions"]
REPLAY_COLUMNS = ["at", "rule", "kind", "severity", "key", "summary", "actions"]


@click.group("detect")
def detect() -> None:
    """Detection rules: list them, replay them over stored history, run one tick, undo automatic actions."""


def _config(app: AppContext) -> Any:
    from sfops.detect import load_config

    return load_config(app.settings.section("detect"))


def _since(text: str, now: dt.datetime) -> dt.datetime:
    from sfops.cli.limits import parse_since

    return parse_since(text, now)


@detect.command("rules")
@output_command
@pass_app
def rules_cmd(app: AppContext) -> Result:
    """The rules in force: the default set merged with [[detect.rules]] from sfops.toml."""
    from sfops.detect.model import fmt_duration
    from sfops.logs.errors import event_object_fallbacks

    config = _config(app)
    rows = []
    for r in config.rules:
        where = (
            " where "
            + ", ".join(f"{k}={'|'.join(map(str, v)) if isinstance(v, list) else v}" for k, v in r.match.items())
            if r.match
            else ""
        )
        timing = (f"; for {fmt_duration(r.for_)}" if r.for_ else "") + f"; clears after {fmt_duration(r.clear_after)}"
        rows.append(
            {
                "rule": r.name + ("" if r.builtin else " *"),
                "when": f"{r.signal} {r.condition_text()}{where}" + timing,
                "sev": r.severity + (" prod" if r.production_only else ""),
                "actions": "; ".join(a.describe() for a in r.actions) or "-",
            }
        )
    message = (
        f"{len(config.rules)} rule(s) (* from sfops.toml, prod = production orgs only); mode {config.mode}; "
        f"at most {config.max_actions_per_hour} automatic "
        f"action(s) per org per hour"
        + (f"; {len(config.quiet)} quiet window(s)" if config.quiet else "")
        + ("" if config.enabled else "; detection is OFF ([detect] enabled = false)")
        + "."
    )
    fallbacks = event_object_fallbacks(app.store)
    for org, note in sorted(fallbacks.items()):  # said once here, not on every agent tick
        message += f"\nOrg {org}: {note}"
    return Result(
        data={
            "mode": config.mode,
            "max_actions_per_hour": config.max_actions_per_hour,
            "quiet": config.quiet,
            "rules": config.rules,
            "exception_sources": {
                org: {"ApexUnexpectedExcpEventLog": False, "note": note} for org, note in fallbacks.items()
            },
        },
        rows=rows,
        columns=RULE_COLUMNS,
        title="Detection rules",
        message=message,
    )


@detect.command("test")
@target_org_option
@click.option(
    "--since",
    default="24h",
    show_default=True,
    metavar="WHEN",
    help="Replay from: a duration back from now (90m, 24h, 7d) or an ISO date/time.",
)
@click.option("--step", default="1m", show_default=True, help="Evaluate every STEP (like the agent's detect job).")
@click.option("--rule", "only", multiple=True, help="Only this rule (repeatable).")
@output_command
@pass_app
def test_cmd(app: AppContext, target_org: str | None, since: str, step: str, only: tuple[str, ...]) -> Result:
    """Replay the rules over stored history: what would have fired, cleared or waited, and when.

    Nothing is raised, paged or changed, and the live detector's state is untouched.
    """
    from sfops.detect import replay
    from sfops.detect.model import parse_duration

    config = _config(app)
    if only:
        unknown = sorted(set(only) - {r.name for r in config.rules})
        if unknown:
            raise UsageError(f"Unknown rule(s) {', '.join(unknown)}. Rules: {', '.join(r.name for r in config.rules)}.")
        config.rules = [r for r in config.rules if r.name in only]
    org_config = app.org_config(target_org)
    now = dt.datetime.now(dt.UTC)
    start = _since(since, now)
    step_delta = parse_duration(step, "--step")
    if step_delta < dt.timedelta(seconds=10):
        raise UsageError("--step must be at least 10s.")
    if (now - start) / step_delta > 20000:
        raise UsageError(f"--since {since} with --step {step} is more than 20,000 evaluations: use a larger --step.")
    result = replay(
        app.store,
        config,
        alias=org_config.alias,
        since=start,
        until=now,
        production=org_config.production,
        step=step_delta,
    )
    rows = [
        {
            "at": when_text(t["at"]),
            "rule": t["rule"],
            "kind": t["kind"],
            "severity": t["severity"],
            "key": t["key"],
            "summary": t["summary"],
            "actions": "; ".join(t["actions"]) or "-",
        }
        for t in result.transitions
    ]
    fired = sum(1 for t in result.transitions if t["kind"] == "fired")
    return Result(
        data=result,
        rows=rows,
        columns=REPLAY_COLUMNS,
        title=f"Replay of {result.rules} rule(s) on '{org_config.alias}'",
        message=f"{result.ticks} evaluation(s) from {when_text(start)} to {when_text(now)}: {fired} "
        "firing(s). Nothing was raised or changed.",
    )


@detect.command("run")
@target_org_option
@output_command
@pass_app
def run_cmd(app: AppContext, target_org: str | None) -> Result:
    """One detector tick now over what is stored (the agent's `detect` job): raise, update, clear, act."""
    from sfops.detect import run_detection
    from sfops.incidents.wiring import build

    org_config = app.org_config(target_org)
    alias = org_config.alias
    now = dt.datetime.now(dt.UTC)

    def incidents() -> Any:
        return build(
            app.settings, app.org(target_org), app.store, alias=alias, actor=app.actor, clock=lambda: now, strict=False
        )

    result = run_detection(
        app.store,
        _config(app),
        alias=alias,
        now=now,
        production=org_config.production,
        actor=app.actor,
        incidents=incidents,
        get_org=lambda: app.org(target_org),
    )
    rows = [
        {
            "rule": t.rule.name,
            "kind": t.kind,
            "severity": t.rule.severity,
            "incident": t.incident_ref or "-",
            "key": t.key,
            "actions": "; ".join(f"{a['what']}: {a['outcome']}" for a in t.actions) or "-",
        }
        for t in result.transitions
    ]
    return Result(
        data=SimpleNamespace(
            org=alias,
            at=now,
            rules=result.rules,
            events=result.events,
            counts=result.counts(),
            errors=result.errors,
            transitions=rows,
        ),
        rows=rows,
        title="Detector tick",
        message=f"{result.rules} rule(s) over {result.events} event(s): "
        + (", ".join(f"{n} {k}" for k, n in sorted(result.counts().items())) or "nothing changed")
        + ".",
        warnings=result.errors,
    )


@detect.command("firings")
@target_org_option
@click.option("--since", default="24h", show_default=True, metavar="WHEN", help="Since (90m, 24h, 7d or ISO).")
@click.option("--rule", default=None, help="Only this rule.")
@output_command
@pass_app
def firings_cmd(app: AppContext, target_org: str | None, since: str, rule: str | None) -> Result:
    """What the detector did: fired, updated, cleared, damped, newest first."""
    from sfops.detect import firings

    alias = app.org_config(target_org).alias
    rows = firings(app.store, org=alias, since=_since(since, dt.datetime.now(dt.UTC)), rule=rule)
    table = [
        {
            "at": when_text(r["at"]),
            "rule": r["rule"],
            "kind": r["kind"],
            "severity": r["severity"],
            "incident": (r.get("details") or {}).get("incident") or r.get("incident_id") or "-",
            "key": r["key"],
        }
        for r in rows
    ]
    return Result(data=rows, rows=table, title=f"Detector firings on '{alias}'")


@detect.command("actions")
@target_org_option
@click.option("--since", default="7d", show_default=True, metavar="WHEN", help="Since (90m, 24h, 7d or ISO).")
@output_command
@pass_app
def actions_cmd(app: AppContext, target_org: str | None, since: str) -> Result:
    """Automatic actions of the rules (done, observed, refused, failed) and their undos, newest first."""
    from sfops.detect import actions_log

    alias = app.org_config(target_org).alias
    rows = actions_log(app.store, alias, _since(since, dt.datetime.now(dt.UTC)))
    table = [
        {
            "id": r["id"],
            "at": when_text(r["at"]),
            "action": r["action"],
            "target": r["target"],
            "outcome": r["outcome"],
            "rule": (r.get("details") or {}).get("rule") or "-",
            "incident": (r.get("details") or {}).get("incident") or r.get("incident_id") or "-",
        }
        for r in rows
    ]
    return Result(
        data=rows,
        rows=table,
        title=f"Automatic actions on '{alias}'",
        optional=["action", "rule"],
        message="Undo one with: sfops detect undo ID" if any(r["outcome"] == "done" for r in rows) else None,
    )


@detect.command("undo")
@click.argument("audit_id", type=int)
@target_org_option
@reason_option
@yes_option
@output_command
@pass_app
def undo_cmd(app: AppContext, target_org: str | None, audit_id: int, reason: str | None, yes: bool) -> Result:
    """Reverse one automatic action by its id (`sfops detect actions`): switch back, breaker reset, trace off."""
    from sfops.detect import undo

    org_config = app.org_config(target_org)
    app.confirm_production(org_config, f"Undo automatic action {audit_id}.", yes=yes)
    result = undo(app.org(target_org), app.store, audit_id, alias=org_config.alias, actor=app.actor, reason=reason)
    return Result(data=result, message=f"Undid action {audit_id} ({result['what']}, rule {result['rule']}).")
