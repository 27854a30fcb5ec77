"""The pipeline snippets of docs/release.md run the same command CI would, against the emulator.

Each YAML snippet is parsed, the step that runs `sfops release check` is taken as written and run by
bash (the installed `sfops` console script) in the release's repository, for a release that must fail
the gate (exit 1, JUnit with the failures) and one that must pass it (exit 0).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from defusedxml import ElementTree
from paths import REPO
from release_support import age_validation, plan_and_validate

pytestmark = pytest.mark.integration

DOC = REPO / "docs" / "release.md"


def _snippets() -> dict[str, str]:
    """name -> the shell command of the snippet's release-gate step."""
    blocks = re.findall(r"^(GitHub Actions|GitLab CI):\n\n```yaml\n(.*?)```", DOC.read_text(), re.S | re.M)
    out = {}
    for name, text in blocks:
        doc = yaml.safe_load(text)
        if name == "GitHub Actions":
            steps = [s for job in doc["jobs"].values() for s in job["steps"]]
            commands = [s["run"] for s in steps if "sfops release check" in str(s.get("run", ""))]
        else:
            commands = [line for job in doc.values() for line in job["script"] if "sfops release check" in line]
        [out[name]] = commands
    return out


def test_docs_have_both_snippets_with_the_same_gate_command() -> None:
    snippets = _snippets()
    assert set(snippets) == {"GitHub Actions", "GitLab CI"}
    assert len(set(snippets.values())) == 1 and "--enforce" in snippets["GitLab CI"]


@pytest.mark.parametrize("name", ["GitHub Actions", "GitLab CI"])
def test_snippet_fails_a_bad_release_and_passes_a_good_one(name: str, gate: dict[str, Any]) -> None:
    command = _snippets()[name]
    env = {
        **os.environ,
        **gate["env"],
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "FROM_REF": "c1",
    }

    plan_and_validate(gate, "c2")
    age_validation(gate, days=11)
    bad = subprocess.run(
        ["bash", "-c", command],
        cwd=gate["repo"],
        env={**env, "TO_REF": "c2"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert bad.returncode == 1, bad.stdout + bad.stderr
    report = ElementTree.parse(gate["repo"] / "reports" / "release-gate.xml").getroot()
    assert report.get("failures") == "3"

    plan_and_validate(gate, "c3")
    good = subprocess.run(
        ["bash", "-c", command],
        cwd=gate["repo"],
        env={**env, "TO_REF": "c3"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert good.returncode == 0, good.stdout + good.stderr
    assert ElementTree.parse(gate["repo"] / "reports" / "release-gate.xml").getroot().get("failures") == "0"
