"""What release B changes in Apex compared with A: the files, both versions analysed.

Reads git with the rollback package's plumbing (one `git diff`, one `git cat-file --batch`), so a
release of thousands of classes costs two git processes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sfops.release.apex import DEFAULT_GUARDS, ApexFile, EntryPoint, Soql, analyse
from sfops.rollback.gitio import Git

APEX_SUFFIXES = (".cls", ".trigger")


@dataclass
class ApexChange:
    """One Apex file B adds or changes: B's analysis, and A's when the file existed there."""

    path: str
    b: ApexFile
    a: ApexFile | None

    @property
    def new_entry_points(self) -> list[EntryPoint]:
        """Entry points of B that A's version of the file does not have."""
        known = {e.key.lower() for e in self.a.entry_points} if self.a else set()
        return [e for e in self.b.entry_points if e.key.lower() not in known]

    @property
    def new_soql(self) -> list[Soql]:
        """SOQL statements of B whose text A's version does not contain (whitespace ignored)."""
        known = {" ".join(s.text.split()).lower() for s in self.a.soql} if self.a else set()
        return [s for s in self.b.soql if " ".join(s.text.split()).lower() not in known]


@dataclass
class Release:
    """The Apex side of release B over A."""

    repo: Path
    from_sha: str
    to_sha: str
    changes: list[ApexChange] = field(default_factory=list)
    b_files: Callable[[], dict[str, str]] = dict  # every Apex path of B -> blob sha (lazy)
    git: Git | None = None

    @property
    def changed_names(self) -> list[str]:
        """Class and trigger names B adds or changes (file names)."""
        return sorted({Path(c.path).name.split(".", 1)[0] for c in self.changes})


def load_release(repo: str | Path, from_ref: str, to_ref: str, guards: tuple[str, ...] = DEFAULT_GUARDS) -> Release:
    """The Apex files release `to_ref` (B) adds or changes over `from_ref` (A), analysed."""
    git = Git(repo)
    git.check_repository()
    a_sha, b_sha = git.resolve(from_ref), git.resolve(to_ref)
    diff = [d for d in git.diff(a_sha, b_sha) if d.status != "D" and d.new_path.endswith(APEX_SUFFIXES)]
    b_tree = git.ls_tree(b_sha, [d.new_path for d in diff]) if diff else {}
    old_paths = [d.old_path for d in diff if d.status != "A"]
    a_tree = git.ls_tree(a_sha, old_paths) if old_paths else {}
    blobs = git.cat_blobs([e.sha for e in b_tree.values()] + [e.sha for e in a_tree.values()])
    changes: list[ApexChange] = []
    for d in diff:
        entry = b_tree.get(d.new_path)
        if entry is None:
            continue
        b = analyse(d.new_path, blobs[entry.sha].decode("utf-8", "replace"), guards)
        old = a_tree.get(d.old_path) if d.status != "A" else None
        a = analyse(d.old_path, blobs[old.sha].decode("utf-8", "replace"), guards) if old else None
        changes.append(ApexChange(d.new_path, b, a))

    cache: dict[str, dict[str, str]] = {}

    def b_files() -> dict[str, str]:
        if "all" not in cache:
            tree = git.ls_tree(b_sha)
            cache["all"] = {p: e.sha for p, e in tree.items() if p.endswith(APEX_SUFFIXES)}
        return cache["all"]

    return Release(Path(repo), a_sha, b_sha, changes, b_files, git)


GuardSite = tuple[str, int, str | None]  # file, line, switch name


def delegated_guards(
    release: Release, calls: set[tuple[str, str]], guards: tuple[str, ...] = DEFAULT_GUARDS
) -> dict[tuple[str, str], list[GuardSite]]:
    """(class, method) lower-cased -> guards (file, line, switch) in that method of B's version of the class.

    Used for an entry point that delegates at once to a handler (`AccountHandler.run(Trigger.new)`)."""
    if not calls or release.git is None:
        return {}
    wanted = {c.lower() for c, _ in calls}
    analysed: dict[str, ApexFile] = {c.b.path: c.b for c in release.changes}
    paths = {p: sha for p, sha in release.b_files().items() if Path(p).name.split(".", 1)[0].lower() in wanted}
    missing = {p: sha for p, sha in paths.items() if p not in analysed}
    blobs = release.git.cat_blobs(missing.values()) if missing else {}
    for path, sha in missing.items():
        analysed[path] = analyse(path, blobs[sha].decode("utf-8", "replace"), guards)
    out: dict[tuple[str, str], list[GuardSite]] = {}
    for path in paths:
        for key, found in analysed[path].methods.items():
            if key in {(c.lower(), m.lower()) for c, m in calls}:
                out.setdefault(key, []).extend((path, g.line, g.switch) for g in found)
    return out
