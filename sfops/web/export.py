"""`sfops dashboard`: the console's pages written as static files (same page builders, file links).

Layout: the org's overview goes to `--out` (e.g. dashboard.html) and every other page (index, analytics
for each period, incident pages) into the folder beside it, `<stem>_files/`, like a browser's "save
page". `serve_export` serves exactly those files on loopback and nothing else of the folder they are in
($SFOPS_HOME by default, which also holds the store).
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from sfops.errors import UsageError
from sfops.store import console_reads
from sfops.web import data
from sfops.web.console import Console
from sfops.web.pages import Links

RECENT_INCIDENT_PAGES = 50


def folder_of(out: Path) -> Path:
    return out.parent / f"{out.stem}_files"


def export_site(console: Console, alias: str, out: Path) -> list[Path]:
    """Write the pages of `alias` (read-only: no forms); returns the files written, `out` first."""
    folder = folder_of(out)
    folder.mkdir(parents=True, exist_ok=True)
    links = Links(static=True)
    main_links = Links(static=True, prefix=f"{folder.name}/")
    written: list[Path] = []

    def write(path: Path, title: str, body: str) -> None:
        path.write_text(console.page(title, body, links if path.parent == folder else main_links), encoding="utf-8")
        written.append(path)

    write(out, f"sfops - {alias}", console.org_body(alias, main_links, None))
    write(folder / links.org(alias), f"sfops - {alias}", console.org_body(alias, links, None))
    write(folder / links.index(), "sfops - orgs", console.index_body(links))
    for org in (None, alias):
        for period in data.PERIODS:
            write(
                folder / links.analytics(org, period),
                f"sfops analytics - {org or 'all orgs'}",
                console.analytics_body(org, period, "month", links),
            )
    rows = {r["id"]: r for r in console_reads.incidents_by_status(console.store, alias, data.OPEN, limit=500)}
    rows.update({r["id"]: r for r in console_reads.recent_incidents(console.store, alias, RECENT_INCIDENT_PAGES)})
    for incident_id in rows:
        body = console.incident_body(alias, incident_id, links, None)
        if body is not None:
            write(folder / links.incident(alias, incident_id), f"sfops incident {incident_id}", body)
    return written


def only_org(console: Console, alias: str) -> Console:
    """The same console limited to one org (the export covers the org it was asked for)."""
    return replace(console, orgs=(alias,))


_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.html$")


def serve_export(out: Path, port: int = 8765) -> ThreadingHTTPServer:
    """Serve the exported files on 127.0.0.1:PORT (call serve_forever): `/` and `/<out name>` are the main
    page, `/<stem>_files/<page>.html` the others; nothing else. A port that cannot be bound is a UsageError."""
    handler = functools.partial(_ExportHandler, out=out.resolve())
    try:
        return ThreadingHTTPServer(("127.0.0.1", port), handler)
    except (OSError, OverflowError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"Cannot serve the dashboard on 127.0.0.1:{port}: {reason}.") from None


class _ExportHandler(BaseHTTPRequestHandler):
    def __init__(self, *args: Any, out: Path, **kwargs: Any) -> None:
        self.out = out
        super().__init__(*args, **kwargs)

    def _file(self) -> Path | None:
        path = unquote(urlsplit(self.path).path)
        if path in ("/", "/" + self.out.name):
            return self.out
        folder = folder_of(self.out)
        head, _, name = path.lstrip("/").partition("/")
        if head == folder.name and _NAME.match(name) and (folder / name).is_file():
            return folder / name
        return None

    def do_GET(self) -> None:
        page = self._file()
        if page is None:
            self.send_error(404)
            return
        body = page.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass
