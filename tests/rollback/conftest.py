"""Fixtures for the rollback tests: the reference sample history (built once per session) and a
factory for small synthetic git histories."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest
from emulator_cli_support import emulator_cli_env
from rollback_support import GIT_ENV, SAMPLE_SCRIPT, RepoFactory


@pytest.fixture(scope="session")
def sample_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample SFDX history of reference/make-sample-sfdx-repo.sh (tags v1.0 = A, v1.1 = B)."""
    if shutil.which("git") is None:
        pytest.skip("needs git")
    target = tmp_path_factory.mktemp("sample") / "repo"
    subprocess.run(
        ["bash", str(SAMPLE_SCRIPT), str(target)],
        check=True,
        capture_output=True,
        env={**GIT_ENV, "PATH": GIT_ENV["PATH"]},
    )
    return target


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=GIT_ENV)


PROJECT = '{"packageDirectories": [{"path": "force-app", "default": true}], "sourceApiVersion": "62.0"}\n'


@pytest.fixture
def make_repo(tmp_path: Path) -> RepoFactory:
    """make_repo([commit1, commit2, ...]) -> repo; each commit maps path -> content (None deletes).
    Commits are tagged c1, c2, ...; sfdx-project.json is added to the first commit."""

    def build(commits: list[Mapping[str, str | bytes | None]]) -> Path:
        repo = tmp_path / "repo"
        repo.mkdir()
        _git(repo, "init", "-q", "-b", "main")
        (repo / "sfdx-project.json").write_text(PROJECT)
        for n, files in enumerate(commits, start=1):
            for rel, content in files.items():
                path = repo / rel
                if content is None:
                    path.unlink()
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(content, bytes):
                    path.write_bytes(content)
                else:
                    path.write_text(content)
            _git(repo, "add", "-A")
            _git(repo, "commit", "-q", "--allow-empty", "-m", f"c{n}")
            _git(repo, "tag", f"c{n}")
        return repo

    return build


@pytest.fixture
def rollback_cli_env(emu, tmp_path: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Environment for `invoke`: an sfops.toml with org `emu` (and a production alias `prod`)."""
    return emulator_cli_env(emu, tmp_path, aliases=("emu", "prod"), production=("prod",), actor="rm")
