"""Stakeholder updates per lifecycle phase, in plain text and Markdown.

One `Message` is rendered per notification; channels pick the form they need (email: text +
Markdown alternative, Slack: mrkdwn, Teams: Adaptive Card facts, webhooks: both).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sfops.incidents.model import Incident, Status

PHASES: tuple[str, ...] = (
    "triggered",
    "acknowledged",
    "investigating",
    "mitigated",
    "resolved",
    "closed",
    "update",
    "escalation",
)

_HEADLINE = {
    "triggered": "New {severity} incident: {summary}",
    "acknowledged": "{severity} acknowledged: {summary}",
    "investigating": "{severity} under investigation: {summary}",
    "mitigated": "{severity} mitigated (impact stopped): {summary}",
    "resolved": "{severity} resolved: {summary}",
    "closed": "{severity} closed: {summary}",
    "update": "Update on {severity}: {summary}",
    "escalation": "ESCALATION - {severity} not acknowledged: {summary}",
}
_WHAT_NEXT = {
    "triggered": "We are looking into it. Next update within 30 minutes.",
    "acknowledged": "A responder owns this incident. Next update within 30 minutes.",
    "investigating": "We are investigating the cause. Next update within 30 minutes.",
    "mitigated": "The impact has stopped; the underlying fix is in progress.",
    "resolved": "The incident is resolved. A post-mortem follows for P1/P2 incidents.",
    "closed": "The incident is closed.",
    "update": "Next update within 30 minutes.",
    "escalation": "The on-call responder has not acknowledged it; you are the next escalation level.",
}


@dataclass(frozen=True)
class Message:
    """One rendered stakeholder update."""

    phase: str
    subject: str
    text: str
    markdown: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    slack_mentions: list[str] = field(default_factory=list)  # Slack member ids of the on-call people

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "subject": self.subject,
            "text": self.text,
            "markdown": self.markdown,
            "facts": [list(f) for f in self.facts],
            "slack_mentions": list(self.slack_mentions),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        return cls(
            phase=data["phase"],
            subject=data["subject"],
            text=data["text"],
            markdown=data["markdown"],
            facts=[(str(a), str(b)) for a, b in data.get("facts", [])],
            slack_mentions=[str(m) for m in data.get("slack_mentions", [])],
        )


def _when(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def render(
    incident: Incident,
    phase: str,
    *,
    note: str | None = None,
    alias: str | None = None,
    extra: dict[str, str] | None = None,
) -> Message:
    """The stakeholder update for `phase` of `incident`."""
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}; phases: {', '.join(PHASES)}")
    subject = f"[{incident.ref}] " + _HEADLINE[phase].format(severity=incident.severity, summary=incident.summary)
    facts: list[tuple[str, str]] = [
        ("Incident", incident.ref),
        ("Severity", incident.severity),
        ("Status", incident.status.value),
        ("Org", alias or incident.org),
        ("Detected", _when(incident.detected_at)),
        ("Occurrences", str(incident.occurrence_count)),
    ]
    if incident.category:
        facts.append(("Category", incident.category))
    if incident.release:
        facts.append(("Release", incident.release))
    if phase in ("resolved", "closed") and incident.resolution:
        facts.append(("Resolution", incident.resolution))
    if phase in ("resolved", "closed") and incident.root_cause:
        facts.append(("Root cause", incident.root_cause))
    facts.extend((extra or {}).items())
    what_next = _WHAT_NEXT[phase]
    text_lines = [subject, ""] + [f"{k}: {v}" for k, v in facts]
    md_lines = [f"**{_md(subject)}**", ""] + [f"- **{k}:** {_md(v)}" for k, v in facts]
    if note:
        text_lines += ["", f"Note: {note}"]
        md_lines += ["", f"> {_md(note)}"]
    text_lines += ["", what_next]
    md_lines += ["", f"_{what_next}_"]
    return Message(
        phase=phase,
        subject=subject[:250],
        text="\n".join(text_lines) + "\n",
        markdown="\n".join(md_lines) + "\n",
        facts=facts,
    )


def _md(value: str) -> str:
    """Escape Markdown emphasis/link characters in user text."""
    out = str(value)
    for ch in ("\\", "*", "_", "`", "[", "]"):
        out = out.replace(ch, "\\" + ch)
    return out


def phase_for(status: Status) -> str:
    """The phase whose update describes an incident in `status`."""
    return {
        Status.NEW: "triggered",
        Status.TRIAGED: "acknowledged",
        Status.INVESTIGATING: "investigating",
        Status.MITIGATED: "mitigated",
        Status.RESOLVED: "resolved",
        Status.CLOSED: "closed",
    }[status]
