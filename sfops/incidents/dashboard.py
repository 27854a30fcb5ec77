"""A self-contained HTML incident dashboard: inline CSS and SVG, no scripts, no CDN (works offline)."""

from __future__ import annotations

import datetime as dt
import functools
import html
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sfops.errors import UsageError
from sfops.incidents import metrics_source, records
from sfops.incidents.metrics import Metrics
from sfops.incidents.model import Incident
from sfops.salesforce import Org
from sfops.store import Store

_COLOURS = {"P1": "#b91c1c", "P2": "#ea580c", "P3": "#ca8a04", "P4": "#2563eb"}


def _bars(items: list[tuple[str, float | None]], unit: str, colour: str = "#2563eb",
          scale: float | None = None) -> str:
    """A horizontal SVG bar chart; bars carry data-value attributes for tests and tools.

    `scale` is the value of a full-width bar (100 for percentages); by default the largest value.
    """
    values = [v for _, v in items if v is not None]
    top = scale or (max(values) if values else 1.0) or 1.0
    label_w = 12 + 7 * max((len(label) for label, _ in items), default=4)
    height = 28 * len(items) + 10
    rows = []
    for i, (label, value) in enumerate(items):
        width = 0 if value is None else max(2, int(300 * min(value, top) / top))
        text = "-" if value is None else f"{value:g} {unit}"
        y = 10 + i * 28
        rows.append(f'<text x="0" y="{y + 14}">{html.escape(label)}</text>'
                    f'<rect x="{label_w}" y="{y}" width="{width}" height="18" fill="{colour}" '
                    f'data-label="{html.escape(label)}" data-value="{"" if value is None else value}"/>'
                    f'<text x="{label_w + 5 + width}" y="{y + 14}">{html.escape(text)}</text>')
    return f'<svg width="{label_w + 380}" height="{height}" role="img">{"".join(rows)}</svg>'


def _stacked(counts: list[dict]) -> str:
    if not counts:
        return "<p>No incidents in this period.</p>"
    top = max(r["total"] for r in counts) or 1
    bar_w, height = 40, 180
    parts = []
    for i, row in enumerate(counts):
        x, y = 10 + i * (bar_w + 14), height
        for sev in ("P4", "P3", "P2", "P1"):
            h = int(150 * row[sev] / top)
            if h:
                y -= h
                parts.append(f'<rect x="{x}" y="{y}" width="{bar_w}" height="{h}" fill="{_COLOURS[sev]}" '
                             f'data-period="{html.escape(str(row["period"]))}" data-severity="{sev}" '
                             f'data-value="{row[sev]}"><title>{sev}: {row[sev]}</title></rect>')
        parts.append(f'<text x="{x}" y="{height + 16}" font-size="10">{html.escape(str(row["period"]))}</text>')
    width = 20 + len(counts) * (bar_w + 14)
    return f'<svg width="{width}" height="{height + 24}" role="img">{"".join(parts)}</svg>'


def limit_usage(limits: dict[str, Any], top: int = 8) -> list[tuple[str, float]]:
    """(limit name, percent used) of the org limits closest to exhaustion."""
    usage = []
    for name, entry in limits.items():
        if isinstance(entry, dict) and entry.get("Max"):
            used = entry["Max"] - entry.get("Remaining", entry["Max"])
            usage.append((name, round(100 * used / entry["Max"], 1)))
    return sorted(usage, key=lambda kv: (-kv[1], kv[0]))[:top]


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _minutes(start: dt.datetime | None, end: dt.datetime | None) -> str:
    return "-" if start is None or end is None else f"{(end - start).total_seconds() / 60:.0f}"


def recent_rows(recent: list[tuple[Incident, str]]) -> str:
    """The latest incidents (any status) with their times and the most suspect change before each."""
    return "".join(
        f"<tr><td>{html.escape(i.ref)}</td><td>{html.escape(i.severity)}</td><td>{i.status.value}</td>"
        f"<td>{html.escape(i.summary[:100])}</td><td>{i.detected_at:%Y-%m-%d %H:%M}</td>"
        f"<td>{_minutes(i.detected_at, i.acknowledged_at)}</td><td>{_minutes(i.detected_at, i.resolved_at)}</td>"
        f"<td>{html.escape(i.resolution or '-')[:160]}</td><td>{html.escape(suspect)}</td></tr>"
        for i, suspect in recent if i.detected_at) or '<tr><td colspan="9">No incidents yet.</td></tr>'


def render_html(m: Metrics, open_incidents: list[Incident], *, org: str, generated: dt.datetime,
                limits: list[tuple[str, float]] | None = None,
                recent: list[tuple[Incident, str]] | None = None) -> str:
    """The dashboard page."""
    overall = m.overall
    sev = {r["severity"]: r for r in m.by_severity}
    mttr = [(s, sev.get(s, {}).get("mttr")) for s in ("P1", "P2", "P3", "P4")]
    open_rows = "".join(
        f"<tr><td>{html.escape(i.ref)}</td><td>{html.escape(i.severity)}</td><td>{i.status.value}</td>"
        f"<td>{html.escape(i.summary[:100])}</td><td>{i.detected_at:%Y-%m-%d %H:%M}</td></tr>"
        for i in open_incidents if i.detected_at) or '<tr><td colspan="5">No open incidents.</td></tr>'
    cfr = m.change_failure
    cfr_text = f"{cfr['rate_percent']}% ({cfr['failed']}/{cfr['releases']})" if cfr.get("releases") else "-"

    def kpi(label: str, key: str, value: object) -> str:
        shown = html.escape(str(value if value is not None else "-"))
        return f'<div class="kpi"><div class="v" id="kpi-{key}">{shown}</div><div class="l">{label}</div></div>'

    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>sfops incidents - {html.escape(org)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px; color: #111; }}
.kpis {{ display: flex; gap: 16px; flex-wrap: wrap; }}
.kpi {{ border: 1px solid #ddd; border-radius: 8px; padding: 12px 18px; min-width: 120px; }}
.kpi .v {{ font-size: 28px; font-weight: 600; }} .kpi .l {{ color: #555; }}
table {{ border-collapse: collapse; }} td, th {{ border-bottom: 1px solid #eee; padding: 4px 10px; text-align: left; }}
svg text {{ font-size: 12px; }}
</style></head><body>
<h1>Incidents - {html.escape(org)}</h1>
<p>Generated {generated:%Y-%m-%d %H:%M} UTC by sfops. Times in minutes from detection.</p>
<div class="kpis">
{kpi("incidents", "incidents", overall.get("incidents"))}
{kpi("MTTA (min)", "mtta", overall.get("mtta"))}
{kpi("time to mitigate (min)", "ttm", overall.get("time_to_mitigate"))}
{kpi("MTTR (min)", "mttr", overall.get("mttr"))}
{kpi("open", "open", len(open_incidents))}
{kpi("change failure rate", "cfr", cfr_text)}
</div>
<h2>Incidents per month by severity</h2>
{_stacked(m.counts_by_severity)}
<h2>MTTR by severity</h2>
<div id="mttr-by-severity">{_bars(mttr, "min", "#b91c1c")}</div>
<h2>Org limit usage (%)</h2>
<div id="limits">{_bars([(n, v) for n, v in limits], "%", "#0f766e", scale=100) if limits else "<p>Not read.</p>"}</div>
<h2>Open incidents</h2>
<table id="open"><tr><th>Incident</th><th>Severity</th><th>Status</th><th>Summary</th><th>Detected (UTC)</th></tr>
{open_rows}</table>
<h2>Recent incidents</h2>
<table id="recent"><tr><th>Incident</th><th>Severity</th><th>Status</th><th>Summary</th><th>Detected (UTC)</th>
<th>TTA (min)</th><th>TTR (min)</th><th>Resolution</th><th>Most suspect change before it</th></tr>
{recent_rows(recent or [])}</table>
</body></html>
"""


def write_dashboard(store: Store, org_name: str, org: Org | None, out: Path, *,
                    since: dt.datetime | None = None, now: dt.datetime | None = None) -> Path:
    """Compute metrics (refreshing the mirror from the org when given) and write the HTML file."""
    m = metrics_source.compute_for(store, org_name, org, since=since)
    mirrored = records.list_incidents(store, org_name)
    open_incidents = [i for i in mirrored if i.is_open]
    latest = sorted((i for i in mirrored if i.detected_at), key=lambda i: i.detected_at or _EPOCH, reverse=True)[:10]
    recent = [(i, _suspect(store, i)) for i in latest]
    out.parent.mkdir(parents=True, exist_ok=True)
    usage = limit_usage(org.limits()) if org is not None else None
    out.write_text(render_html(m, open_incidents, org=org_name, generated=now or dt.datetime.now(dt.UTC),
                               limits=usage, recent=recent), encoding="utf-8")
    return out


def _suspect(store: Store, incident: Incident) -> str:
    """The first of the changes attached to an incident (sfops.changes), or "-"."""
    attached = [e for e in records.events(store, incident.org, incident.id) if e["kind"] == "changes"]
    changes = ((attached[-1]["details"] or {}).get("changes") or []) if attached else []
    if not changes:
        return "-"
    first = changes[0]
    return f"{first['source']} {first['at'][:16].replace('T', ' ')}: {first['summary']}"[:200]


def serve(path: Path, port: int = 8765) -> ThreadingHTTPServer:
    """An HTTP server on 127.0.0.1 serving only the dashboard file (call serve_forever on it).

    Only that one file: its folder is $SFOPS_HOME by default, which also holds the local store and
    other private files. A port that cannot be bound is a UsageError.
    """
    page = path.resolve()
    handler = functools.partial(_OneFileHandler, page=page)
    try:
        return ThreadingHTTPServer(("127.0.0.1", port), handler)
    except (OSError, OverflowError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"Cannot serve the dashboard on 127.0.0.1:{port}: {reason}.") from None


class _OneFileHandler(BaseHTTPRequestHandler):
    """GET / or /<file name> returns the page; anything else is 404."""

    def __init__(self, *args: Any, page: Path, **kwargs: Any) -> None:
        self.page = page
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        if urlsplit(self.path).path not in ("/", "/" + self.page.name):
            self.send_error(404)
            return
        body = self.page.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass
