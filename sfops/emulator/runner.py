"""Starting and stopping an emulator process: foreground, background (pid file), status, and the
small HTTPS client the CLI uses for /__emulator__/ control calls.

State files live in the data dir: `emulator.sqlite3` (unless --memory), `certs/` (CA + server
certificate), `emulator.json` (pid, url, CA path of the running instance), `emulator.log`.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sfops.config import env_key
from sfops.errors import SfopsError, UsageError

DEFAULT_PORT = 8443
DEMO_ALIAS = "emulator"
STATE_FILE = "emulator.json"


@dataclass
class StartOptions:
    """What `sfops emulator start` was asked for."""

    data_dir: Path
    port: int = DEFAULT_PORT
    host: str = "127.0.0.1"
    memory: bool = False
    seed: str | None = None
    http: bool = False
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    api_max: int = 15000
    session_seconds: float = 7200.0


@dataclass
class Instance:
    """A running emulator as reported to the user."""

    url: str
    ca_cert: str | None
    pid: int
    data_dir: str
    memory: bool
    org_id: str
    admin_username: str
    client_id: str
    alias: str = DEMO_ALIAS

    def toml_snippet(self, *, default: bool = False) -> str:
        """The sfops.toml section that targets this emulator; with `default`, a whole file that also makes
        it default_org (so `sfops org check` works with nothing else)."""
        lines = [f'default_org = "{self.alias}"', ""] if default else []
        lines += [
            f"[orgs.{self.alias}]",
            'auth = "password"',
            f'login_url = "{self.url}"',
            f'instance_url = "{self.url}"',
            f'username = "{self.admin_username}"',
            f'client_id = "{self.client_id}"',
        ]
        if self.ca_cert:
            lines.append(f'ca_bundle = "{self.ca_cert}"')
        return "\n".join(lines)

    def secret_env(self, env: Mapping[str, str]) -> dict[str, str]:
        """Env vars carrying the demo secrets: documented demo defaults as values, custom ones as `$VAR`."""
        from sfops.emulator.app import EmulatorSettings

        defaults = EmulatorSettings()
        out = {}
        for name, source, default in (
            ("password", "SFOPS_EMULATOR_ADMIN_PASSWORD", defaults.admin_password),
            ("client_secret", "SFOPS_EMULATOR_CLIENT_SECRET", defaults.client_secret),
        ):
            out[env_key(self.alias, name)] = f"${source}" if env.get(source) else default
        return out


def settings_from_env(opts: StartOptions, env: Mapping[str, str]) -> Any:
    """EmulatorSettings for the options; demo secrets overridable through the environment."""
    from sfops.emulator.app import EmulatorSettings

    s = EmulatorSettings(seed=opts.seed, api_max=opts.api_max, session_seconds=opts.session_seconds)
    s.admin_password = env.get("SFOPS_EMULATOR_ADMIN_PASSWORD") or s.admin_password
    s.client_secret = env.get("SFOPS_EMULATOR_CLIENT_SECRET") or s.client_secret
    s.admin_username = env.get("SFOPS_EMULATOR_ADMIN_USERNAME") or s.admin_username
    cert = env.get("SFOPS_EMULATOR_JWT_CERT")
    if cert:
        s.jwt_certificate = Path(cert).read_text() if Path(cert).is_file() else cert
    return s


def build_server(opts: StartOptions, env: Mapping[str, str]) -> Any:
    """An EmulatorServer for the options (bound, not yet serving)."""
    from sfops.emulator.app import Emulator
    from sfops.emulator.server import EmulatorServer

    opts.data_dir.mkdir(parents=True, exist_ok=True)
    store = ":memory:" if opts.memory else opts.data_dir / "emulator.sqlite3"
    emu = Emulator(store, settings_from_env(opts, env))
    if opts.latency_ms or opts.jitter_ms:
        emu.faults.apply({"latency": {"fixed_ms": opts.latency_ms, "jitter_ms": opts.jitter_ms}})
    try:
        return EmulatorServer(emu, opts.host, opts.port, tls=not opts.http, cert_dir=opts.data_dir / "certs")
    except OSError as exc:
        raise SfopsError(
            f"Cannot listen on {opts.host}:{opts.port}: {exc.strerror or exc}",
            actions=["sfops emulator start --port 0", "sfops emulator stop"],
        ) from exc


def instance_of(server: Any, opts: StartOptions, pid: int) -> Instance:
    emu = server.emulator
    return Instance(
        url=server.url,
        ca_cert=str(server.certs.ca_cert) if server.certs else None,
        pid=pid,
        data_dir=str(opts.data_dir),
        memory=opts.memory,
        org_id=emu.org_id,
        admin_username=emu.settings.admin_username,
        client_id=emu.settings.client_id,
    )


def _write_state(opts: StartOptions, instance: Instance) -> None:
    (opts.data_dir / STATE_FILE).write_text(json.dumps(asdict(instance), indent=2))


def read_state(data_dir: Path) -> Instance | None:
    path = data_dir / STATE_FILE
    if not path.is_file():
        return None
    try:
        return Instance(**json.loads(path.read_text()))
    except (ValueError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:  # reap it first if it is our own exited child (a zombie still answers kill 0)
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_foreground(opts: StartOptions, env: Mapping[str, str], announce: Any = None) -> Instance:
    """Serve until interrupted (SIGINT/SIGTERM). `announce(instance)` is called once listening."""
    existing = read_state(opts.data_dir)
    if existing and existing.pid != os.getpid() and _alive(existing.pid):
        raise UsageError(
            f"An emulator is already running from {opts.data_dir} (pid {existing.pid}, {existing.url}).",
            actions=["sfops emulator stop"],
        )
    server = build_server(opts, env)
    instance = instance_of(server, opts, os.getpid())
    _write_state(opts, instance)
    if announce is not None:
        announce(instance)

    def _term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _term)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
        state = read_state(opts.data_dir)
        if state and state.pid == os.getpid():
            (opts.data_dir / STATE_FILE).unlink(missing_ok=True)
    return instance


def start_background(opts: StartOptions, env: Mapping[str, str], timeout: float = 30.0) -> Instance:
    """Start `python -m sfops.emulator` detached; return once it answers /__emulator__/health."""
    existing = read_state(opts.data_dir)
    if existing and _alive(existing.pid):
        raise UsageError(
            f"An emulator is already running from {opts.data_dir} (pid {existing.pid}, {existing.url}).",
            actions=["sfops emulator stop"],
        )
    opts.data_dir.mkdir(parents=True, exist_ok=True)
    (opts.data_dir / STATE_FILE).unlink(missing_ok=True)
    argv = [
        sys.executable,
        "-m",
        "sfops.emulator",
        "--data",
        str(opts.data_dir),
        "--port",
        str(opts.port),
        "--host",
        opts.host,
        "--api-max",
        str(opts.api_max),
        "--session-seconds",
        str(opts.session_seconds),
        "--latency-ms",
        str(opts.latency_ms),
        "--jitter-ms",
        str(opts.jitter_ms),
    ]
    argv += ["--memory"] if opts.memory else []
    argv += ["--http"] if opts.http else []
    argv += ["--seed", opts.seed] if opts.seed else []
    log = (opts.data_dir / "emulator.log").open("ab")
    proc = subprocess.Popen(
        argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=dict(env), start_new_session=True
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = read_state(opts.data_dir)
        if state and state.pid == proc.pid:
            try:
                control(state, "GET", "health")
                return state
            except SfopsError:
                pass
        if proc.poll() is not None:
            raise SfopsError(
                f"The emulator exited during start-up (code {proc.returncode}): "
                f"{_last_line(opts.data_dir / 'emulator.log')} (log: {opts.data_dir / 'emulator.log'})"
            )
        time.sleep(0.1)
    proc.terminate()
    raise SfopsError(f"The emulator did not become ready within {timeout:.0f} s; see {opts.data_dir / 'emulator.log'}.")


def running_state(data_dir: Path) -> Instance:
    """The background emulator recorded in `data_dir`; UsageError when there is none or its process is
    gone (a stale record is removed)."""
    state = read_state(data_dir)
    if state is None or not _alive(state.pid):
        (data_dir / STATE_FILE).unlink(missing_ok=True)
        raise UsageError(f"No running emulator recorded in {data_dir}.", actions=["sfops emulator start"])
    return state


def _last_line(path: Path) -> str:
    """The last non-empty line of a log file (what a failed start said last)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "no log"
    return next((line.strip() for line in reversed(lines) if line.strip()), "empty log")


def stop(data_dir: Path, timeout: float = 10.0) -> Instance:
    """Stop the background emulator recorded in `data_dir`."""
    state = running_state(data_dir)
    os.kill(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(state.pid):
        time.sleep(0.1)
    if _alive(state.pid):
        raise SfopsError(f"Emulator pid {state.pid} did not stop within {timeout:.0f} s.")
    (data_dir / STATE_FILE).unlink(missing_ok=True)
    return state


def status(data_dir: Path) -> dict[str, Any]:
    """Whether an emulator recorded in `data_dir` is running, with its health payload."""
    state = read_state(data_dir)
    if state is None or not _alive(state.pid):
        return {"running": False, "data_dir": str(data_dir)}
    try:
        health = control(state, "GET", "health")
    except SfopsError as exc:
        return {"running": False, "pid": state.pid, "url": state.url, "error": exc.message}
    return {"running": True, **asdict(state), "health": health}


def control(state: Instance, method: str, name: str, body: Any = None) -> Any:
    """Call /__emulator__/<name> on a running instance (TLS verified against its CA)."""
    import requests

    session = requests.Session()
    session.trust_env = False
    session.verify = state.ca_cert or True
    try:
        resp = session.request(method, f"{state.url}/__emulator__/{name}", json=body, timeout=10)
    except requests.RequestException as exc:
        raise SfopsError(f"Cannot reach the emulator at {state.url}: {exc}") from exc
    if resp.status_code >= 400:
        try:
            detail = resp.json()["error"]
        except (ValueError, KeyError, TypeError):
            detail = resp.text[:200]
        raise SfopsError(f"Emulator control call failed ({resp.status_code}): {detail}")
    return resp.json()


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m sfops.emulator`: serve in the foreground (used by --background)."""
    p = argparse.ArgumentParser(prog="python -m sfops.emulator", description="sfops local org emulator")
    p.add_argument("--data", required=True)
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--memory", action="store_true")
    p.add_argument("--http", action="store_true")
    p.add_argument("--seed", choices=["demo"], default=None)
    p.add_argument("--api-max", type=int, default=15000)
    p.add_argument("--session-seconds", type=float, default=7200.0)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--jitter-ms", type=float, default=0.0)
    a = p.parse_args(argv)
    opts = StartOptions(
        Path(a.data), a.port, a.host, a.memory, a.seed, a.http, a.latency_ms, a.jitter_ms, a.api_max, a.session_seconds
    )
    try:
        run_foreground(opts, os.environ, lambda inst: print(f"sfops emulator listening on {inst.url}", flush=True))
    except SfopsError as exc:  # one line in emulator.log, which start_background quotes
        print(f"Error: {exc.message}", file=sys.stderr, flush=True)
        return 1
    return 0
