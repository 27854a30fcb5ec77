"""`sfops agent`: run the scheduled jobs (log pull, limits snapshot, switch restores, breaker sync,
incident escalation, notification retries) for the orgs in `[agent]`, as leader only."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from sfops.cli.common import output_command, pass_app, target_org_option
from sfops.cli.context import AppContext
from sfops.cli.output import Result, when_text
from sfops.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from sfops.agent import Agent

# sfops.agent (APScheduler, SQLAlchemy) is imported inside the commands: `sfops agent --help` stays fast.

RUN_COLUMNS = ["org", "job", "outcome", "summary", "error"]


@click.group("agent")
def agent() -> None:
    """The scheduled agent: runs sfops jobs per org on schedules from [agent], one leader per store."""


def _agent(app: AppContext, target_org: str | None, at: dt.datetime | None = None) -> Agent:
    from sfops.agent import Agent, load_agent_config

    config = load_agent_config(app.settings, only_org=target_org)
    if at is not None:
        return Agent(config, app.store, app.settings, get_org=app.org, actor=app.actor, clock=lambda: at)
    return Agent(config, app.store, app.settings, get_org=app.org, actor=app.actor)


def _past_moment(value: str, option: str) -> dt.datetime:
    """An ISO time that is not in the future (one UsageError line otherwise)."""
    from sfops.cli.common import parse_moment

    moment = parse_moment(value, option)
    if moment > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5):
        raise UsageError(f"{option} {value} is in the future.")
    return moment


def _names(jobs: str | None) -> list[str] | None:
    return [n.strip() for n in jobs.split(",") if n.strip()] if jobs else None


@contextmanager
def _logging_to(app: AppContext, level: str) -> Iterator[None]:
    """sfops.* log records to stderr while the agent runs (removed afterwards: in-process runs stay clean)."""
    handler = logging.StreamHandler(app.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("sfops")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set `stop` (only possible from the main thread; elsewhere the caller stops us)."""

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


@agent.command("run")
@target_org_option
@click.option("--once", is_flag=True, help="Run each due job one time and exit (for cron and tests).")
@click.option("--jobs", "jobs", default=None, metavar="A,B", help="Only these jobs (comma-separated names).")
@click.option("--force", is_flag=True, help="With --once: run the selected jobs even when they are not due.")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default=None,
    help="Log level of the agent's log on stderr (default: info; warning with --once).",
)
@click.option(
    "--listen",
    metavar="HOST:PORT",
    default=None,
    help="Serve /metrics, /livez, /readyz and the console here (HOST defaults to 127.0.0.1; port 0: any).",
)
@click.option(
    "--grace",
    type=click.IntRange(0, 3600),
    default=None,
    metavar="SECONDS",
    help="After SIGTERM, how long running jobs may take to finish (default: [agent] grace_seconds, 30).",
)
@click.option(
    "--at",
    "at",
    default=None,
    metavar="TIME",
    help="With --once: run as of this past ISO time (catching up a missed tick, or a rehearsal): "
    "jobs, detection and incident stamps take it as now.",
)
@output_command
@pass_app
def run_cmd(
    app: AppContext,
    target_org: str | None,
    once: bool,
    jobs: str | None,
    force: bool,
    log_level: str | None,
    listen: str | None,
    grace: int | None,
    at: str | None,
) -> Result:
    """Run the agent: with --once each due job runs one time; otherwise until SIGTERM/SIGINT."""
    if force and not once:
        raise UsageError("--force only applies with --once.")
    if once and (listen or grace is not None):
        raise UsageError("--listen and --grace apply to a running agent, not with --once.")
    as_of = _past_moment(at, "--at") if at else None
    if as_of is not None and not once:
        raise UsageError("--at only applies with --once.")
    runner = _agent(app, target_org, as_of)
    names = _names(jobs)
    with _logging_to(app, log_level or ("warning" if once else "info")):
        if not once:
            stop = threading.Event()
            server = _listen(app, runner, target_org, listen) if listen else None
            try:
                with _stop_on_signals(stop):
                    left = runner.serve(stop, names, grace)
            finally:
                if server is not None:
                    server.shutdown()
                    server.server_close()
            message = f"Agent {runner.holder} stopped; leases released."
            if left:
                message += (
                    f" {len(left)} run(s) did not finish within the grace period: "
                    + ", ".join(f"{org} {job}" for _, org, job in left)
                    + "."
                )
            return Result(
                data={
                    "holder": runner.holder,
                    "stopped": True,
                    "interrupted": [{"run_id": r, "org": o, "job": j} for r, o, j in left],
                },
                message=message,
            )
        attempts = runner.run_once(names, force=force)
    from sfops.agent.runs import FAILED, OK, PARTIAL

    ran = [a for a in attempts if a.outcome in (OK, PARTIAL, FAILED)]
    failed = [a for a in ran if a.outcome == FAILED]
    exit_code = ExitCode.OK
    if failed or any(a.outcome == PARTIAL for a in ran):
        exit_code = ExitCode.FAILED if ran and len(failed) == len(ran) else ExitCode.PARTIAL
    message = f"{len(ran)} job(s) ran ({len(failed)} failed), {len(attempts) - len(ran)} not run."
    return Result(data=attempts, columns=RUN_COLUMNS, title="Agent jobs", message=message, exit_code=exit_code)


def _listen(app: AppContext, runner: Agent, target_org: str | None, listen: str) -> Any:
    """Start the HTTP server of the running agent: metrics, probes and the console."""
    from sfops.agent import load_agent_config
    from sfops.agent.health import Health
    from sfops.agent.metrics import AgentMetrics
    from sfops.config import load_settings
    from sfops.web.server import make_server, parse_listen, serve_in_background
    from sfops.web.service import agent_endpoints

    host, port = parse_listen(listen)
    metrics = AgentMetrics(app.store, runner.config.orgs, leading=runner.leading, api_usage=runner.api_usage)
    runner.observers.append(metrics.observe_run)
    health = Health(
        runner,
        check_config=lambda: load_agent_config(load_settings(app.env, app.config_path, app.cwd), only_org=target_org),
    )
    server = make_server(host, port, agent_endpoints(metrics, health, _console(app, runner)))
    serve_in_background(server)
    bound_host, bound_port = server.server_address[:2]
    logging.getLogger("sfops.agent").info(
        "serving /metrics, /livez, /readyz and the console on http://%s:%s/", bound_host, bound_port
    )
    return server


def _console(app: AppContext, runner: Agent) -> Any:
    """The console pages for the orgs this agent serves (read-only unless [console] writes is on)."""
    from sfops.web.console import Console, ConsoleConfig, console_handler

    console = Console(
        app.store,
        app.settings,
        runner.config.orgs,
        get_org=app.org,
        actor=app.actor,
        config=ConsoleConfig.from_settings(app.settings),
        leading=runner.leading,
    )
    return console_handler(console)


@agent.command("jobs")
@target_org_option
@click.option("--jobs", "jobs", default=None, metavar="A,B", help="Only these jobs (comma-separated names).")
@output_command
@pass_app
def jobs_cmd(app: AppContext, target_org: str | None, jobs: str | None) -> Result:
    """The configured jobs per org: schedule, next run, last run and its outcome, current leader."""
    from sfops.agent import lease_name

    runner = _agent(app, target_org)
    planned = runner.plan(_names(jobs))
    leaders = {}
    for org in runner.config.orgs:
        info = runner.lease.info(lease_name(org))
        leaders[org] = info.holder if runner.lease.is_live(info) and info else "-"
    rows = [
        {
            "org": p.org,
            "job": p.job,
            "schedule": p.schedule,
            "next run": "now (due)" if p.due else when_text(p.next_run),
            "last run": when_text(p.last_run.started_at) if p.last_run else "-",
            "outcome": p.last_run.outcome if p.last_run else "-",
            "leader": leaders[p.org],
            "note": p.backoff or ((p.last_run.error or "") if p.last_run else ""),
        }
        for p in planned
    ]
    return Result(data=planned, rows=rows, title="Agent jobs", optional=["leader", "org", "last run", "schedule"])


@agent.command("history")
@target_org_option
@click.option("--job", default=None, help="Only runs of this job.")
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True, help="How many runs.")
@output_command
@pass_app
def history_cmd(app: AppContext, target_org: str | None, job: str | None, limit: int) -> Result:
    """Recorded job runs, newest first (from the local store; no API call)."""
    from sfops.agent import JOBS, run_history

    if job is not None and job not in JOBS:
        raise UsageError(f"Unknown job '{job}'. Jobs: {', '.join(JOBS)}.")
    org = app.org_config(target_org).alias if target_org else None
    runs = run_history(app.store, alias=org, job=job, limit=limit)
    rows = [
        {
            "id": r.id,
            "org": r.alias,
            "job": r.job,
            "started": when_text(r.started_at),
            "seconds": f"{(r.finished_at - r.started_at).total_seconds():.1f}" if r.finished_at else "-",
            "outcome": r.outcome,
            "summary": r.summary or "",
            "error": r.error or "",
            "holder": r.holder,
        }
        for r in runs
    ]
    return Result(data=runs, rows=rows, title="Agent runs", optional=["holder", "org", "id", "seconds"])
