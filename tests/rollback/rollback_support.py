"""Shared constants of the rollback tests (a uniquely named module: `from conftest import` resolves to
whichever conftest.py Python imported first when several test folders are collected together)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from paths import REFERENCE

SAMPLE_SCRIPT = REFERENCE / "make-sample-sfdx-repo.sh"
EXPECTED = REFERENCE / "rollback-expected"
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

RepoFactory = Callable[[list[Mapping[str, str | bytes | None]]], Path]
