"""`sfops emulator`: run the local Salesforce-compatible org emulator (HTTPS) for demos and tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from sfops.cli.common import output_command, pass_app
from sfops.cli.context import AppContext
from sfops.cli.output import Result
from sfops.emulator import runner
from sfops.errors import UsageError

running_data_option = click.option(
    "--data", "data", metavar="DIR", default=None, help="Data dir of the running emulator."
)


@click.group("emulator")
def emulator() -> None:
    """Local Salesforce-compatible org emulator (HTTPS) for demos and tests."""


def _data_dir(app: AppContext, data: str | None) -> Path:
    return Path(data).expanduser() if data else app.settings.home / "emulator"


def _describe(instance: runner.Instance, app: AppContext) -> dict[str, Any]:
    return {
        "instance_url": instance.url,
        "ca_cert": instance.ca_cert,
        "pid": instance.pid,
        "org_id": instance.org_id,
        "data_dir": instance.data_dir,
        "memory": instance.memory,
        "alias": instance.alias,
        "sfops_toml": instance.toml_snippet(),
        "sfops_toml_file": instance.toml_snippet(default=True),
        "env": instance.secret_env(app.settings.env),
    }


def _message(instance: runner.Instance, app: AppContext) -> str:
    env_lines = "\n".join(
        f'export {k}="{v}"' + ("" if v.startswith("$") else "  # demo-only")
        for k, v in instance.secret_env(app.settings.env).items()
    )
    ca = f"CA certificate: {instance.ca_cert}\n" if instance.ca_cert else "Plain HTTP (no TLS).\n"
    return (
        f"sfops emulator listening on {instance.url} (org {instance.org_id}, pid {instance.pid})\n{ca}"
        f"Put in sfops.toml:\n\n{instance.toml_snippet(default=True)}\n\nand set the demo secrets:\n{env_lines}\n"
        "Then: sfops org check\n"
    )


@emulator.command("start")
@click.option("--port", type=int, default=runner.DEFAULT_PORT, show_default=True, help="Port (0 = any free).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--data", "data", metavar="DIR", default=None, help="Data dir (default: $SFOPS_HOME/emulator).")
@click.option("--memory", is_flag=True, help="Keep org data in memory only (certificates stay in the data dir).")
@click.option("--seed", type=click.Choice(["demo"]), default=None, help="Seed demo users, logs and records.")
@click.option("--http", is_flag=True, help="Serve plain HTTP instead of HTTPS.")
@click.option("--background", is_flag=True, help="Run detached; write a pid file and return once ready.")
@click.option("--latency-ms", type=float, default=0.0, help="Fault: add this latency to every request.")
@click.option("--jitter-ms", type=float, default=0.0, help="Fault: random +/- jitter on the latency.")
@click.option("--api-max", type=int, default=15000, show_default=True, help="DailyApiRequests maximum.")
@click.option("--session-seconds", type=float, default=7200.0, show_default=True, help="Session lifetime.")
@output_command
@pass_app
def start_cmd(
    app: AppContext,
    port: int,
    host: str,
    data: str | None,
    memory: bool,
    seed: str | None,
    http: bool,
    background: bool,
    latency_ms: float,
    jitter_ms: float,
    api_max: int,
    session_seconds: float,
) -> Result:
    """Start the emulator (foreground unless --background) and print how to target it."""
    if port < 0 or port > 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {port}.")
    opts = runner.StartOptions(
        _data_dir(app, data), port, host, memory, seed, http, latency_ms, jitter_ms, api_max, session_seconds
    )
    if background:
        instance = runner.start_background(opts, app.settings.env)
        return Result(data=_describe(instance, app), message=_message(instance, app))

    def announce(instance: runner.Instance) -> None:
        app.err_console.print(_message(instance, app) + "\nPress Ctrl+C to stop.", markup=False, highlight=False)

    instance = runner.run_foreground(opts, app.settings.env, announce)
    return Result(data=_describe(instance, app), message="Emulator stopped.")


@emulator.command("stop")
@running_data_option
@output_command
@pass_app
def stop_cmd(app: AppContext, data: str | None) -> Result:
    """Stop an emulator started with --background."""
    instance = runner.stop(_data_dir(app, data))
    return Result(
        data={"stopped": True, "pid": instance.pid, "instance_url": instance.url},
        message=f"Stopped the emulator (pid {instance.pid}, {instance.url}).",
    )


@emulator.command("status")
@click.option("--data", "data", metavar="DIR", default=None, help="Data dir of the emulator.")
@output_command
@pass_app
def status_cmd(app: AppContext, data: str | None) -> Result:
    """Show whether an emulator is running and where."""
    info = runner.status(_data_dir(app, data))
    message = f"Running at {info['url']} (pid {info['pid']})." if info["running"] else "Not running."
    return Result(data=info, message=message)


@emulator.command("faults")
@running_data_option
@click.option("--set", "spec", metavar="JSON", default=None, help='Fault spec, e.g. \'{"fail": {"count": 2}}\'.')
@click.option("--clear", is_flag=True, help="Clear every fault knob.")
@click.option("--expire-sessions", is_flag=True, help="Expire every live session (new logins still work).")
@output_command
@pass_app
def faults_cmd(app: AppContext, data: str | None, spec: str | None, clear: bool, expire_sessions: bool) -> Result:
    """Show or change the fault knobs of a running emulator (see docs/emulator.md)."""
    try:
        body = json.loads(spec) if spec else {}
    except ValueError as exc:
        raise UsageError(f"--set is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise UsageError('--set must be a JSON object, e.g. \'{"fail": {"count": 2}}\'.')
    state = runner.running_state(_data_dir(app, data))
    if expire_sessions:
        body["expire_sessions"] = True
    if clear:
        result = runner.control(state, "DELETE", "faults")
    elif body:
        result = runner.control(state, "POST", "faults", body)
    else:
        result = runner.control(state, "GET", "faults")
    return Result(data=result, message=json.dumps(result, indent=2))


@emulator.command("reset")
@running_data_option
@output_command
@pass_app
def reset_cmd(app: AppContext, data: str | None) -> Result:
    """Wipe a running emulator back to its freshly seeded org (sessions, faults and journal too)."""
    state = runner.running_state(_data_dir(app, data))
    result = runner.control(state, "POST", "reset")
    return Result(data=result, message=f"Emulator at {state.url} reset (org {result['org_id']}).")
