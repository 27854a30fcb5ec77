"""Keep exploring after `make demo` (run: make demo-shell).

Restarts the emulator on the state the demo left in .sfops/demo/emulator (the demo stops it), points the
demo's sfops.toml at the new port, and opens a shell where `sfops` is on PATH and talks to that org; the
emulator stops when the shell exits. Without a terminal it prints the commands instead.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / ".sfops" / "demo"
SFOPS = [sys.executable, "-m", "sfops"]


def shell_env(started: dict, config: Path) -> dict[str, str]:
    """The environment of the shell: the demo's config, home and secrets, .venv/bin first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SFOPS_")}
    env.update(
        SFOPS_CONFIG=str(config),
        SFOPS_HOME=str(WORK / "home"),
        SFOPS_ACTOR="demo-release-manager",
        **started.get("env", {}),
    )
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def point_config_at(config: Path, url: str) -> None:
    """Replace the URL the demo's emulator had with the restarted one's (same data dir, same CA)."""
    text = config.read_text(encoding="utf-8")
    old = tomllib.loads(text)["orgs"]["emulator"]["instance_url"]
    config.write_text(text.replace(old, url), encoding="utf-8")


def main() -> int:
    config, data = WORK / "sfops.toml", WORK / "emulator"
    if not config.is_file() or not data.is_dir():
        print("No demo state in .sfops/demo: run `make demo` first.", file=sys.stderr)
        return 1
    env = {k: v for k, v in os.environ.items() if not k.startswith("SFOPS_")}
    env["SFOPS_HOME"] = str(WORK / "home")
    subprocess.run([*SFOPS, "emulator", "stop", "--data", str(data)], env=env, capture_output=True, check=False)
    out = subprocess.run(
        [*SFOPS, "emulator", "start", "--background", "--data", str(data), "--port", "0", "--json"],
        env=env,
        cwd=WORK,
        text=True,
        capture_output=True,
        check=False,
    )
    if out.returncode != 0:
        print(f"could not restart the emulator:\n{out.stdout}{out.stderr}", file=sys.stderr)
        return 1
    started = json.loads(out.stdout)["result"]
    point_config_at(config, started["instance_url"])
    env = shell_env(started, config)
    stop = f"{shlex.quote(sys.executable)} -m sfops emulator stop --data {shlex.quote(str(data))}"
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(env.items()) if k.startswith("SFOPS_") or k == "PATH")
    print(f"The demo's org is back at {started['instance_url']} (state: {data}).")
    if not sys.stdin.isatty():
        print(
            f"Point sfops at it:\n  export {exports}\nTry: sfops incident list; sfops switch history; "
            f"sfops logs report --failures\nStop it: {stop}"
        )
        return 0
    print(
        "A shell with `sfops` on PATH, pointed at it. Try: sfops incident list, sfops switch history, "
        "sfops logs report --failures. Type `exit` to leave; the emulator stops then."
    )
    try:
        subprocess.run([os.environ.get("SHELL") or "/bin/sh"], env=env, cwd=REPO, check=False)
    finally:
        subprocess.run(shlex.split(stop), env=env, capture_output=True, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
