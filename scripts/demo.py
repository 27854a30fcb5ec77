"""The demo: sfops's main job against the local emulator, start to finish (run: make demo).

Starts an emulator (HTTPS, its own CA, demo seed) in the background, points an org alias
at it exactly as a real org would be configured, runs a short incident story through the
real `sfops` CLI, then stops the emulator. Everything lives under .sfops/demo/ and is
recreated on every run.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / ".sfops" / "demo"
SFOPS = [sys.executable, "-m", "sfops"]


def banner(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m" if sys.stdout.isatty() else f"\n== {text}", flush=True)


def sfops(*args: str, env: dict[str, str], ok: tuple[int, ...] = (0,)) -> str:
    """Run one sfops command as a user would, echoing it; stop the demo if it fails."""
    print(f"$ sfops {shlex.join(args)}", flush=True)
    proc = subprocess.run([*SFOPS, *args], env=env, cwd=WORK, text=True, capture_output=True, check=False)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    if proc.returncode not in ok:
        raise SystemExit(f"demo step failed (exit {proc.returncode}): sfops {shlex.join(args)}")
    return proc.stdout


def start_emulator(env: dict[str, str]) -> dict[str, str]:
    out = subprocess.run([*SFOPS, "emulator", "start", "--background", "--data", str(WORK / "emulator"),
                          "--seed", "demo", "--port", "0", "--json"],
                         env=env, cwd=WORK, text=True, capture_output=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"could not start the emulator:\n{out.stdout}{out.stderr}")
    return json.loads(out.stdout)["result"]


def write_config(emulator: dict[str, str]) -> Path:
    """An org alias for the emulator: the same keys a real org uses; secrets stay in the environment."""
    config = WORK / "sfops.toml"
    config.write_text(f"""default_org = "{emulator['alias']}"

{emulator['sfops_toml']}
production = true   # so the demo shows the confirmation rules (answered with --yes)
""")
    return config


def main() -> int:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SFOPS_")}
    env.update(SFOPS_HOME=str(WORK / "home"), SFOPS_ACTOR="demo-release-manager", COLUMNS="120")
    banner("Start the local org emulator (HTTPS, own CA)")
    emulator = start_emulator(env)
    print(f"emulator at {emulator['instance_url']}, CA {emulator['ca_cert']}")
    env.update(SFOPS_CONFIG=str(write_config(emulator)), **emulator.get("env", {}))
    try:
        run_story(env)
    finally:
        subprocess.run([*SFOPS, "emulator", "stop", "--data", str(WORK / "emulator")], env=env, cwd=WORK,
                       check=False, capture_output=True)
    banner("Done. The local store with the audit trail is in .sfops/demo/home/")
    return 0


def run_story(env: dict[str, str]) -> None:
    banner("Which org are we talking to?")
    sfops("org", "check", env=env)

    banner("Pricing errors in production: look at the kill switches")
    sfops("switch", "list", env=env)
    sfops("switch", "off", "New_Pricing__c", "--reason", "P1: wrong prices on quotes", "--dry-run", env=env)
    sfops("switch", "off", "New_Pricing__c", "--reason", "P1: wrong prices on quotes", "--yes", env=env)
    sfops("switch", "show", "New_Pricing__c", env=env)
    sfops("switch", "history", env=env)


if __name__ == "__main__":
    sys.exit(main())
