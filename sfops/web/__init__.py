"""sfops's web face: the HTTP server of `sfops agent run --listen` and `sfops console` (metrics, health
probes and the console pages), and the static export of the same pages (`sfops dashboard`).

Like sfops/cli it is a face: it may import the domain packages and sfops.agent, nothing imports it
but the CLI. Pages are rendered on the server, with inline CSS and SVG, no script and no CDN.
"""
