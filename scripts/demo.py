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


def sfops(
    *args: str, env: dict[str, str], ok: tuple[int, ...] = (0,), echo: bool = True, actor: str | None = None
) -> str:
    """Run one sfops command as a user would (as `actor` when given), echoing it and its output; stop the demo
    if it fails."""
    if echo:
        print(f"$ sfops {shlex.join(args)}" + (f"    # as {actor}" if actor else ""), flush=True)
    run_env = {**env, "SFOPS_ACTOR": actor} if actor else env
    proc = subprocess.run([*SFOPS, *args], env=run_env, cwd=WORK, text=True, capture_output=True, check=False)
    sys.stderr.write(proc.stderr)  # first: progress lines lead to the result, as in a terminal
    if echo:
        sys.stdout.write(proc.stdout)
    if proc.returncode not in ok:
        raise SystemExit(f"demo step failed (exit {proc.returncode}): sfops {shlex.join(args)}")
    return proc.stdout


def start_emulator(env: dict[str, str]) -> dict[str, str]:
    out = subprocess.run(
        [
            *SFOPS,
            "emulator",
            "start",
            "--background",
            "--data",
            str(WORK / "emulator"),
            "--seed",
            "demo",
            "--port",
            "0",
            "--json",
        ],
        env=env,
        cwd=WORK,
        text=True,
        capture_output=True,
        check=False,
    )
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
    """An org alias for the emulator (the same keys a real org uses), alert channels, a rotation, and the
    detection rules: the default limit-exception rules raised to P1, switching R42's feature off."""
    config = WORK / "sfops.toml"
    config.write_text(f"""default_org = "{emulator["alias"]}"

{emulator["sfops_toml"]}
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

# Detection: the default rules, with governor-limit failures on this org raised to P1 (one incident for the
# debug-log and the exception-event view of the same failure) and the new pricing feature switched off.
[[detect.rules]]
name = "limit-exception"
severity = "P1"
dedup_key = "sfops:{{org}}:governor-limit"
actions = [{{ type = "switch_off", switch = "New_Pricing__c" }}]
[[detect.rules]]
name = "limit-exception-event"
severity = "P1"
window = "15m"
dedup_key = "sfops:{{org}}:governor-limit"
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
    env.update(
        SFOPS_ALERT_SLACK_URL=f"{receivers.url}/slack",
        SFOPS_ALERT_TEAMS_URL=f"{receivers.url}/teams",
        SFOPS_ALERT_HOOK_URL=f"{receivers.url}/hook",
        SFOPS_ALERT_PAGERDUTY_ROUTING_KEY="demo-routing-key",
    )
    try:
        run_story(env, receivers, Org(emulator))
    finally:
        subprocess.run(
            [*SFOPS, "emulator", "stop", "--data", str(WORK / "emulator")],
            env=env,
            cwd=WORK,
            check=False,
            capture_output=True,
        )
        receivers.stop()
    next_steps(emulator)
    return 0


def next_steps(emulator: dict[str, str]) -> None:
    """How to get `sfops` on PATH and keep exploring what the demo left behind."""
    data, config = WORK / "emulator", WORK / "sfops.toml"
    env_lines = "\n".join(f"  export {k}={shlex.quote(v)}" for k, v in (emulator.get("env") or {}).items())
    banner("Next steps")
    print(f"""The demo's org, store and dashboard are kept in .sfops/demo/ (dashboard: {WORK / "incidents.html"}).

Get `sfops` on your PATH:
  source .venv/bin/activate        # the project's virtualenv (make install created it)
  pipx install .                   # or: a user-wide install from this checkout

Keep exploring the demo's state: `make demo-shell` restarts its emulator and opens a shell pointed at it, or
by hand (the demo stopped its emulator; this restarts it on the same data):
  sfops emulator start --background --data {data} --port {emulator_port(emulator)}
  export SFOPS_CONFIG={config} SFOPS_HOME={WORK / "home"}
{env_lines}
  sfops incident list --status Resolved
  sfops incident show INC-00001
  sfops detect rules
  sfops detect test --since 3h
  sfops changes --since 3h --offline
  sfops emulator stop --data {data}
""")


def emulator_port(emulator: dict[str, str]) -> str:
    return emulator["instance_url"].rsplit(":", 1)[-1].strip("/")


class Org:
    """The emulator's control endpoint (what stands in for the world: the org's clock and its users' traffic)
    and a deploy through the Metadata API (what stands in for the release pipeline)."""

    def __init__(self, emulator: dict[str, str]) -> None:
        import requests

        self.url, self.http, self.ca = emulator["instance_url"].rstrip("/"), requests.Session(), emulator["ca_cert"]

    def control(self, name: str, body: dict[str, Any]) -> Any:
        response = self.http.post(f"{self.url}/__emulator__/{name}", json=body, timeout=30, verify=self.ca)
        response.raise_for_status()
        return response.json()

    def clock(self, at: dt.datetime) -> None:
        """Set the org's clock to `at` (the story happens over the last hour)."""
        self.control("clock", {"offset_seconds": (at - dt.datetime.now(dt.UTC)).total_seconds()})


QUOTE_GUARD = """public with sharing class QuoteGuard {
    // Release R42: each quote line is checked against the account's open incidents before it is saved.
    // Behind the R42 kill switch New_Pricing__c.
    public static void check(List<Contact> lines) {
        if (!FeatureKillSwitch.isEnabled('New_Pricing__c')) {
            return;
        }
        for (Contact line : lines) {
            Integer open = [SELECT COUNT() FROM Incident_Log__c WHERE Status__c != 'Closed'];
            line.Description = open > 0 ? 'review' : null;
        }
    }
}
"""
QUOTE_GUARD_TEST = """@IsTest
private class QuoteGuardTest {
    @IsTest
    static void checksEveryLine() {
        List<Contact> lines = new List<Contact>{new Contact(LastName = 'A')};
        QuoteGuard.check(lines);
        System.assertEquals(1, lines.size());
    }
}
"""
QUOTE_TRIGGER = """trigger QuoteTrigger on Contact (before insert) {
    QuoteGuard.check(Trigger.new);
}
"""
CLASS_META = """<?xml version="1.0" encoding="UTF-8"?>
<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>64.0</apiVersion>
    <status>Active</status>
</ApexClass>
"""
TRIGGER_META = """<?xml version="1.0" encoding="UTF-8"?>
<ApexTrigger xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>64.0</apiVersion>
    <status>Active</status>
</ApexTrigger>
"""
R42_PACKAGE = """<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="http://soap.sforce.com/2006/04/metadata">
    <types><members>QuoteGuard</members><members>QuoteGuardTest</members><name>ApexClass</name></types>
    <types><members>QuoteTrigger</members><name>ApexTrigger</name></types>
    <version>64.0</version>
</Package>
"""


def make_release_repo() -> Path:
    """A git history of the org's metadata: v1.0 = what the org runs (release R41), v1.1 = release R42."""
    repo = WORK / "release-repo"
    shutil.copytree(REPO / "force-app", repo / "force-app")
    shutil.copy(REPO / "sfdx-project.json", repo / "sfdx-project.json")
    genv = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Release Bot",
        "GIT_AUTHOR_EMAIL": "release@example.com",
        "GIT_COMMITTER_NAME": "Release Bot",
        "GIT_COMMITTER_EMAIL": "release@example.com",
    }

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
    triggers = repo / "force-app" / "main" / "default" / "triggers"
    triggers.mkdir(exist_ok=True)
    (triggers / "QuoteTrigger.trigger").write_text(QUOTE_TRIGGER)
    (triggers / "QuoteTrigger.trigger-meta.xml").write_text(TRIGGER_META)
    git("add", "-A")
    git("commit", "-q", "-m", "Release R42: quote review (QuoteGuard), behind New_Pricing__c")
    git("tag", "v1.1")
    return repo


def release_pipeline_deploy(env: dict[str, str]) -> None:
    """What the team's release pipeline does (sfops is not a release tool): deploy R42 with its tests."""
    import io
    import zipfile

    from sfops.config import load_settings
    from sfops.salesforce import connect
    from sfops.salesforce.metadata import DeployOptions, MetadataClient

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("package.xml", R42_PACKAGE)
        for name, body in (("QuoteGuard", QUOTE_GUARD), ("QuoteGuardTest", QUOTE_GUARD_TEST)):
            z.writestr(f"classes/{name}.cls", body)
            z.writestr(f"classes/{name}.cls-meta.xml", CLASS_META)
        z.writestr("triggers/QuoteTrigger.trigger", QUOTE_TRIGGER)
        z.writestr("triggers/QuoteTrigger.trigger-meta.xml", TRIGGER_META)
    settings = load_settings(env, env["SFOPS_CONFIG"], WORK)
    org = connect(settings.org(None), env=settings.env)
    client = MetadataClient(org)
    print(
        "(release pipeline) deploy R42 = git tag v1.1: QuoteGuard, QuoteGuardTest, QuoteTrigger; tests: QuoteGuardTest",
        flush=True,
    )
    result = client.poll(
        client.deploy(buffer.getvalue(), DeployOptions(test_level="RunSpecifiedTests", run_tests=["QuoteGuardTest"])),
        timeout=120,
    )
    if result.status != "Succeeded":
        raise SystemExit(f"the R42 deploy did not succeed: {result.status} {result.component_failures}")
    print(f"(release pipeline) R42 deployed: {result.status}, deploy {result.id}", flush=True)


def failing_log(at: dt.datetime) -> dict[str, str]:
    """A quote save that hits the SOQL limit in R42's QuoteGuard (a real debug-log shape, names of R42)."""
    template = (
        REPO / "sfops" / "emulator" / "seed_data" / "apexlogs" / "SYNTHETIC-soql-101-trigger-loop-v64.log"
    ).read_text(encoding="utf-8")
    body = (
        template.replace("ContactService.syncAccounts", "QuoteGuard.check")
        .replace(
            "ContactTrigger on Contact trigger event AfterInsert", "QuoteTrigger on Contact trigger event BeforeInsert"
        )
        .replace("ContactTrigger", "QuoteTrigger")
    )
    return {
        "body": body,
        "at": at.isoformat(),
        "Status": "System.LimitException: Too many SOQL queries: 101",
        "Operation": "/services/data/v64.0/sobjects/Contact",
        "Request": "API",
    }


def failing_event(at: dt.datetime) -> dict[str, str]:
    """The same failure as Event Monitoring records it (ApexUnexpectedException, free since Winter '25)."""
    return {
        "at": at.isoformat(),
        "exception_type": "System.LimitException",
        "exception_message": "Too many SOQL queries: 101",
        "exception_category": "LimitException: SoqlQueries",
        "stack_trace": "Class.QuoteGuard.check: line 9, column 1\nTrigger.QuoteTrigger: line 2, column 1",
    }


def stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="seconds")


def run_story(env: dict[str, str], receivers: Receivers, org: Org) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    t = {
        name: now - dt.timedelta(minutes=m)
        for name, m in (("deploy", 60), ("fail", 52), ("tick1", 47), ("ack", 43), ("tick2", 14))
    }

    banner("Which org are we talking to?")
    sfops("org", "check", env=env)

    banner(f"{t['deploy']:%H:%M} UTC: release R42 (git tag v1.1) goes out through the release pipeline")
    make_release_repo()
    org.clock(t["deploy"])
    release_pipeline_deploy(env)

    banner(f"{t['fail']:%H:%M}: R42's QuoteGuard runs one query per quote line; users' saves start failing")
    org.clock(t["fail"])
    fails = [t["fail"] + dt.timedelta(seconds=40 * i) for i in range(4)]
    org.control(
        "inject", {"logs": [failing_log(at) for at in fails], "exceptions": [failing_event(at) for at in fails]}
    )
    print(f"(users) {len(fails)} quote saves failed with System.LimitException: Too many SOQL queries: 101")
    org.clock(now)

    banner(
        f"{t['tick1']:%H:%M}: the agent's next tick pulls logs and exception events, detects, raises the P1, "
        "pages the on-call and switches R42's feature off"
    )
    sfops("detect", "rules", env=env)
    sfops("agent", "run", "--once", "--force", "--at", stamp(t["tick1"]), env=env, ok=(0, 68), actor="sfops-agent")
    listed = json.loads(sfops("incident", "list", "--open", "--json", env=env, echo=False))
    ref = listed["result"][0]["name"] or listed["result"][0]["id"]
    print(
        f"receivers got: {sorted({path for path, _ in receivers.posts if 'change' not in path})}; "
        f"mail to {receivers.mails}"
    )
    changes = [body["payload"]["summary"] for path, body in receivers.posts if path.endswith("/change")]
    print(f"PagerDuty change events (org-side changes): {len(changes)}, first: {changes[0] if changes else '-'}")
    sfops("oncall", "now", env=env)
    sfops("switch", "history", env=env)
    sfops("detect", "actions", "--since", "3h", env=env)

    banner(f"{t['ack']:%H:%M}: alice acknowledges, and asks what changed before it broke")
    sfops(
        "incident", "ack", ref, "--at", stamp(t["ack"]), "--note", "Looking at QuoteGuard (R42)", env=env, actor="alice"
    )
    sfops("incident", "show", ref, env=env)
    sfops("changes", "--since", "3h", "--stack", "Class.QuoteGuard.check: line 9", "--offline", env=env)

    banner(f"{t['tick2']:%H:%M}: with New_Pricing__c off the failures stopped; the agent marks it mitigated")
    sfops("agent", "run", "--once", "--force", "--at", stamp(t["tick2"]), env=env, ok=(0, 68), actor="sfops-agent")

    banner("Now: roll release R42 back to R41 (v1.0) from Git: plan, validate (check-only, with tests), quick deploy")
    repo = WORK / "release-repo"
    rollback = WORK / "rollback-R42"
    sfops("rollback", "plan", "--from", "v1.1", "--to", "v1.0", "--repo", str(repo), "--output", str(rollback), env=env)
    sfops("rollback", "validate", "--package", str(rollback), "--incident", ref, "--reason", "roll back R42", env=env)
    sfops(
        "rollback",
        "quick",
        "--package",
        str(rollback),
        "--incident",
        ref,
        "--reason",
        "roll back R42",
        "--yes",
        env=env,
    )

    banner("Resolve naming R42, then the post-mortem draft, metrics and the MTTA/MTTR dashboard")
    sfops(
        "incident",
        "resolve",
        ref,
        "--resolution",
        "Rolled back release R42 (QuoteGuard) to R41; New_Pricing__c stays off until the fix ships",
        "--root-cause",
        "R42's QuoteGuard runs a SOQL query per quote line (101 queries on a 101-line save)",
        env=env,
    )
    sfops("incident", "show", ref, env=env)
    sfops("incident", "postmortem", ref, env=env)
    sfops("incident", "metrics", env=env)
    sfops("dashboard", "--out", str(WORK / "incidents.html"), env=env)
    sfops("limits", "report", env=env)


if __name__ == "__main__":
    sys.exit(main())
