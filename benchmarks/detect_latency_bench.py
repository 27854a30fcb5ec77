"""Failing log to page, end to end: the scheduled agent against the emulator, a PagerDuty stand-in receiving.

    .venv/bin/python benchmarks/detect_latency_bench.py [--pull 10s] [--samples 3]

Starts the emulator (HTTPS), a local PagerDuty receiver, and `sfops agent` (the APScheduler agent, as
`sfops agent run` runs it) with `logs-pull` every --pull and the default rules plus a P1 for governor limits.
Each sample injects one failing debug log (SOQL limit) at a random moment and measures the time until the
PagerDuty trigger arrives. Target: at most one pull period plus 5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sfops.agent import Agent, load_agent_config  # noqa: E402
from sfops.config import load_settings  # noqa: E402
from sfops.emulator.testing import running_emulator  # noqa: E402
from sfops.salesforce import connect  # noqa: E402
from sfops.store import Store  # noqa: E402

TEMPLATE = REPO / "sfops" / "emulator" / "seed_data" / "apexlogs" / "SYNTHETIC-soql-101-trigger-loop-v64.log"


def receiver() -> tuple[ThreadingHTTPServer, list[tuple[float, dict[str, Any]]]]:
    got: list[tuple[float, dict[str, Any]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            got.append((time.monotonic(), body))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, got


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pull", default="10s", help="logs-pull schedule (the period the target is measured in)")
    parser.add_argument("--samples", type=int, default=3)
    args = parser.parse_args()
    period = int(args.pull.rstrip("s"))
    server, got = receiver()
    with tempfile.TemporaryDirectory(prefix="sfops-latency-") as tmp, running_emulator() as emu:
        s = emu.settings
        config = Path(tmp) / "sfops.toml"
        config.write_text(f"""default_org = "emu"
[orgs.emu]
auth = "password"
login_url = "{emu.url}"
instance_url = "{emu.url}"
username = "{s.admin_username}"
client_id = "{s.client_id}"
ca_bundle = "{emu.ca_bundle}"
production = true
[alerts.routes]
P1 = ["pagerduty"]
[alerts.channels.pagerduty]
type = "pagerduty"
url = "http://127.0.0.1:{server.server_address[1]}/pagerduty"
[agent.jobs]
logs-pull = "{args.pull}"
limits-snapshot = "off"
errors-pull = "off"
changes-pull = "off"
[[detect.rules]]
name = "limit-exception"
severity = "P1"
dedup_key = "sfops:{{org}}:{{rule}}:{{group}}:{{count}}"
""")
        env = {
            "SFOPS_ORG_EMU_PASSWORD": s.admin_password,
            "SFOPS_ORG_EMU_CLIENT_SECRET": s.client_secret,
            "SFOPS_ALERT_PAGERDUTY_ROUTING_KEY": "bench",
            "SFOPS_DOTENV": str(Path(tmp) / "no.env"),
            "HOME": tmp,
        }
        settings = load_settings(env, config, Path(tmp))
        store = Store.open(f"sqlite:///{Path(tmp) / 'agent.db'}")
        orgs: dict[str, Any] = {}

        def get_org(alias: str) -> Any:
            if alias not in orgs:
                orgs[alias] = connect(settings.org(alias), env=settings.env)
            return orgs[alias]

        agent = Agent(load_agent_config(settings), store, settings, get_org=get_org, actor="sfops-agent")
        stop = threading.Event()
        thread = threading.Thread(target=agent.serve, args=(stop,), daemon=True)
        thread.start()
        time.sleep(period + 2)  # the first pull (seeded logs) is done
        body = TEMPLATE.read_text(encoding="utf-8")
        rng = random.Random(5)
        latencies = []
        for n in range(args.samples):
            time.sleep(rng.uniform(0, period))
            before = len([g for g in got if g[1].get("event_action") == "trigger"])
            at = dt.datetime.now(dt.UTC)
            emu.control(
                "POST",
                "inject",
                {"logs": [{"body": body.replace("ContactService", f"Quote{n}Service"), "at": at.isoformat()}]},
            )
            injected = time.monotonic()
            deadline = injected + period * 3 + 30
            while time.monotonic() < deadline:
                triggers = [g for g in got if g[1].get("event_action") == "trigger"]
                if len(triggers) > before:
                    latencies.append(triggers[-1][0] - injected)
                    break
                time.sleep(0.05)
            else:
                print(f"sample {n + 1}: no page within {deadline - injected:.0f} s")
                continue
            print(f"sample {n + 1}: paged {latencies[-1]:.2f} s after the failing log was in the org")
        stop.set()
        thread.join(timeout=60)
    server.shutdown()
    if latencies:
        print(
            f"median {statistics.median(latencies):.2f} s, max {max(latencies):.2f} s; target <= {period + 5} s "
            f"(pull period {period} s + 5 s): {'met' if max(latencies) <= period + 5 else 'NOT met'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
