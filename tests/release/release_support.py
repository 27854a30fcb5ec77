"""Shared pieces of the release gate tests: a small SFDX history (A = c1, B = c2) and the sfops.toml
sections a gate run needs (a rotation that always has someone on call, so no outcome depends on the day)."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
           "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z", "PATH": "/usr/bin:/bin:/usr/local/bin",
           "HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1"}
PROJECT = '{"packageDirectories": [{"path": "force-app", "default": true}], "sourceApiVersion": "62.0"}\n'
CLASSES = "force-app/main/default/classes/"
TRIGGERS = "force-app/main/default/triggers/"
CLS_META = ('<?xml version="1.0" encoding="UTF-8"?>\n<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">\n'
            "    <apiVersion>62.0</apiVersion>\n    <status>Active</status>\n</ApexClass>\n")
TRIGGER_META = ('<?xml version="1.0" encoding="UTF-8"?>\n<ApexTrigger xmlns="http://soap.sforce.com/2006/04/metadata">'
                "\n    <apiVersion>62.0</apiVersion>\n    <status>Active</status>\n</ApexTrigger>\n")

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
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=GIT_ENV).stdout


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
