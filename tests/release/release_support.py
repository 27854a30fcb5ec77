"""Shared pieces of the release gate tests: a small SFDX history (A = c1, B = c2) and the sfops.toml
sections a gate run needs (a rotation that always has someone on call, so no outcome depends on the day)."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
    "PATH": "/usr/bin:/bin:/usr/local/bin",
    "HOME": "/nonexistent",
    "GIT_CONFIG_NOSYSTEM": "1",
}
PROJECT = '{"packageDirectories": [{"path": "force-app", "default": true}], "sourceApiVersion": "62.0"}\n'
CLASSES = "force-app/main/default/classes/"
TRIGGERS = "force-app/main/default/triggers/"
CLS_META = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">\n'
    "    <apiVersion>62.0</apiVersion>\n    <status>Active</status>\n</ApexClass>\n"
)
TRIGGER_META = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<ApexTrigger xmlns="http://soap.sforce.com/2006/04/metadata">'
    "\n    <apiVersion>62.0</apiVersion>\n    <status>Active</status>\n</ApexTrigger>\n"
)

# every hour of every day: alice (email + slack)
ONCALL_TOML = """
[oncall]
default_rotation = "primary"
[oncall.people.alice]
email = "alice@example.com"
slack = "U0ALICE"
[oncall.rotations.primary]
time_zone = "UTC"
start = "2020-01-06"
handoff_time = "09:00"
length = "daily"
participants = ["alice"]
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=GIT_ENV
    ).stdout


def commit(repo: Path, files: Mapping[str, str | None], tag: str) -> None:
    """Write (None: delete) files, commit everything and tag the commit."""
    if not (repo / ".git").exists():
        repo.mkdir(parents=True, exist_ok=True)
        git(repo, "init", "-q", "-b", "main")
        (repo / "sfdx-project.json").write_text(PROJECT)
    for rel, content in files.items():
        path = repo / rel
        if content is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", tag)
    git(repo, "tag", tag)


def apex_class(name: str, body: str) -> dict[str, str]:
    return {f"{CLASSES}{name}.cls": body, f"{CLASSES}{name}.cls-meta.xml": CLS_META}


def apex_trigger(name: str, body: str) -> dict[str, str]:
    return {f"{TRIGGERS}{name}.trigger": body, f"{TRIGGERS}{name}.trigger-meta.xml": TRIGGER_META}


GATE_TOML = ONCALL_TOML  # every other [release] setting at its default (large_object = 100,000 records)
EXISTING = apex_class(
    "Existing", "public with sharing class Existing {\n    public static Integer one() { return 1; }\n}\n"
)
EXISTING_TEST = apex_class(
    "ExistingTest",
    "@isTest\nprivate class ExistingTest {\n    @isTest static void one() {\n"
    "        System.assertEquals(1, Existing.one());\n    }\n}\n",
)
UNGUARDED_TRIGGER = "trigger OrderTrigger on Account (before insert) {\n    OrderService.stamp(Trigger.new);\n}\n"
GUARDED_TRIGGER = (
    "trigger OrderTrigger on Account (before insert) {\n"
    "    if (FeatureKillSwitch.isEnabled('New_Pricing__c')) {\n"
    "        OrderService.stamp(Trigger.new);\n    }\n}\n"
)
SERVICE = """public with sharing class OrderService {
    public static void stamp(List<Account> accounts) {
        for (Account a : accounts) { a.Description = 'ordered'; }
    }
    public static List<Account> similar(String text) {
        return [SELECT Id, Name FROM Account WHERE {filter} = :text];
    }
}
"""


def release_history(repo: Path) -> None:
    """c1 (A) -> c2 (B with an unguarded trigger and a non-selective query) -> c3 (B fixed)."""
    commit(repo, {**EXISTING, **EXISTING_TEST}, "c1")
    commit(
        repo,
        {
            **apex_trigger("OrderTrigger", UNGUARDED_TRIGGER),
            **apex_class("OrderService", SERVICE.replace("{filter}", "Description")),
        },
        "c2",
    )
    commit(
        repo,
        {
            **apex_trigger("OrderTrigger", GUARDED_TRIGGER),
            **apex_class("OrderService", SERVICE.replace("{filter}", "Name")),
        },
        "c3",
    )


def plan_and_validate(g: dict[str, Any], b: str) -> None:
    """`rollback plan` B -> c1 and `rollback validate` it on org `prod`."""
    from sfops.cli.app import invoke

    repo, env = g["repo"], g["env"]
    code, _, err = invoke(["rollback", "plan", "--from", b, "--to", "c1", "--repo", str(repo)], env)
    assert code == 0, err
    # B is not in the org yet: its deletions are warnings until it lands (docs/release.md)
    code, out, err = invoke(
        [
            "rollback",
            "validate",
            "--package",
            str(repo / f"metadata/rollbacks/{b}-to-c1"),
            "-o",
            "prod",
            "--ignore-warnings",
            "--reason",
            "release gate",
        ],
        env,
    )
    assert code == 0, out + err


def age_validation(g: dict[str, Any], days: int) -> None:
    """Make the stored validation `days` old (relative to now, so no outcome depends on the date)."""
    from sfops.store import Store

    store = Store.open(g["env"]["SFOPS_STORE_URL"])
    state = store.get_state("rollback.validation.prod")
    state["at"] = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat()
    store.set_state("rollback.validation.prod", state)
