"""The demo: sfops's main job against the local emulator, start to finish (run: make demo).

Starts an emulator (HTTPS, its own CA, demo seed) in the background, points an org alias
at it exactly as a real org would be configured, runs a short incident story through the
real `sfops` CLI, then stops the emulator. Everything lives under .sfops/demo/ and is
recreated on every run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / ".sfops" / "demo"
SFOPS = [sys.executable, "-m", "sfops"]


def banner(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m" if sys.stdout.isatty() else f"\n== {text}", flush=True)


def sfops(*args: str, env: dict[str, str], ok: tuple[int, ...] = (0,), echo: bool = True) -> str:
    """Run one sfops command as a user would, echoing it and its output; stop the demo if it fails."""
    if echo:
        print(f"$ sfops {shlex.join(args)}", flush=True)
    proc = subprocess.run([*SFOPS, *args], env=env, cwd=WORK, text=True, capture_output=True, check=False)
    sys.stderr.write(proc.stderr)  # first: progress lines lead to the result, as in a terminal
    if echo:
        sys.stdout.write(proc.stdout)
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


class Receivers:
    """Local stand-ins for Slack, Teams, PagerDuty, a webhook and an SMTP server, recording what arrives."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.mails: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.posts.append((self.path, json.loads(body or b"{}")))
                self.send_response(202 if self.path == "/pagerduty" else 200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        from aiosmtpd.controller import Controller

        class Mailbox:
            async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
                receiver.mails.append(", ".join(envelope.rcpt_tos))
                return "250 OK"

        self.smtp_port = _free_port()
        self.smtp = Controller(Mailbox(), hostname="127.0.0.1", port=self.smtp_port)
        self.smtp.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}"

    def stop(self) -> None:
        self.http.shutdown()
        self.smtp.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rotation_start(today: dt.date | None = None) -> str:
    """The demo rotation's first day: three days before the demo runs, so alice is on call for the whole
    demo whatever the date (a fixed start put bob on call every other week), with days to spare either side
    of a weekly handoff."""
    return ((today or dt.date.today()) - dt.timedelta(days=3)).isoformat()


def write_config(emulator: dict[str, str], receivers: Receivers) -> Path:
    """An org alias for the emulator (the same keys a real org uses), alert channels and a rotation."""
    config = WORK / "sfops.toml"
    config.write_text(f"""default_org = "{emulator['alias']}"

{emulator['sfops_toml']}
production = true   # so the demo shows the confirmation rules (answered with --yes)

[alerts.routes]
P1 = ["pagerduty", "slack", "teams", "hook", "oncall-email"]
[alerts.channels.slack]
type = "slack"
[alerts.channels.teams]
type = "teams"
[alerts.channels.pagerduty]
type = "pagerduty"
url = "{receivers.url}/pagerduty"
[alerts.channels.hook]
type = "webhook"
[alerts.channels.oncall-email]
type = "email"
smtp_host = "127.0.0.1"
smtp_port = {receivers.smtp_port}
from = "sfops@example.com"
to = ["sf-admins@example.com"]
oncall = "primary"

[oncall]
default_rotation = "primary"
[oncall.people.alice]
email = "alice@example.com"
[oncall.people.bob]
email = "bob@example.com"
[oncall.rotations.primary]
time_zone = "Europe/Paris"
start = "{rotation_start()}"
handoff_time = "09:00"
length = "weekly"
participants = ["alice", "bob"]
""")
    return config


def main() -> int:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SFOPS_")}
    env.update(SFOPS_HOME=str(WORK / "home"), SFOPS_ACTOR="demo-release-manager")
    env.setdefault("COLUMNS", str(shutil.get_terminal_size().columns))  # the user's terminal (80 when piped)
    banner("Start the local org emulator (HTTPS, own CA) and local alert receivers")
    emulator = start_emulator(env)
    receivers = Receivers()
    print(f"emulator at {emulator['instance_url']}, CA {emulator['ca_cert']}; receivers at {receivers.url}")
    env.update(SFOPS_CONFIG=str(write_config(emulator, receivers)), **emulator.get("env", {}))
    env.update(SFOPS_ALERT_SLACK_URL=f"{receivers.url}/slack", SFOPS_ALERT_TEAMS_URL=f"{receivers.url}/teams",
               SFOPS_ALERT_HOOK_URL=f"{receivers.url}/hook", SFOPS_ALERT_PAGERDUTY_ROUTING_KEY="demo-routing-key")
    try:
        run_story(env, receivers)
    finally:
        subprocess.run([*SFOPS, "emulator", "stop", "--data", str(WORK / "emulator")], env=env, cwd=WORK,
                       check=False, capture_output=True)
        receivers.stop()
    banner("Done. Audit trail, logs and incidents: .sfops/demo/home/; dashboard: .sfops/demo/incidents.html")
    return 0


QUOTE_GUARD = """public with sharing class QuoteGuard {
    // Release R42: quotes above the review threshold are held for approval.
    public static Boolean needsReview(Incident_Log__c log) {
        return log.Quote_Total__c != null && log.Quote_Total__c > 100000;
    }
}
"""
QUOTE_GUARD_TEST = """@IsTest
private class QuoteGuardTest {
    @IsTest
    static void flagsLargeQuotes() {
        System.assert(QuoteGuard.needsReview(new Incident_Log__c(Quote_Total__c = 250000)));
        System.assert(!QuoteGuard.needsReview(new Incident_Log__c(Quote_Total__c = 10)));
    }
}
"""
CLASS_META = """<?xml version="1.0" encoding="UTF-8"?>
<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>64.0</apiVersion>
    <status>Active</status>
</ApexClass>
"""
QUOTE_TOTAL_FIELD = """<?xml version="1.0" encoding="UTF-8"?>
<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">
    <fullName>Quote_Total__c</fullName>
    <label>Quote Total</label>
    <type>Currency</type>
    <precision>18</precision>
    <scale>2</scale>
    <required>false</required>
</CustomField>
"""


def make_release_repo() -> Path:
    """A git history of the org's metadata: v1.0 = what the org runs (release R41), v1.1 = release R42."""
    repo = WORK / "release-repo"
    shutil.copytree(REPO / "force-app", repo / "force-app")
    shutil.copy(REPO / "sfdx-project.json", repo / "sfdx-project.json")
    genv = {**os.environ, "GIT_AUTHOR_NAME": "Release Bot", "GIT_AUTHOR_EMAIL": "release@example.com",
            "GIT_COMMITTER_NAME": "Release Bot", "GIT_COMMITTER_EMAIL": "release@example.com"}

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=genv)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "Release R41")
    git("tag", "v1.0")
    classes = repo / "force-app" / "main" / "default" / "classes"
    for name, body in (("QuoteGuard", QUOTE_GUARD), ("QuoteGuardTest", QUOTE_GUARD_TEST)):
        (classes / f"{name}.cls").write_text(body)
        (classes / f"{name}.cls-meta.xml").write_text(CLASS_META)
    fields = repo / "force-app" / "main" / "default" / "objects" / "Incident_Log__c" / "fields"
    (fields / "Quote_Total__c.field-meta.xml").write_text(QUOTE_TOTAL_FIELD)
    killswitch = classes / "FeatureKillSwitch.cls"
    killswitch.write_text(killswitch.read_text() + "// R42: QuoteGuard consults New_Pricing__c first.\n")
    git("add", "-A")
    git("commit", "-q", "-m", "Release R42: quote review")
    git("tag", "v1.1")
    return repo


def run_story(env: dict[str, str], receivers: Receivers) -> None:
    banner("Which org are we talking to?")
    sfops("org", "check", env=env)

    banner("This morning release R42 (git tag v1.1) went out, deployed as a delta from v1.0")
    repo = make_release_repo()
    release = WORK / "release-R42"
    sfops("rollback", "plan", "--from", "v1.0", "--to", "v1.1", "--allow-forward", "--repo", str(repo),
          "--output", str(release), env=env)
    sfops("rollback", "deploy", "--package", str(release), "--reason", "Release R42", "--yes", env=env)

    banner("Quotes fail in production: pull the debug logs before they expire, find the failure")
    sfops("logs", "pull", env=env)
    sfops("logs", "report", "--failures", env=env)

    banner("Raise a P1: Incident_Log__c, Incident_Event__e, and the on-call person is notified")
    sfops("oncall", "now", env=env)
    sfops("incident", "raise", "--severity", "P1", "--category", "Governor Limit",
          "--summary", "ContactTrigger: Too many SOQL queries: 101", "--dedup-key", "ContactTrigger-soql-101",
          "--release", "R42", env=env)
    listed = json.loads(sfops("incident", "list", "--open", "--json", env=env, echo=False))
    ref = listed["result"][0]["name"] or listed["result"][0]["id"]
    print(f"receivers got: {sorted(path for path, _ in receivers.posts)}; mail to {receivers.mails}")
    sfops("incident", "ack", ref, "--note", "Looking at ContactTrigger", env=env)

    banner("Mitigate in seconds: switch the feature off (no deployment), audited against the incident")
    sfops("switch", "list", env=env)
    sfops("switch", "off", "New_Pricing__c", "--incident", ref, "--reason", "P1: SOQL limit in ContactTrigger",
          "--dry-run", env=env)
    sfops("switch", "off", "New_Pricing__c", "--incident", ref, "--reason", "P1: SOQL limit in ContactTrigger",
          "--yes", env=env)
    sfops("switch", "show", "New_Pricing__c", env=env)
    sfops("switch", "history", env=env)
    sfops("incident", "mitigate", ref, "--note", "New_Pricing__c switched off", env=env)

    banner("Then roll release R42 back to v1.0 from Git: plan, validate (check-only, with tests), quick deploy")
    rollback = WORK / "rollback-R42"
    sfops("rollback", "plan", "--from", "v1.1", "--to", "v1.0", "--repo", str(repo), "--output", str(rollback),
          env=env)
    sfops("rollback", "validate", "--package", str(rollback), "--incident", ref, "--reason", "roll back R42", env=env)
    sfops("rollback", "quick", "--package", str(rollback), "--incident", ref, "--reason", "roll back R42", "--yes",
          env=env)

    banner("Resolve, then the post-mortem draft, metrics and the MTTR dashboard")
    sfops("incident", "resolve", ref, "--resolution", "Bulkified ContactService.syncAccounts",
          "--root-cause", "SOQL inside a loop over trigger records", env=env)
    sfops("incident", "show", ref, env=env)
    sfops("incident", "postmortem", ref, env=env)
    sfops("incident", "metrics", env=env)
    sfops("dashboard", "--out", str(WORK / "incidents.html"), env=env)

    banner("Governor limits of the org, and one pass of the scheduled agent (cron runs it every minute)")
    sfops("limits", "snapshot", env=env)
    sfops("limits", "report", env=env)
    sfops("agent", "run", "--once", env=env, ok=(0, 68))


if __name__ == "__main__":
    sys.exit(main())
