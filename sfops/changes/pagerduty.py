"""PagerDuty Change Events for org-side changes (deployments, Setup Audit Trail entries).

With a `type = "pagerduty"` channel in `[alerts.channels]`, each newly collected org change is sent to the
Change Events endpoint (`/v2/change/enqueue`, payload: summary, source, timestamp, custom_details; links),
so PagerDuty lists it as a recent change on the service's incidents. The endpoint is the channel's
`change_url`, else its `url` with `/v2/enqueue` replaced by `/v2/change/enqueue`, else PagerDuty's.
Intent is recorded before the POST and settled after (state `changes.pagerduty.<org>.<source>.<id>`),
so a change is never sent twice by two collections.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import requests

from sfops.config import Settings
from sfops.errors import ConfigError
from sfops.store import Store

CHANGE_URL = "https://events.pagerduty.com/v2/change/enqueue"
log = logging.getLogger(__name__)


def change_url(options: Mapping[str, Any]) -> str:
    """Where Change Events go for a PagerDuty channel."""
    if options.get("change_url"):
        return str(options["change_url"])
    url = str(options.get("url") or "")
    if not url:
        return CHANGE_URL
    if url.endswith("/v2/enqueue"):
        return url[: -len("/v2/enqueue")] + "/v2/change/enqueue"
    return url.rstrip("/") + "/change"


def change_payload(row: Mapping[str, Any], routing_key: str, *, org: str) -> dict[str, Any]:
    """One org change as a PagerDuty Change Event (v2)."""
    at = row["at"]
    stamp = at.astimezone(dt.UTC).isoformat() if isinstance(at, dt.datetime) else str(at)
    source = "DeployRequest" if row.get("kind") == "deploy" else "SetupAuditTrail"
    details = {
        "org": org,
        "source": source,
        "id": row.get("id"),
        "status": row.get("status"),
        "who": row.get("who"),
        "components": list(row.get("components") or [])[:50],
    }
    return {
        "routing_key": routing_key,
        "payload": {
            "summary": str(row.get("summary") or source)[:1024],
            "timestamp": stamp,
            "source": f"salesforce:{org}",
            "custom_details": details,
        },
        "links": [],
    }


def send_change_events(
    settings: Settings,
    store: Store,
    alias: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    session: requests.Session | None = None,
) -> int:
    """Send the new org changes to every PagerDuty channel; returns how many events were accepted."""
    if not rows:
        return 0
    from sfops.incidents.notify import AlertsConfig

    try:
        alerts = AlertsConfig.from_settings(settings.section("alerts"), settings.env)
    except ConfigError as exc:
        log.warning("no PagerDuty change events: %s", exc.message)
        return 0
    channels = [c for c in alerts.channels.values() if c.type == "pagerduty"]
    if not channels:
        return 0
    http = session or requests.Session()
    sent = 0
    for channel in channels:
        try:
            key = channel.secret("routing_key") or ""
        except ConfigError as exc:
            log.warning("no PagerDuty change events on %s: %s", channel.name, exc.message)
            continue
        url = change_url(channel.options)
        for row in rows:
            state_key = f"changes.pagerduty.{alias}.{channel.name}.{row.get('id')}"
            if store.get_state(state_key):
                continue
            store.set_state(state_key, "sending")
            try:
                response = http.post(url, json=change_payload(row, key, org=alias), timeout=channel.timeout)
                response.raise_for_status()
            except requests.RequestException as exc:
                log.warning("PagerDuty change event for %s failed: %s", row.get("id"), type(exc).__name__)
                continue
            store.set_state(state_key, "sent")
            sent += 1
    return sent
