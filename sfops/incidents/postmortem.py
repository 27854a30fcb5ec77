"""Drafting a Markdown post-mortem from an incident, its timeline and the audit trail."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from sfops.errors import ConfigError, UsageError
from sfops.incidents.model import Incident, TimelineEntry
from sfops.incidents.postmortem_template import DEFAULT_TEMPLATE

REVIEW_BUSINESS_DAYS = 5  # PagerDuty's rule: review within 5 business days of resolution
_LIMIT_PATTERNS = (
    # EXCEPTION_CATEGORY values of ApexUnexpectedException (e.g. "LimitException: CpuTime")
    (
        r"LimitException:\s*(CpuTime|HeapSize|Queries|QueryRows|DmlStatements|DmlRows|Callouts|SoslQueries|"
        r"FutureCalls|QueueableJobs|EmailInvocations)\b",
        None,
    ),
    (r"Apex CPU time limit exceeded", "CpuTime"),
    (r"Too many SOQL queries", "Queries"),
    (r"Too many DML statements", "DmlStatements"),
    (r"Too many query rows", "QueryRows"),
    (r"Apex heap size too large", "HeapSize"),
    (r"Too many callouts", "Callouts"),
    (r"UNABLE_TO_LOCK_ROW", "Row lock (UNABLE_TO_LOCK_ROW)"),
)


@dataclass(frozen=True)
class ActionItem:
    """One follow-up: what, who, by when."""

    text: str
    owner: str
    due: dt.date

    @classmethod
    def parse(cls, value: str, default_owner: str, default_due: dt.date) -> ActionItem:
        """'TEXT;OWNER;YYYY-MM-DD' (owner and due optional)."""
        parts = [p.strip() for p in value.split(";")]
        if not parts[0]:
            raise UsageError(f"Action item '{value}' has no text (format: TEXT;OWNER;YYYY-MM-DD).")
        owner = parts[1] if len(parts) > 1 and parts[1] else default_owner
        due = default_due
        if len(parts) > 2 and parts[2]:
            try:
                due = dt.date.fromisoformat(parts[2])
            except ValueError:
                raise UsageError(f"Action item due date '{parts[2]}' is not YYYY-MM-DD.") from None
        return cls(text=parts[0], owner=owner, due=due)


def add_business_days(day: dt.date, n: int) -> dt.date:
    """`n` business days (Mon-Fri) after `day`."""
    while n > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def load_template(path: str | Path | None) -> str:
    """The configured template file, or the packaged default."""
    if not path:
        return DEFAULT_TEMPLATE
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"Post-mortem template {file} does not exist.")
    return file.read_text(encoding="utf-8")


def limits_hit(incident: Incident, timeline: list[TimelineEntry]) -> list[str]:
    """Governor limits named in the incident's context, summary or timeline notes."""
    text = "\n".join(
        [incident.summary or "", incident.context or "", incident.root_cause or ""] + [e.text for e in timeline]
    )
    hits = sorted(
        (match.start(), name or match.group(1))
        for pattern, name in _LIMIT_PATTERNS
        for match in re.finditer(pattern, text)
    )
    return list(dict.fromkeys(name for _, name in hits))  # in order of first mention


def _fmt(value: dt.datetime | None) -> str:
    """A moment as the CLI shows every moment (`2026-12-06 21:17 UTC`)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def _minutes(a: dt.datetime | None, b: dt.datetime | None) -> str:
    if not (a and b):
        return "-"
    total = int((b - a).total_seconds() // 60)
    return f"{total // 60} h {total % 60:02d} min" if total >= 60 else f"{total} min"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def changes_text(timeline: list[TimelineEntry]) -> str:
    """The org's changes ranked before the incident (sfops.changes put them on the timeline), most suspect first."""
    attached = [e for e in timeline if e.kind == "changes" and e.details.get("changes")]
    if not attached:
        return "- _None recorded (sfops changes --since 24h lists the org's recent changes)._"
    lines = []
    for c in attached[-1].details["changes"][:10]:
        touches = f" - touches {', '.join(c['touches'])}" if c.get("touches") else ""
        when = dt.datetime.fromisoformat(c["at"])
        lines.append(
            f"- {_fmt(when)} {_cell(c['source'])}: {_cell(c['summary'])} ({_cell(c.get('who') or '-')}){touches}"
        )
    return "\n".join(lines)


def draft(
    incident: Incident,
    timeline: list[TimelineEntry],
    *,
    template: str = DEFAULT_TEMPLATE,
    authors: str = "sfops",
    action_items: list[ActionItem] | None = None,
    went_well: list[str] | None = None,
    went_badly: list[str] | None = None,
) -> str:
    """The post-mortem Markdown for an incident."""
    base = (incident.resolved_at or incident.detected_at or dt.datetime.now(dt.UTC)).date()
    review_due = add_business_days(base, REVIEW_BUSINESS_DAYS)
    switches = [e for e in timeline if e.kind.startswith("switch.")]
    breakers = [e for e in timeline if e.kind.startswith("breaker.")]
    rollbacks = [e for e in timeline if e.kind.startswith("rollback.")]
    notified = [e for e in timeline if e.kind == "notified"]
    escalations = [e for e in timeline if e.kind == "escalated"]
    rows = ["| Time | Who | What |", "|---|---|---|"]
    rows += [f"| {_fmt(e.at)} | {_cell(e.actor)} | {_cell(e.kind)}: {_cell(e.text)} |" for e in timeline]
    impact = [
        f"- Severity {incident.severity}; {incident.occurrence_count} occurrence(s) recorded.",
        f"- Time to acknowledge: {_minutes(incident.detected_at, incident.acknowledged_at)}.",
        f"- Time to mitigate: {_minutes(incident.detected_at, incident.mitigated_at)}.",
        f"- Time to resolve: {_minutes(incident.detected_at, incident.resolved_at)}.",
        "- Users, records and integrations affected: _fill in._",
    ]
    detection = (
        f"Raised by {incident.source or 'sfops'} at {_fmt(incident.detected_at)} "
        f"(dedup key `{incident.dedup_key}`); {len(notified)} notification(s) sent"
        + (f", {len(escalations)} escalation(s)." if escalations else ".")
    )
    well = list(went_well or [])
    bad = list(went_badly or [])
    if switches:
        well.append("A kill switch contained the impact without a deploy.")
    if (
        incident.acknowledged_at
        and incident.detected_at
        and (incident.acknowledged_at - incident.detected_at) <= dt.timedelta(minutes=15)
    ):
        well.append("Acknowledged within 15 minutes.")
    if escalations:
        bad.append("The incident had to be escalated before anyone acknowledged it.")
    items = list(action_items or [])
    if not switches and incident.category:
        items.append(ActionItem(f"Guard the failing {incident.category} path with a kill switch", authors, review_due))
    lines = ["| Action | Owner | Due |", "|---|---|---|"]
    lines += [f"| {_cell(i.text)} | {_cell(i.owner)} | {i.due.isoformat()} |" for i in items]
    values = {
        "ref": incident.ref,
        "summary": incident.summary,
        "severity": incident.severity,
        "org": incident.org,
        "detected_at": _fmt(incident.detected_at),
        "resolved_at": _fmt(incident.resolved_at),
        "review_due": review_due.isoformat(),
        "authors": authors,
        "impact": "\n".join(impact),
        "detection": detection,
        "timeline": "\n".join(rows),
        "root_cause": incident.root_cause or "_Not recorded yet (sfops incident resolve --root-cause)._",
        "resolution": incident.resolution or "_Not resolved yet._",
        "release": incident.release or "-",
        "components": ", ".join(x for x in (incident.category, incident.source) if x) or "-",
        "limits_hit": ", ".join(limits_hit(incident, timeline)) or "none recorded",
        "switches": "; ".join(f"{e.text} at {_fmt(e.at)} by {e.actor}" for e in switches) or "none",
        "breakers": "; ".join(f"{e.kind} {e.text} at {_fmt(e.at)}" for e in breakers) or "none",
        "rollback": "; ".join(f"{e.kind} {e.text} at {_fmt(e.at)}" for e in rollbacks) or "not used",
        "went_well": "\n".join(f"- {w}" for w in well) or "- _Fill in._",
        "went_badly": "\n".join(f"- {b}" for b in bad) or "- _Fill in._",
        "action_items": "\n".join(lines),
        "changes": changes_text(timeline),
    }
    used = {m.group("named") or m.group("braced") for m in Template.pattern.finditer(template)}
    unknown = sorted(name for name in used - set(values) if name)
    if unknown:  # a typo would otherwise stay in the draft as literal text
        raise ConfigError(
            f"Post-mortem template: unknown placeholder(s) {', '.join('$' + u for u in unknown)}. "
            f"Known: {', '.join('$' + k for k in values)} (write $$ for a dollar sign)."
        )
    return Template(template).safe_substitute(values)
