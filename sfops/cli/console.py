"""`sfops console`: serve the web console (org overview, incidents, analytics) without running the agent."""

from __future__ import annotations

import logging

import click

from sfops.cli.common import output_command, pass_app, target_org_option
from sfops.cli.context import AppContext
from sfops.cli.output import Result


@click.command("console")
@click.option(
    "--listen",
    metavar="HOST:PORT",
    default="127.0.0.1:8766",
    show_default=True,
    help="Where to serve the console (HOST defaults to 127.0.0.1; port 0: any free port).",
)
@target_org_option
@output_command
@pass_app
def console_cmd(app: AppContext, target_org: str | None, listen: str) -> Result:
    """Serve the web console (orgs, incidents, analytics) until interrupted; read-only unless [console] writes.

    The orgs are those of [agent] (or -o ALIAS). `sfops agent run --listen` serves the same console next
    to /metrics; write actions need [console] writes = true and SFOPS_CONSOLE_TOKEN (docs/agent.md).
    """
    from sfops.agent import load_agent_config
    from sfops.web.console import Console, ConsoleConfig, console_handler
    from sfops.web.server import make_server, parse_listen

    orgs = load_agent_config(app.settings, only_org=target_org).orgs
    console = Console(
        app.store,
        app.settings,
        orgs,
        get_org=app.org,
        actor=app.actor,
        config=ConsoleConfig.from_settings(app.settings),
    )
    host, port = parse_listen(listen)
    server = make_server(host, port, console_handler(console))
    app.err_console.print(
        f"Serving the console on http://{host}:{server.server_address[1]}/ (Ctrl+C stops)",
        highlight=False,
        markup=False,
    )
    logging.getLogger("sfops.web").debug("console for %s", ", ".join(orgs))
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return Result(data={"stopped": True}, message="Console stopped.")
