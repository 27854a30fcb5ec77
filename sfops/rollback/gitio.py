"""The few git plumbing calls the planner needs, always as argv lists (never a shell).

Blob contents come from one `git cat-file --batch` process per call, not one `git show` per file:
that is what keeps a 15k-file delta fast.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sfops.errors import SfopsError, UsageError

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


class GitError(SfopsError):
    """git failed or the repository/ref is not usable."""


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    sha: str


@dataclass(frozen=True)
class DiffEntry:
    """One line of `git diff --name-status -z -M`: status letter, old path, new path (same unless R/C)."""

    status: str
    old_path: str
    new_path: str
    score: int | None = None


class Git:
    """A repository on disk."""

    def __init__(self, repo: str | Path) -> None:
        self.repo = Path(repo)
        if not self.repo.is_dir():
            raise UsageError(f"Not a directory: {self.repo}")

    def run(self, *args: str, stdin: bytes | None = None) -> bytes:
        """Run `git -C repo args...` and return stdout; a failure raises GitError with git's message."""
        argv = ["git", "-C", str(self.repo), "-c", "core.quotepath=off", *args]
        try:
            proc = subprocess.run(argv, input=stdin, capture_output=True, check=False)
        except FileNotFoundError as exc:
            raise GitError("git is not installed or not on PATH.") from exc
        if proc.returncode != 0:
            message = proc.stderr.decode("utf-8", "replace").strip() or f"exit {proc.returncode}"
            raise GitError(f"git {args[0]} failed: {message}")
        return proc.stdout

    def check_repository(self) -> None:
        """Fail clearly when the folder is not inside a git working tree or repository."""
        try:
            self.run("rev-parse", "--git-dir")
        except GitError as exc:
            raise UsageError(f"{self.repo} is not a git repository.", actions=["--repo PATH/TO/SFDX/PROJECT"]) from exc

    def resolve(self, ref: str) -> str:
        """The commit (or tree, for the empty tree) SHA a ref names."""
        if not ref or ref.startswith("-"):
            raise UsageError(f"Not a usable git ref: {ref!r}")
        if ref == EMPTY_TREE:
            return ref
        try:
            return self.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
        except GitError as exc:
            raise UsageError(
                f"Unknown git ref {ref!r} in {self.repo}.", actions=["git tag --list", "git log --oneline"]
            ) from exc

    def is_ancestor(self, older: str, newer: str) -> bool:
        """Is commit `older` an ancestor of `newer` (`git merge-base --is-ancestor`)?"""
        proc = subprocess.run(
            ["git", "-C", str(self.repo), "merge-base", "--is-ancestor", older, newer], capture_output=True, check=False
        )
        if proc.returncode not in (0, 1):
            raise GitError(f"git merge-base failed: {proc.stderr.decode('utf-8', 'replace').strip()}")
        return proc.returncode == 0

    def ls_tree(self, sha: str, paths: Iterable[str] = ()) -> dict[str, TreeEntry]:
        """path -> (mode, blob sha) of every file under `paths` at `sha`."""
        out = self.run("ls-tree", "-r", "-z", "--full-tree", sha, "--", *paths)
        entries: dict[str, TreeEntry] = {}
        for record in out.split(b"\0"):
            if not record:
                continue
            info, _, path = record.partition(b"\t")
            mode, kind, obj = info.split(b" ")
            if kind == b"blob":
                entries[path.decode("utf-8", "surrogateescape")] = TreeEntry(mode.decode(), obj.decode())
        return entries

    def diff(self, old: str, new: str, paths: Iterable[str] = ()) -> list[DiffEntry]:
        """`git diff --name-status -z -M old new -- paths`, renames kept as one entry."""
        out = self.run("diff", "--name-status", "-z", "-M", "--no-ext-diff", "--no-textconv", old, new, "--", *paths)
        fields = [f.decode("utf-8", "surrogateescape") for f in out.split(b"\0")]
        entries: list[DiffEntry] = []
        i = 0
        while i < len(fields) and fields[i]:
            status = fields[i]
            letter = status[0]
            if letter in "RC":
                score = int(status[1:]) if status[1:].isdigit() else None
                entries.append(DiffEntry(letter, fields[i + 1], fields[i + 2], score))
                i += 3
            else:
                entries.append(DiffEntry(letter, fields[i + 1], fields[i + 1]))
                i += 2
        return entries

    def cat_blobs(self, shas: Iterable[str]) -> dict[str, bytes]:
        """Contents of many blobs from one `git cat-file --batch`."""
        wanted = sorted(set(shas))
        if not wanted:
            return {}
        out = self.run("cat-file", "--batch", stdin=("\n".join(wanted) + "\n").encode())
        blobs: dict[str, bytes] = {}
        pos = 0
        for sha in wanted:
            header_end = out.index(b"\n", pos)
            header = out[pos:header_end].split(b" ")
            if len(header) < 3 or header[1] == b"missing":
                raise GitError(f"git object {sha} is missing")
            size = int(header[2])
            start = header_end + 1
            blobs[header[0].decode()] = out[start : start + size]
            pos = start + size + 1
        return blobs
