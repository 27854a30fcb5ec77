"""The console's pages as HTML strings: one implementation for the live console and the static export.

Server-rendered, inline CSS and SVG, no script, nothing fetched from the network. `Links` decides what
an href looks like (routes when served, file names when exported), `Forms` whether write actions are
shown (live console with writes enabled and a signed-in user only).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from sfops.web import charts
from sfops.web.data import PERIODS, SEVERITIES, Analytics, LimitLine

CSS = """
body { font-family: system-ui, sans-serif; margin: 0; color: #111; }
header { background: #0f172a; color: #fff; padding: 10px 24px; display: flex; gap: 24px; align-items: center; }
header a { color: #e2e8f0; text-decoration: none; } header .brand { font-weight: 700; }
main { padding: 16px 24px 40px; max-width: 1200px; }
h1 { font-size: 24px; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #e5e7eb; }
table { border-collapse: collapse; margin: 8px 0; } td, th { border-bottom: 1px solid #eee; padding: 4px 10px;
  text-align: left; vertical-align: top; } th { background: #f8fafc; }
.kpis { display: flex; gap: 16px; flex-wrap: wrap; }
.kpi { border: 1px solid #ddd; border-radius: 8px; padding: 10px 16px; min-width: 110px; }
.kpi .v { font-size: 26px; font-weight: 600; } .kpi .l { color: #555; }
.legend { display: flex; gap: 14px; margin: 4px 0 12px 56px; font-size: 13px; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; }
svg text { font-size: 12px; } svg .tick { fill: #444; font-size: 11px; } svg .axis-title { fill: #111; }
.sev-P1 { color: #b91c1c; font-weight: 700; } .sev-P2 { color: #ea580c; font-weight: 700; }
.muted { color: #666; } .empty { color: #666; font-style: italic; }
.on { color: #15803d; font-weight: 600; } .off { color: #b91c1c; font-weight: 600; }
form.inline { display: inline; } .filters a { margin-right: 10px; } .filters a.current { font-weight: 700; }
pre { background: #f8fafc; padding: 12px; white-space: pre-wrap; }
.flash { background: #ecfdf5; border: 1px solid #10b981; padding: 8px 12px; }
.error { background: #fef2f2; border: 1px solid #ef4444; padding: 8px 12px; }
"""


def e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def when(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


@dataclass(frozen=True)
class Links:
    """Hrefs for the served console (`static=False`) or the exported files (`static=True`; `prefix` is the
    folder of the other pages as seen from the page being written)."""

    static: bool = False
    prefix: str = ""

    def index(self) -> str:
        return f"{self.prefix}index.html" if self.static else "/"

    def org(self, alias: str) -> str:
        return f"{self.prefix}org-{_slug(alias)}.html" if self.static else f"/org/{quote(alias, safe='')}"

    def incident(self, alias: str, incident_id: str) -> str:
        if self.static:
            return f"{self.prefix}incident-{_slug(alias)}-{_slug(incident_id)}.html"
        return f"/incident/{quote(alias, safe='')}/{quote(incident_id, safe='')}"

    def analytics(self, alias: str | None = None, period: str = "90d", bucket: str = "month") -> str:
        if self.static:
            return f"{self.prefix}analytics-{_slug(alias or 'all')}-{period}.html"
        query = {k: v for k, v in (("org", alias), ("period", period), ("bucket", bucket)) if v}
        return "/analytics?" + urlencode(query)


@dataclass(frozen=True)
class Forms:
    """Write actions are rendered only with a Forms (live console, writes enabled, signed in)."""

    csrf: str
    production: frozenset[str]

    def hidden(self, alias: str) -> str:
        confirm = (
            (
                f'<label> type <b>{e(alias)}</b> to confirm (production): <input name="confirm" size="10" '
                f"required></label>"
            )
            if alias in self.production
            else ""
        )
        return f'<input type="hidden" name="csrf" value="{e(self.csrf)}">{confirm}'


def layout(
    title: str,
    body: str,
    links: Links,
    *,
    generated: dt.datetime,
    signed_in: bool | None = None,
    message: str | None = None,
    error: str | None = None,
) -> str:
    """The page frame: header with navigation, flash messages, body, footer."""
    auth = ""
    if signed_in is True:
        auth = '<span class="muted">signed in (writes enabled)</span>'
    elif signed_in is False:
        auth = '<a href="/login">sign in for write actions</a>'
    flash = (f'<p class="flash" id="flash">{e(message)}</p>' if message else "") + (
        f'<p class="error" id="error">{e(error)}</p>' if error else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title><style>{CSS}</style></head><body>
<header><span class="brand">sfops</span><a href="{e(links.index())}">Orgs</a>
<a href="{e(links.analytics())}" id="nav-analytics">Analytics</a><span style="flex:1"></span>{auth}</header>
<main>{flash}{body}
<p class="muted">Generated {generated:%Y-%m-%d %H:%M:%S} UTC by sfops. Times in UTC.</p></main>
</body></html>
"""


def kpi(label: str, key: str, value: object) -> str:
    shown = e(value if value is not None else "-")
    return f'<div class="kpi"><div class="v" id="kpi-{e(key)}">{shown}</div><div class="l">{e(label)}</div></div>'


def index_page(rows: Sequence[dict[str, Any]], links: Links) -> str:
    """Every org: leader, open incidents by severity, last job problems."""
    body = [
        "<h1>Orgs</h1>",
        '<table id="orgs"><tr><th>Org</th><th>Leader</th>'
        + "".join(f"<th>open {s}</th>" for s in SEVERITIES)
        + "<th>Failed jobs (latest run)</th></tr>",
    ]
    for r in rows:
        counts = "".join(f'<td class="sev-{s}">{r["open"].get(s, 0)}</td>' for s in SEVERITIES)
        body.append(
            f'<tr><td><a href="{e(links.org(r["org"]))}">{e(r["org"])}</a></td><td>{e(r["leader"] or "-")}'
            f"</td>{counts}<td>{e(', '.join(r['failed_jobs']) or '-')}</td></tr>"
        )
    body.append("</table>")
    return "".join(body)


def _switches(values: list[tuple[str, Any, int]] | str, alias: str, forms: Forms | None, links: Links) -> str:
    if isinstance(values, str):
        return f'<p class="empty" id="switches">Switches: {e(values)}</p>'
    if not values:
        return '<p class="empty" id="switches">No kill switches (Kill_Switch__c has no checkbox fields).</p>'
    rows = []
    for name, value, overrides in values:
        shown = (
            ('<span class="on">on</span>' if value else '<span class="off">off</span>')
            if value is not None
            else '<span class="muted">unset</span>'
        )
        action = ""
        if forms is not None:
            target = "off" if value else "on"
            action = (
                f'<form class="inline" method="post" action="{e(links.org(alias))}/switch">'
                f'<input type="hidden" name="switch" value="{e(name)}"><input type="hidden" name="value" '
                f'value="{target}">{forms.hidden(alias)}<input name="reason" placeholder="reason" required> '
                f'<button type="submit">turn {target}</button></form>'
            )
        rows.append(
            f'<tr data-switch="{e(name)}"><td>{e(name)}</td><td>{shown}</td><td>{overrides}</td><td>{action}</td></tr>'
        )
    return (
        '<table id="switches"><tr><th>Switch</th><th>Org-wide value</th><th>Profile/user overrides</th>'
        f"<th></th></tr>{''.join(rows)}</table>"
    )


def _sparkline(points: list[tuple[dt.datetime, float]]) -> str:
    if len(points) < 2:
        return '<span class="muted">-</span>'
    start, end = points[0][0], points[-1][0]
    span = (end - start).total_seconds() or 1.0
    path = " ".join(
        f"{'M' if i == 0 else 'L'}{120 * (t - start).total_seconds() / span:.1f},{24 - 22 * min(v, 100) / 100:.1f}"
        for i, (t, v) in enumerate(points)
    )
    return (
        f'<svg width="120" height="26" role="img"><title>used % over the last 24 h ({len(points)} snapshots)'
        f'</title><path d="{path}" fill="none" stroke="#0f766e" stroke-width="1.5"/></svg>'
    )


def _minutes(start: dt.datetime | None, end: dt.datetime | None) -> str:
    return "-" if start is None or end is None else f"{(end - start).total_seconds() / 60:.0f} min"


def org_page(
    alias: str,
    *,
    production: bool,
    leader: str | None,
    switches: list[tuple[str, Any, int]] | str,
    breakers: dict[str, str] | None,
    open_incidents: list[dict[str, Any]],
    limits: list[LimitLine],
    failures: list[dict[str, Any]],
    jobs: list[dict[str, Any]],
    links: Links,
    forms: Forms | None,
    recent: list[dict[str, Any]] | None = None,
) -> str:
    """The org overview: switches, breakers, open and recent incidents, limits, failures, agent jobs, leader."""
    parts = [
        f"<h1>{e(alias)}{' <small class=sev-P1>production</small>' if production else ''}</h1>",
        '<div class="kpis">',
        kpi("open incidents", "open", len(open_incidents)),
        kpi("open P1", "open-p1", sum(1 for i in open_incidents if i["severity"] == "P1")),
        kpi("leader", "leader", leader or "none"),
        "</div>",
        "<h2>Kill switches</h2>",
        _switches(switches, alias, forms, links),
        "<h2>Circuit breakers</h2>",
    ]
    if breakers is None:
        parts.append('<p class="empty" id="breakers">No breaker sync recorded yet (agent job breaker-sync).</p>')
    elif not breakers:
        parts.append('<p class="empty" id="breakers">No circuit breakers.</p>')
    else:
        parts.append(
            '<table id="breakers"><tr><th>Breaker</th><th>State at the last sync</th></tr>'
            + "".join(
                f'<tr><td>{e(n)}</td><td class="{"off" if s == "open" else "on"}">{e(s)}</td></tr>'
                for n, s in sorted(breakers.items())
            )
            + "</table>"
        )
    parts.append("<h2>Open incidents</h2>")
    if open_incidents:
        parts.append(
            '<table id="open"><tr><th>Incident</th><th>Severity</th><th>Status</th><th>Summary</th>'
            "<th>Detected (UTC)</th></tr>"
            + "".join(
                f'<tr><td><a href="{e(links.incident(alias, i["id"]))}">{e(i["name"] or i["id"])}</a></td>'
                f'<td class="sev-{e(i["severity"])}">{e(i["severity"])}</td><td>{e(i["status"])}</td>'
                f"<td>{e((i['summary'] or '')[:120])}</td><td>{when(i['detected_at'])}</td></tr>"
                for i in open_incidents
            )
            + "</table>"
        )
    else:
        parts.append('<table id="open"><tr><td>No open incidents.</td></tr></table>')
    if recent:
        parts.append("<h2>Recent incidents</h2>")
        parts.append(
            '<table id="recent"><tr><th>Incident</th><th>Severity</th><th>Status</th><th>Summary</th>'
            "<th>Detected (UTC)</th><th>To acknowledge</th><th>To resolve</th><th>Resolution</th></tr>"
            + "".join(
                f'<tr><td><a href="{e(links.incident(alias, i["id"]))}">{e(i["name"] or i["id"])}</a></td>'
                f'<td class="sev-{e(i["severity"])}">{e(i["severity"])}</td><td>{e(i["status"])}</td>'
                f"<td>{e((i['summary'] or '')[:120])}</td><td>{when(i['detected_at'])}</td>"
                f"<td>{_minutes(i['detected_at'], i.get('acknowledged_at'))}</td>"
                f"<td>{_minutes(i['detected_at'], i.get('resolved_at'))}</td>"
                f"<td>{e((i.get('resolution') or '-')[:160])}</td></tr>"
                for i in recent
            )
            + "</table>"
        )
    parts.append("<h2>Org limit usage (%)</h2>")
    if limits:
        parts.append(
            '<div id="limits">'
            + charts.hbars(
                "limits-chart", [(ln.name, ln.used_pct) for ln in limits], unit="%", scale=100, colour="#0f766e"
            )
            + "</div>"
        )
        parts.append(
            '<table id="limit-trends"><tr><th>Limit</th><th>Used %</th><th>Max</th><th>Last 24 h</th>'
            "<th>Runs out (at the current rate)</th></tr>"
            + "".join(
                f"<tr><td>{e(ln.name)}</td><td>{ln.used_pct:g}</td><td>{ln.max:,}</td>"
                f"<td>{_sparkline(ln.trend)}</td><td>{e(ln.forecast)}</td></tr>"
                for ln in limits
            )
            + "</table>"
        )
    else:
        parts.append('<p class="empty" id="limits">No limits snapshot yet (agent job limits-snapshot).</p>')
    parts.append("<h2>Recent failures (last 24 h, by fingerprint)</h2>")
    if failures:
        parts.append(
            '<table id="failures"><tr><th>Count</th><th>Category</th><th>Fingerprint</th>'
            "<th>Entry point</th><th>Source</th><th>Last seen</th></tr>"
            + "".join(
                f"<tr><td>{f['count']}</td><td>{e(f['category'])}</td><td><code>{e(f['fingerprint'])}"
                f"</code></td><td>{e(f['entry_point'])}</td><td>{e(f['source'])}</td>"
                f"<td>{when(f['last_seen'])}</td></tr>"
                for f in failures
            )
            + "</table>"
        )
    else:
        parts.append('<p class="empty" id="failures">No failures recorded in the last 24 h.</p>')
    parts.append("<h2>Agent jobs</h2>")
    parts.append(
        '<table id="jobs"><tr><th>Job</th><th>Last run</th><th>Outcome</th><th>Summary or error</th>'
        "<th>Holder</th></tr>"
        + "".join(
            f"<tr><td>{e(j['job'])}</td><td>{when(j['started_at'])}</td><td>{e(j['outcome'])}</td>"
            f"<td>{e((j['error'] or j['summary'] or '')[:160])}</td><td>{e(j['holder'])}</td></tr>"
            for j in jobs
        )
        + "</table>"
        if jobs
        else '<p class="empty" id="jobs">No agent runs yet.</p>'
    )
    parts.append(f'<p><a href="{e(links.analytics(alias))}">Incident analytics for {e(alias)}</a></p>')
    return "".join(parts)


def incident_page(
    incident: Any,
    *,
    timeline: list[Any],
    notifications: list[dict[str, Any]],
    changes: list[Any],
    postmortem: str,
    links: Links,
    forms: Forms | None,
) -> str:
    """One incident: facts, timeline, notifications, attached changes, post-mortem draft, actions."""
    i = incident
    facts = [
        ("Severity", i.severity),
        ("Status", i.status.value),
        ("Category", i.category),
        ("Source", i.source),
        ("Release", i.release),
        ("Detected", when(i.detected_at)),
        ("Acknowledged", when(i.acknowledged_at)),
        ("Mitigated", when(i.mitigated_at)),
        ("Resolved", when(i.resolved_at)),
        ("Occurrences", i.occurrence_count),
    ]
    parts = [
        f'<h1 id="incident-title">{e(i.ref)}: {e(i.summary)}</h1>',
        f'<p><a href="{e(links.org(i.org))}">{e(i.org)}</a></p>',
        '<table id="facts">' + "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in facts) + "</table>",
    ]
    if forms is not None and i.is_open:
        base = links.incident(i.org, i.id)
        if i.status.value == "New":
            parts.append(
                f'<form method="post" action="{e(base)}/ack" id="ack-form">{forms.hidden(i.org)}'
                '<input name="note" placeholder="note (optional)"> <button type="submit">Acknowledge</button>'
                "</form>"
            )
        parts.append(
            f'<form method="post" action="{e(base)}/resolve" id="resolve-form">{forms.hidden(i.org)}'
            '<input name="resolution" placeholder="resolution (what fixed it)" required size="40"> '
            '<input name="root_cause" placeholder="root cause (optional)"> '
            '<button type="submit">Resolve</button></form>'
        )
    parts.append("<h2>Timeline</h2>")
    parts.append(
        '<table id="timeline"><tr><th>At (UTC)</th><th>What</th><th>Who</th><th>Details</th></tr>'
        + "".join(
            f"<tr><td>{when(t.at)}</td><td>{e(t.kind)}</td><td>{e(t.actor)}</td><td>{e(t.text)}</td></tr>"
            for t in timeline
        )
        + "</table>"
    )
    ranked = [t for t in timeline if t.kind == "changes" and (t.details or {}).get("changes")]
    if ranked:  # the org's changes ranked before the incident (sfops.changes), most suspect first
        parts.append("<h2>What changed before it broke</h2>")
        parts.append(
            '<table id="suspects"><tr><th>At (UTC)</th><th>Source</th><th>What</th><th>Who</th>'
            "<th>Touches</th></tr>"
            + "".join(
                f"<tr><td>{e(str(c['at'])[:16].replace('T', ' '))}</td><td>{e(c['source'])}</td>"
                f"<td>{e(c['summary'])}</td><td>{e(c.get('who') or '-')}</td>"
                f"<td>{e(', '.join(c.get('touches') or []) or '-')}</td></tr>"
                for c in ranked[-1].details["changes"]
            )
            + "</table>"
        )
    parts.append("<h2>Notifications</h2>")
    parts.append(
        '<table id="notifications"><tr><th>Created</th><th>Channel</th><th>Kind</th><th>Status</th>'
        "<th>Attempts</th><th>Last error</th></tr>"
        + "".join(
            f"<tr><td>{when(n.get('created_at'))}</td><td>{e(n.get('channel'))}</td><td>{e(n.get('kind'))}"
            f"</td><td>{e(n.get('status'))}</td><td>{e(n.get('attempts'))}</td>"
            f"<td>{e(n.get('last_error') or '')}</td></tr>"
            for n in notifications
        )
        + "</table>"
        if notifications
        else '<p class="empty" id="notifications">No notifications.</p>'
    )
    parts.append("<h2>Attached changes</h2>")
    parts.append(
        '<table id="changes"><tr><th>At (UTC)</th><th>Action</th><th>Target</th><th>Who</th><th>Reason</th>'
        "<th>Outcome</th></tr>"
        + "".join(
            f"<tr><td>{when(c.at)}</td><td>{e(c.action)}</td><td>{e(c.target)}</td><td>{e(c.actor)}</td>"
            f"<td>{e(c.reason or '')}</td><td>{e(c.outcome)}</td></tr>"
            for c in changes
        )
        + "</table>"
        if changes
        else '<p class="empty" id="changes">No switch flips, rollbacks or other changes recorded '
        "against this incident.</p>"
    )
    parts.append("<h2>Post-mortem (draft)</h2>")
    parts.append(f'<pre id="postmortem">{e(postmortem)}</pre>')
    return "".join(parts)


def _filters(a: Analytics, orgs: Sequence[str], links: Links, selected_org: str | None) -> str:
    if links.static:
        org_links = " ".join(
            f'<a class="{"current" if o == selected_org else ""}" '
            f'href="{e(links.analytics(o, a.period))}">{e(o or "all orgs")}</a>'
            for o in [None, *orgs]
        )
        period_links = " ".join(
            f'<a class="{"current" if p == a.period else ""}" href="{e(links.analytics(selected_org, p))}">{e(p)}</a>'
            for p in PERIODS
        )
        return f'<p class="filters" id="filters">Org: {org_links}<br>Period: {period_links}</p>'
    org_options = "".join(
        f'<option value="{e(o)}"{" selected" if o == (selected_org or "") else ""}>{e(o or "all orgs")}</option>'
        for o in ["", *orgs]
    )
    period_options = "".join(f'<option value="{p}"{" selected" if p == a.period else ""}>{p}</option>' for p in PERIODS)
    bucket_options = "".join(
        f'<option value="{b}"{" selected" if b == a.bucket else ""}>{b}</option>' for b in ("week", "month")
    )
    return (
        f'<form method="get" action="/analytics" id="filters">Org <select name="org">{org_options}</select> '
        f'Period <select name="period">{period_options}</select> By <select name="bucket">{bucket_options}'
        '</select> <button type="submit">Apply</button></form>'
    )


def analytics_page(a: Analytics, orgs: Sequence[str], selected_org: str | None, links: Links) -> str:
    """MTTA and MTTR over time, incidents by severity and by category, MTTR by severity; filters."""
    scope = selected_org or "all orgs"
    period = "all time" if a.period == "all" else f"the last {a.period[:-1]} days"
    parts = [
        f"<h1>Incident analytics: {e(scope)}, {e(period)}</h1>",
        _filters(a, orgs, links, selected_org),
        '<div class="kpis">',
        kpi("incidents", "incidents", a.incidents),
        kpi("MTTA (min)", "mtta", a.mtta),
        kpi("MTTR (min)", "mttr", a.mttr),
        "</div>",
        f"<h2>MTTA and MTTR per {e(a.bucket)} (minutes from detection)</h2>",
        charts.line_chart(
            "mtta-mttr",
            a.labels,
            {"MTTA": a.mtta_series, "MTTR": a.mttr_series},
            unit="minutes",
            x_title=a.bucket,
            colours={"MTTA": "#2563eb", "MTTR": "#b91c1c"},
        ),
        f"<h2>Incidents per {e(a.bucket)} by severity</h2>",
        charts.stacked_bars(
            "by-severity",
            a.labels,
            {s: [float(v) for v in a.by_severity[s]] for s in SEVERITIES},
            unit="incidents",
            x_title=a.bucket,
            colours=charts.SEVERITY_COLOURS,
        ),
        "<h2>Incidents by category</h2>",
        charts.hbars("by-category", [(c, float(n)) for c, n in a.by_category], unit="incidents"),
        "<h2>MTTR by severity</h2>",
        '<div id="mttr-by-severity">'
        + charts.hbars("mttr-severity", a.mttr_by_severity, unit="min", colour="#b91c1c")
        + "</div>",
    ]
    return "".join(parts)
