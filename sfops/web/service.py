"""The agent's operational endpoints: /metrics (Prometheus), /livez and /readyz (probes)."""

from __future__ import annotations

from typing import Any

from sfops.web.server import Handler, Request, Response


def agent_endpoints(metrics: Any, health: Any, fallback: Handler | None = None) -> Handler:
    """A handler for /metrics, /livez and /readyz; other paths go to `fallback` (the console) or 404."""

    def handle(request: Request) -> Response:
        if request.path == "/metrics" and request.method == "GET":
            body, content_type = metrics.exposition()
            return Response(200, body, content_type)
        if request.path == "/livez":
            return Response.text(200 if health.live() else 503, "ok\n")
        if request.path == "/readyz":
            readiness = health.ready()
            return Response.text(200 if readiness.ready else 503, readiness.text())
        if fallback is not None:
            return fallback(request)
        return Response.text(404, "Not found.\n")

    return handle
