"""End to end: the `sfops` console script as a subprocess against an emulator started by `sfops emulator`.

These run the installed CLI exactly as a user does (own process, real HTTPS, config file and
environment), so they catch what in-process tests cannot: entry points, exit codes, output streams.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from paths import REPO

pytestmark = pytest.mark.e2e
SFOPS = shutil.which("sfops", path=str(Path(sys.executable).parent)) or "sfops"


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SFOPS, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def org_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], Path]]:
    """A background emulator, an sfops.toml naming it, and the environment carrying its demo secrets."""
    work = tmp_path_factory.mktemp("e2e")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SFOPS_")}
    env.update(SFOPS_HOME=str(work / "home"), SFOPS_ACTOR="e2e", COLUMNS="200")
    started = run(
        ["emulator", "start", "--background", "--data", str(work / "emu"), "--seed", "demo", "--port", "0", "--json"],
        env,
        work,
    )
    assert started.returncode == 0, started.stderr
    info = json.loads(started.stdout)["result"]
    (work / "sfops.toml").write_text(f'default_org = "{info["alias"]}"\n\n{info["sfops_toml"]}\nproduction = true\n')
    env.update(SFOPS_CONFIG=str(work / "sfops.toml"), **info["env"])
    try:
        yield env, work
    finally:
        run(["emulator", "stop", "--data", str(work / "emu")], env, work)


def test_help_lists_every_group_and_version_runs() -> None:
    proc = subprocess.run([SFOPS, "--help"], capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0
    for group in (
        "agent",
        "alerts",
        "breaker",
        "emulator",
        "incident",
        "limits",
        "logs",
        "oncall",
        "org",
        "rollback",
        "switch",
    ):
        assert f"  {group} " in proc.stdout, f"{group} missing from sfops --help"


def test_org_check_json_envelope(org_env: tuple[dict[str, str], Path]) -> None:
    env, work = org_env
    proc = run(["org", "check", "--json"], env, work)
    body = json.loads(proc.stdout)
    assert proc.returncode == 0 and body["status"] == 0 and body["warnings"] == []
    assert body["result"]["org_id"].startswith("00D") and body["result"]["username"] == "admin@sfops.demo"


def test_unknown_switch_lists_the_valid_ones_without_a_traceback(org_env: tuple[dict[str, str], Path]) -> None:
    env, work = org_env
    proc = run(["switch", "off", "New_Pricingg__c", "--reason", "typo", "--yes"], env, work)
    assert proc.returncode == 2
    assert "New_Pricing__c" in proc.stderr and "External_Sync__c" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_production_flip_without_a_terminal_needs_yes_and_changes_nothing(org_env: tuple[dict[str, str], Path]) -> None:
    env, work = org_env
    proc = run(["switch", "off", "External_Sync__c", "--reason", "test"], env, work)
    assert proc.returncode == 1 and "--yes" in proc.stderr
    shown = json.loads(run(["switch", "show", "External_Sync__c", "--json"], env, work).stdout)
    assert shown["result"]["resolutions"][0]["value"] is True


def test_flip_is_audited_and_debug_shows_tracebacks_only_when_asked(org_env: tuple[dict[str, str], Path]) -> None:
    env, work = org_env
    flip = run(["switch", "off", "Outbound_Email__c", "--reason", "mail storm", "--yes", "--json"], env, work)
    assert flip.returncode == 0, flip.stderr
    history = json.loads(run(["switch", "history", "--json"], env, work).stdout)["result"]
    latest = history[0]
    assert (latest["actor"], latest["reason"], latest["switch"]) == ("e2e", "mail storm", "Outbound_Email__c")
    assert (latest["before"], latest["after"]) == (True, False)
    bad = {**env, "SFOPS_TARGET_ORG": "nope"}
    quiet = run(["switch", "list"], bad, work)
    loud = run(["--debug", "switch", "list"], bad, work)
    assert quiet.returncode == loud.returncode == 2
    assert "Unknown org alias 'nope'" in quiet.stderr and "Traceback" not in quiet.stderr
    assert "Traceback" in loud.stderr


def test_unreachable_org_is_one_clear_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SFOPS_")}
    env.update(SFOPS_HOME=str(tmp_path), SFOPS_INSTANCE_URL="https://127.0.0.1:9", SFOPS_ACCESS_TOKEN="00Dx!y")
    proc = run(["org", "check", "--json"], env, tmp_path)
    body = json.loads(proc.stdout)
    assert proc.returncode == 1 and body["status"] == 1 and "127.0.0.1:9" in body["message"]
    assert "00Dx!y" not in proc.stdout + proc.stderr


def test_the_demo_runs_the_whole_story() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "demo.py")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = re.sub(r"[│┃\s]+", " ", proc.stdout)  # table cells wrap: compare the text, not the layout
    # R42 goes out as a release, its own code fails, and the agent (not a person) finds it
    assert "R42 deployed: Succeeded" in out and "rollback deploy" not in out and "re-created EMPTY" not in out
    assert "incident raise" not in out
    assert "detect: 1 fired (limit-exception -> INC-00001)" in out
    assert "detect: 1 fired (limit-exception-event -> INC-00001)" in out  # the same incident, counted again
    assert "INC-00002" not in out
    # the on-call is paged through the local receivers, and the rule's switch was flipped by the agent
    assert "receivers got: ['/hook', '/pagerduty', '/slack', '/teams']" in out and "alice@example.com" in out
    assert re.search(r"PagerDuty change events \(org-side changes\): [1-9]\d*, first: Deployment Succeeded: 3", out)
    assert "New_Pricing__c org on -> off" in out and "switch_off:New_Pricing__c done" in out
    # the deploy of R42 is the first change listed
    assert re.search(
        r"most suspect first\): 1\. \S+ \S+ UTC DeployRequest: Deployment Succeeded: 3 "
        r"component\(s\) \(QuoteGuard",
        out,
    )
    # failures stop: the agent marks it mitigated; R42 rolled back; the resolution names R42
    assert "Triaged -> Mitigated" in out and "INC-00001 resolved: Mitigated -> Resolved." in out
    assert "Rolled back release R42" in out
    # a realistic clock: minutes, not seconds, between the phases
    assert "Time to acknowledge: 4 min." in out and re.search(r"Time to resolve: 4\d min\.", out)
    page = (REPO / ".sfops" / "demo" / "incidents.html").read_text(encoding="utf-8")
    recent = page.split('id="recent"', 1)[1].split("</table>", 1)[0]
    assert "INC-00001" in recent and "Resolved" in recent and "Rolled back release R42" in recent
    assert re.search(r"<td>4 min</td><td>4\d min</td>", recent)  # time to acknowledge, to resolve
    (incident_page,) = (REPO / ".sfops" / "demo" / "incidents_files").glob("incident-*.html")
    suspects = incident_page.read_text(encoding="utf-8").split('id="suspects"', 1)[1].split("</tr>", 2)[1]
    assert "DeployRequest" in suspects and "QuoteGuard" in suspects  # the R42 deploy, first
    assert out.count("9 job(s) ran (0 failed)") == 2
    # it ends with the next steps
    tail = proc.stdout.split("== Next steps", 1)[1]
    assert "source .venv/bin/activate" in tail and "pipx install ." in tail
    assert "sfops emulator start --background --data" in tail and "SFOPS_CONFIG=" in tail


def test_top_level_dashboard_writes_its_default_file(org_env: tuple[dict[str, str], Path]) -> None:
    env, work = org_env
    proc = run(["dashboard", "--json"], env, work)
    assert proc.returncode == 0, proc.stderr
    path = Path(json.loads(proc.stdout)["result"]["path"])
    assert path == Path(env["SFOPS_HOME"]) / "dashboard.html"
    page = path.read_text(encoding="utf-8")
    assert "<html" in page and "http://" not in page.split("<body", 1)[0]  # self-contained: no external assets
