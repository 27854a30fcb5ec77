"""`sfops incident ...`: raise, acknowledge, update, mitigate, resolve, close, list, show; escalation,
notification outbox, post-mortems and metrics."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sfops.cli.common import (
    check_output_file,
    output_command,
    parse_moment,
    pass_app,
    target_org_option,
    writing_to,
)
from sfops.cli.context import AppContext
from sfops.cli.output import Result, when_text
from sfops.errors import ExitCode, UsageError
from sfops.incidents.model import CATEGORIES, SEVERITIES, Incident

if TYPE_CHECKING:
    from sfops.incidents.wiring import Incidents


def _incidents(app: AppContext, target_org: str | None, *, strict: bool = True) -> Incidents:
    from sfops.incidents.wiring import build  # the service, notifier and on-call load only when used

    alias = app.org_config(target_org).alias
    return build(app.settings, app.org(target_org), app.store, alias=alias, actor=app.actor, strict=strict)


def _parse_time(value: str | None, name: str) -> dt.datetime | None:
    return parse_moment(value, name) if value else None


def _warnings(notifications: list[dict[str, Any]], event: dict[str, Any] | None = None) -> list[str]:
    from sfops.incidents.notify import CONFIG_ERROR_PREFIX

    out = [
        f"Notification via {n['channel']} not delivered ({n['status']}): {n.get('error')}. "
        + (
            "Fix the configuration, then: sfops incident notify-retry --failed."
            if str(n.get("error") or "").startswith(CONFIG_ERROR_PREFIX)
            else "It stays in the outbox: sfops incident notify-retry."
        )
        for n in notifications
        if n["status"] not in ("sent", "skipped")
    ]
    if event and not event.get("published"):
        out.append(f"Incident_Event__e {event['action']} was not published: {event.get('error')}")
    return out


def _detail(incident: Incident) -> dict[str, Any]:
    return {
        "ref": incident.ref,
        "id": incident.id,
        "severity": incident.severity,
        "status": incident.status.value,
        "summary": incident.summary,
        "category": incident.category,
        "dedup_key": incident.dedup_key,
        "occurrences": incident.occurrence_count,
        "detected": when_text(incident.detected_at),
        "acknowledged": when_text(incident.acknowledged_at),
        "mitigated": when_text(incident.mitigated_at),
        "resolved": when_text(incident.resolved_at),
        "closed": when_text(incident.closed_at),
    }


def _row(incident: Incident) -> dict[str, Any]:
    """The compact table row of one incident."""
    return {
        "ref": incident.ref,
        "sev": incident.severity,
        "status": incident.status.value,
        "summary": incident.summary[:80],
        "count": incident.occurrence_count,
        "detected": when_text(incident.detected_at),
    }


@click.group("incident")
def incident() -> None:
    """Incidents (Incident_Log__c): lifecycle P1-P4, notifications, escalation, post-mortems, metrics."""


@incident.command("raise")
@click.option(
    "--severity",
    "-s",
    required=True,
    type=click.Choice(SEVERITIES, case_sensitive=False),
    help="P1 critical, P2 high, P3 medium, P4 low.",
)
@click.option("--summary", "-m", required=True, help="What is failing, in one line.")
@click.option("--context", default=None, help="Free text or JSON: entry point, record ids, limits, stack.")
@click.option("--category", default=None, type=click.Choice(CATEGORIES, case_sensitive=True), help="Failure category.")
@click.option("--dedup-key", default=None, help="Repeats with this key count on one incident (default: derived).")
@click.option("--source", default=None, help="Who detected it (e.g. apex_exception, limits, breaker:erp).")
@click.option("--release", default=None, help="Release/version suspected or deployed.")
@target_org_option
@output_command
@pass_app
def raise_cmd(
    app: AppContext,
    target_org: str | None,
    severity: str,
    summary: str,
    context: str | None,
    category: str | None,
    dedup_key: str | None,
    source: str | None,
    release: str | None,
) -> Result:
    """Raise an incident (or count a repeat of one with the same dedup key)."""
    # Recording the incident must not depend on the alert configuration being right.
    incidents = _incidents(app, target_org, strict=False)
    outcome = incidents.service.raise_incident(
        severity, summary, context=context, category=category, dedup_key=dedup_key, source=source, release=release
    )
    inc = outcome.incident
    if outcome.created:
        _attach_changes(app, target_org, inc, context)
    what = "Raised" if outcome.created else f"Repeat #{inc.occurrence_count} of"
    unpaged = (
        [
            f"Nobody was paged: no alert channel is routed for {inc.severity} ([alerts.routes] in "
            f"{app.settings.config_path}; see docs/incidents.md)."
        ]
        if inc.severity == "P1" and (outcome.created or outcome.escalated) and not outcome.notifications
        else []
    )
    return Result(
        data={
            "incident": inc,
            "created": outcome.created,
            "escalated": outcome.escalated,
            "event": outcome.event,
            "notifications": outcome.notifications,
        },
        rows=[_row(inc)],
        message=f"{what} {inc.ref} ({inc.severity}, {inc.status.value}).",
        warnings=incidents.warnings + unpaged + _warnings(outcome.notifications, outcome.event),
    )


def _attach_changes(app: AppContext, target_org: str | None, inc: Incident, context: str | None) -> None:
    """Investigation aid: the org's recent changes, ranked against the context's stack, on the timeline."""
    from sfops.changes import attach_to_incident, collect_changes
    from sfops.errors import SfopsError

    alias = app.org_config(target_org).alias
    try:
        collect_changes(app.org(target_org), app.store, alias)
        attach_to_incident(
            app.store,
            alias,
            inc.id,
            detected_at=inc.detected_at or dt.datetime.now(dt.UTC),
            actor=app.actor,
            stack_texts=[context, inc.summary],
            org=app.org(target_org),
        )
    except SfopsError:
        pass  # best effort: the incident is raised whatever the change history says


def _changes_text(timeline: list[Any]) -> str:
    """The ranked changes attached to an incident, as lines for `incident show`."""
    attached = [e for e in timeline if e.kind == "changes" and e.details.get("changes")]
    if not attached:
        return ""
    lines = ["What changed before (most suspect first):"]
    for n, c in enumerate(attached[-1].details["changes"][:5], 1):
        when = dt.datetime.fromisoformat(c["at"]).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        touches = f" [touches {', '.join(c['touches'])}]" if c.get("touches") else ""
        lines.append(f"  {n}. {when} {c['source']}: {c['summary']} ({c.get('who') or '-'}){touches}")
    return "\n".join(lines)


def _change(
    app: AppContext, target_org: str | None, verb: str, fn_name: str, ref: str, *, at: str | None = None, **kwargs: Any
) -> Result:
    incidents = _incidents(app, target_org, strict=False)
    if at:
        moment = parse_moment(at, "--at")
        if moment > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5):
            raise UsageError(f"--at {at} is in the future.")
        current = incidents.service.get(ref)
        latest = (
            max(t for t in (current.detected_at, current.acknowledged_at, current.mitigated_at) if t)
            if current.detected_at
            else None
        )
        if latest is not None and moment < latest:
            raise UsageError(f"--at {at} is before the incident's last recorded time ({when_text(latest)}).")
        incidents.service.clock = lambda: moment
        incidents.notifier.clock = lambda: moment
    outcome = getattr(incidents.service, fn_name)(ref, **kwargs)
    inc = outcome.incident
    return Result(
        data={
            "incident": inc,
            "previous": outcome.previous,
            "event": outcome.event,
            "notifications": outcome.notifications,
        },
        rows=[_row(inc)],
        message=(
            f"{inc.ref} {verb}: {outcome.previous.value} -> {inc.status.value}."
            if outcome.previous != inc.status
            else f"{inc.ref}: note added ({inc.status.value})."
        ),
        warnings=incidents.warnings + _warnings(outcome.notifications, outcome.event),
    )


note_option = click.option("--note", "-n", default=None, help="A note for the timeline.")
at_option = click.option(
    "--at",
    "at",
    default=None,
    metavar="TIME",
    help="When it happened, if recorded afterwards (ISO; not in the future).",
)


@incident.command("ack")
@click.argument("ref")
@note_option
@at_option
@target_org_option
@output_command
@pass_app
def ack_cmd(app: AppContext, target_org: str | None, ref: str, note: str | None, at: str | None) -> Result:
    """Acknowledge an incident (New -> Triaged); stops escalation."""
    return _change(app, target_org, "acknowledged", "acknowledge", ref, note=note, at=at)


@incident.command("update")
@click.argument("ref")
@click.option("--status", default=None, help="New status (New, Triaged, Investigating, Mitigated, Resolved, Closed).")
@note_option
@at_option
@target_org_option
@output_command
@pass_app
def update_cmd(
    app: AppContext, target_org: str | None, ref: str, status: str | None, note: str | None, at: str | None
) -> Result:
    """Change an incident's status (transitions enforced) and/or add a note; sends a stakeholder update."""
    return _change(app, target_org, "updated", "update", ref, status=status, note=note, at=at)


@incident.command("mitigate")
@click.argument("ref")
@note_option
@at_option
@target_org_option
@output_command
@pass_app
def mitigate_cmd(app: AppContext, target_org: str | None, ref: str, note: str | None, at: str | None) -> Result:
    """Mark an incident mitigated (impact stopped; the fix may still be pending)."""
    return _change(app, target_org, "mitigated", "mitigate", ref, note=note, at=at)


@incident.command("resolve")
@click.argument("ref")
@click.option("--resolution", required=True, help="What fixed it.")
@click.option("--root-cause", default=None, help="Why it happened.")
@note_option
@at_option
@target_org_option
@output_command
@pass_app
def resolve_cmd(
    app: AppContext,
    target_org: str | None,
    ref: str,
    resolution: str,
    root_cause: str | None,
    note: str | None,
    at: str | None,
) -> Result:
    """Resolve an incident with its resolution and root cause."""
    return _change(
        app, target_org, "resolved", "resolve", ref, resolution=resolution, root_cause=root_cause, note=note, at=at
    )


@incident.command("close")
@click.argument("ref")
@note_option
@at_option
@target_org_option
@output_command
@pass_app
def close_cmd(app: AppContext, target_org: str | None, ref: str, note: str | None, at: str | None) -> Result:
    """Close a resolved incident."""
    return _change(app, target_org, "closed", "close", ref, note=note, at=at)


@incident.command("list")
@click.option("--status", "statuses", multiple=True, help="Only these statuses (repeatable).")
@click.option("--severity", "severities", multiple=True, help="Only these severities (repeatable).")
@click.option(
    "--category", default=None, type=click.Choice(CATEGORIES, case_sensitive=True), help="Only this category."
)
@click.option("--since", default=None, help="Detected on or after this date/time (ISO).")
@click.option("--open", "open_only", is_flag=True, help="Only open incidents (not Resolved/Closed).")
@click.option("--limit", default=200, show_default=True, type=int, help="At most this many.")
@target_org_option
@output_command
@pass_app
def list_cmd(
    app: AppContext,
    target_org: str | None,
    statuses: tuple[str, ...],
    severities: tuple[str, ...],
    category: str | None,
    since: str | None,
    open_only: bool,
    limit: int,
) -> Result:
    """List incidents from the org, newest first."""
    rows = _incidents(app, target_org).service.find(
        statuses=list(statuses),
        severities=list(severities),
        category=category,
        since=_parse_time(since, "--since"),
        open_only=open_only,
        limit=limit,
    )
    table = [_row(i) for i in rows]
    return Result(data=rows, rows=table, title="Incidents", message=f"{len(rows)} incident(s).")


@incident.command("show")
@click.argument("ref")
@target_org_option
@output_command
@pass_app
def show_cmd(app: AppContext, target_org: str | None, ref: str) -> Result:
    """Show an incident and its timeline (lifecycle, notes, notifications, switch flips, breakers, rollbacks)."""
    inc, timeline = _incidents(app, target_org).service.timeline(ref)
    rows = [{"at": when_text(e.at), "kind": e.kind, "who": e.actor, "what": e.text} for e in timeline]
    head = "\n".join(f"{k}: {v}" for k, v in _detail(inc).items())
    changes = _changes_text(timeline)
    if changes:
        head += "\n" + changes
    return Result(data={"incident": inc, "timeline": timeline}, rows=rows, title=f"Timeline of {inc.ref}", message=head)


@incident.command("message")
@click.argument("ref")
@click.option(
    "--phase",
    default=None,
    help="triggered, acknowledged, investigating, mitigated, resolved, closed, "
    "update or escalation (default: from the status).",
)
@click.option("--markdown", is_flag=True, help="Markdown instead of plain text.")
@click.option("--note", "-n", default=None, help="A line to include.")
@target_org_option
@output_command
@pass_app
def message_cmd(
    app: AppContext, target_org: str | None, ref: str, phase: str | None, markdown: bool, note: str | None
) -> Result:
    """Render the stakeholder update for an incident (to paste into a status page or a chat); sends nothing."""
    from sfops.incidents.templates import PHASES, phase_for, render

    if phase is not None and phase not in PHASES:
        raise UsageError(f"Unknown phase '{phase}'. Phases: {', '.join(PHASES)}.")
    inc = _incidents(app, target_org).service.get(ref)
    message = render(inc, phase or phase_for(inc.status), note=note, alias=app.org_config(target_org).alias)
    return Result(data=message, message=message.markdown if markdown else message.text)


@incident.command("escalate-due")
@click.option("--at", "at", default=None, help="Evaluate as of this ISO time (default: now).")
@target_org_option
@output_command
@pass_app
def escalate_due_cmd(app: AppContext, target_org: str | None, at: str | None) -> Result:
    """Notify the next escalation level for unacknowledged incidents past their deadline (run from cron)."""
    from sfops.incidents.escalation import escalate_due

    inc = _incidents(app, target_org)
    fired = escalate_due(inc.service, inc.notifier, inc.alerts, _parse_time(at, "--at"))
    warnings = [] if inc.alerts.escalation else ["No [alerts.escalation] levels configured: nothing escalates."]
    return Result(data=fired, title="Escalations", warnings=warnings, message=f"{len(fired)} escalation(s) sent.")


@incident.command("notifications")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(["pending", "sending", "sent", "retry", "failed", "skipped"], case_sensitive=False),
    help="Only these outbox statuses (repeatable).",
)
@click.option(
    "--incident", "ref", default=None, help="Only this incident's notifications (INC-00001 or the record Id)."
)
@target_org_option
@output_command
@pass_app
def notifications_cmd(app: AppContext, target_org: str | None, statuses: tuple[str, ...], ref: str | None) -> Result:
    """The notification outbox: what was sent, what is waiting for a retry, what failed."""
    from sfops.incidents.notify import outbox

    rows = outbox(app.store, app.org_config(target_org).alias, list(statuses), ref)
    failed = sum(1 for r in rows if r["status"] == "failed")
    warnings = [f"{failed} notification(s) failed permanently: sfops incident notify-retry --failed"] if failed else []
    table = [
        {
            "#": r["id"],
            "incident": r.get("incident") or r["incident_id"],
            "channel": r["channel"],
            "phase": r["phase"],
            "status": r["status"],
            "attempts": r["attempts"],
            "sent": r["sent_at"],
            "next try": r["next_attempt_at"],
            "error": r["last_error"],
        }
        for r in rows
    ]
    return Result(
        data=rows, rows=table, title="Notifications", warnings=warnings, optional=["next try", "attempts", "#", "sent"]
    )


@incident.command("notify-retry")
@click.option("--failed", "include_failed", is_flag=True, help="Also re-send notifications that ran out of attempts.")
@target_org_option
@output_command
@pass_app
def notify_retry_cmd(app: AppContext, target_org: str | None, include_failed: bool) -> Result:
    """Re-send notifications due for retry from the outbox."""
    alias = app.org_config(target_org).alias
    from sfops.incidents.notify import AlertsConfig, Notifier

    notifier = Notifier(
        AlertsConfig.from_settings(app.settings.section("alerts"), app.settings.env),
        app.store,
        alias=alias,
        actor=app.actor,
    )
    rows = notifier.retry_due(include_failed=include_failed)
    bad = [r for r in rows if r["status"] not in ("sent", "skipped")]
    return Result(
        data=rows,
        title="Retried notifications",
        exit_code=ExitCode.PARTIAL if bad and len(bad) < len(rows) else (ExitCode.FAILED if bad else ExitCode.OK),
        message=f"{len(rows) - len(bad)} of {len(rows)} delivered.",
    )


@incident.command("postmortem")
@click.argument("ref")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the Markdown here (default: print it).",
)
@click.option(
    "--action",
    "actions",
    multiple=True,
    metavar="TEXT;OWNER;YYYY-MM-DD",
    help="An action item (repeatable); owner and due date optional.",
)
@click.option(
    "--template",
    "template",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Template file (default: [incidents] postmortem_template, else the built-in one).",
)
@click.option("--force", is_flag=True, help="Overwrite the --out file if it exists (it is a draft people edit).")
@target_org_option
@output_command
@pass_app
def postmortem_cmd(
    app: AppContext,
    target_org: str | None,
    ref: str,
    out: Path | None,
    actions: tuple[str, ...],
    template: Path | None,
    force: bool,
) -> Result:
    """Draft a Markdown post-mortem from the incident, its timeline and the sfops actions on it."""
    from sfops.incidents.postmortem import ActionItem, add_business_days, draft, load_template

    if out:
        check_output_file("--out", out, overwrite=force)
    inc_ctx = _incidents(app, target_org)
    inc, timeline = inc_ctx.service.timeline(ref)
    due = add_business_days((inc.resolved_at or inc.detected_at or dt.datetime.now(dt.UTC)).date(), 5)
    items = [ActionItem.parse(a, app.actor, due) for a in actions]
    configured = inc_ctx.options.get("postmortem_template")
    if template is None and configured:  # relative to sfops.toml, like the other paths in it
        template = app.settings.config_path.parent / Path(str(configured)).expanduser()
    text = draft(inc, timeline, template=load_template(template), authors=app.actor, action_items=items)
    if out:
        with writing_to("--out", out):
            out.write_text(text, encoding="utf-8")
        return Result(data={"incident": inc.ref, "path": out}, message=f"Post-mortem draft written to {out}.")
    return Result(data={"incident": inc.ref, "markdown": text}, message=text, document=True)


@incident.command("metrics")
@click.option("--since", default=None, help="Only incidents detected on or after this date (ISO).")
@click.option(
    "--source",
    type=click.Choice(["org", "store"]),
    default="org",
    show_default=True,
    help="Read incidents from the org (and mirror them) or only from the local store.",
)
@target_org_option
@output_command
@pass_app
def metrics_cmd(app: AppContext, target_org: str | None, since: str | None, source: str) -> Result:
    """MTTA, MTTR and time to mitigate (minutes) overall and by severity, category and month."""
    from sfops.incidents.metrics_source import compute_for

    metrics = compute_for(
        app.store,
        app.org_config(target_org).alias,
        app.org(target_org) if source == "org" else None,
        since=_parse_time(since, "--since"),
    )
    cfr = metrics.change_failure
    message = (
        f"Change failure rate: {cfr['rate_percent']}% ({cfr['failed']} of {cfr['releases']} releases)."
        if cfr.get("releases")
        else "Change failure rate: no releases recorded."
    )
    return Result(data=metrics, rows=metrics.rows(), title="Incident metrics (minutes)", message=message)


@incident.command("dashboard")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Main HTML file (default: $SFOPS_HOME/dashboard.html); other pages go to <name>_files/ beside it.",
)
@click.option("--since", default=None, help="Refresh the incident mirror from the org from this date (ISO).")
@click.option(
    "--serve",
    "serve_port",
    is_flag=False,
    flag_value=8765,
    default=None,
    type=click.IntRange(0, 65535),
    metavar="[PORT]",
    help="Then serve the pages on http://127.0.0.1:PORT/ (default 8765) until interrupted.",
)
@target_org_option
@output_command
@pass_app
def dashboard_cmd(
    app: AppContext, target_org: str | None, out: Path | None, since: str | None, serve_port: int | None
) -> Result:
    """Write the console's pages for an org as static HTML files (offline, no CDN).

    The same pages as the live console (`sfops console`, `sfops agent run --listen`), without write actions:
    org overview, incident pages, analytics for each period. It first refreshes the incident mirror and
    takes a limits snapshot from the org. `sfops dashboard` and `sfops incident dashboard` are the same command.
    """
    from sfops.incidents.metrics_source import refresh_mirror
    from sfops.limits import take_snapshot
    from sfops.web.console import Console
    from sfops.web.export import export_site, serve_export

    if out:
        check_output_file("--out", out)
    else:
        out = app.settings.home / "dashboard.html"
        out.parent.mkdir(parents=True, exist_ok=True)  # sfops's own home: created like the store's
    alias, org, start = app.org_config(target_org).alias, app.org(target_org), _parse_time(since, "--since")
    refresh_mirror(org, app.store, alias, start)
    take_snapshot(org, app.store, alias)
    console = Console(app.store, app.settings, (alias,), get_org=lambda _alias: org, actor=app.actor)
    with writing_to("--out", out):
        written = export_site(console, alias, out)
    path = written[0]
    if serve_port is not None:
        server = serve_export(path, serve_port)
        app.err_console.print(
            f"Serving http://127.0.0.1:{server.server_address[1]}/{path.name} (Ctrl+C stops)",
            highlight=False,
            markup=False,
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    return Result(
        data={"path": path, "pages": len(written)}, message=f"Dashboard written to {path} ({len(written)} pages)."
    )
