"""Component-level reverse delta between two git refs.

`compute_delta(repo, from_ref=B, to_ref=A)` answers, for every component the diff touches, whether
the rollback must re-add it (only in A), revert it (in both, different) or delete it (only in B).
Files are mapped to components through the registry; in-file containers (Workflow, CustomLabels,
SharingRules...) are diffed element by element so that only changed children move.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import xml.etree.ElementTree as ET  # building/serialising only; parsing goes through defusedxml
from dataclasses import dataclass, field
from pathlib import Path

from sfops.errors import UsageError
from sfops.rollback.gitio import Git, GitError, TreeEntry
from sfops.rollback.registry import ComponentKey, Registry, SourceFile, Unresolved, load_registry
from sfops.rollback.xmlutil import canonical, local, parse, text_of

RE_ADD, REVERT, DELETE = "re-add", "revert", "delete"
DEFAULT_API_VERSION = "62.0"


class PathTraversalError(UsageError):
    """A path from the repository or the command line would escape its folder."""


def safe_relpath(path: str) -> str:
    """Refuse absolute paths and `..` segments; return the normalised relative path."""
    if not path or path.startswith(("/", "\\")) or "\\" in path or "\0" in path:
        raise PathTraversalError(f"Refusing unsafe path {path!r}.")
    norm = posixpath.normpath(path)
    if norm == ".." or norm.startswith("../") or any(part == ".." for part in path.split("/")):
        raise PathTraversalError(f"Refusing path that leaves its folder: {path!r}.")
    return norm


@dataclass
class Project:
    """What sfdx-project.json says at a ref."""

    package_dirs: list[str]
    api_version: str
    found: bool = True


@dataclass
class Snapshot:
    """Every component under the package directories at one ref."""

    sha: str
    files: dict[tuple[str, str], dict[str, TreeEntry]] = field(default_factory=dict)
    keys: dict[tuple[str, str], ComponentKey] = field(default_factory=dict)
    sources: dict[str, SourceFile] = field(default_factory=dict)
    unresolved: dict[str, Unresolved] = field(default_factory=dict)
    symlinks: list[str] = field(default_factory=list)


@dataclass
class Change:
    """One component of the reverse delta."""

    key: ComponentKey
    action: str
    parent: ComponentKey | None = None
    files_a: dict[str, TreeEntry] = field(default_factory=dict)
    files_b: dict[str, TreeEntry] = field(default_factory=dict)
    element_a: ET.Element | None = None  # in-file children: their element in A / in B
    element_b: ET.Element | None = None
    renamed_from: str | None = None


@dataclass
class Delta:
    """The reverse delta B -> A and what was needed to compute it."""

    repo: Path
    from_ref: str
    to_ref: str
    from_sha: str
    to_sha: str
    project: Project
    changes: list[Change]
    unresolved: list[Unresolved]
    snapshot_a: Snapshot
    snapshot_b: Snapshot
    blobs: dict[str, bytes]
    renames: list[tuple[str, str]]
    notes: list[str] = field(default_factory=list)

    def blob(self, entry: TreeEntry) -> bytes:
        return self.blobs[entry.sha]


def read_project(git: Git, sha: str) -> Project:
    """Package directories and sourceApiVersion from sfdx-project.json (defaults when absent)."""
    try:
        raw = json.loads(git.run("cat-file", "blob", f"{sha}:sfdx-project.json"))
    except (GitError, ValueError):
        return Project(["force-app"], DEFAULT_API_VERSION, found=False)
    dirs = [safe_relpath(str(d.get("path", "")).strip("/")) for d in raw.get("packageDirectories", [])
            if d.get("path")]
    return Project(dirs or ["force-app"], str(raw.get("sourceApiVersion") or DEFAULT_API_VERSION))


def read_forceignore(git: Git, sha: str) -> list[str]:
    try:
        text = git.run("cat-file", "blob", f"{sha}:.forceignore").decode("utf-8", "replace")
    except GitError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    """A small .forceignore matcher (gitignore-style globs; `**/` matches any depth)."""
    for pattern in patterns:
        pat = pattern.rstrip("/")
        candidates = [pat]
        if pat.startswith("**/"):
            candidates.append(pat[3:])
        for cand in candidates:
            if "/" not in cand.strip("*"):
                if any(fnmatch.fnmatchcase(part, cand) for part in path.split("/")):
                    return True
            elif fnmatch.fnmatchcase(path, cand) or fnmatch.fnmatchcase(path, cand + "/*") \
                    or fnmatch.fnmatchcase(path, "*/" + cand) or fnmatch.fnmatchcase(path, "*/" + cand + "/*"):
                return True
    return False


def snapshot(git: Git, sha: str, project: Project, registry: Registry, patterns: list[str]) -> Snapshot:
    """Resolve every file of the package directories at `sha` to its component."""
    snap = Snapshot(sha)
    tree = git.ls_tree(sha, project.package_dirs) if sha else {}
    for path, entry in tree.items():
        rel_dir = next((d for d in project.package_dirs if path.startswith(d + "/")), None)
        if rel_dir is None or ignored(path, patterns):
            continue
        safe_relpath(path)
        if entry.mode == "120000":
            snap.symlinks.append(path)
            continue
        found = registry.resolve(path[len(rel_dir) + 1:], path)
        if isinstance(found, Unresolved):
            snap.unresolved[path] = found
            continue
        snap.sources[path] = found
        ident = found.key.ident
        snap.files.setdefault(ident, {})[path] = entry
        snap.keys.setdefault(ident, found.key)
    return snap


def _container_children(registry: Registry, key: ComponentKey, data: bytes,
                        where: str) -> tuple[dict[tuple[str, str], tuple[ComponentKey, ET.Element]], str]:
    """Children of an in-file container by identity, and a canonical form of its other elements."""
    mtype = registry.get(key.type)
    root = parse(data, where)
    children: dict[tuple[str, str], tuple[ComponentKey, ET.Element]] = {}
    scalars: list[str] = []
    for elem in root:
        child = mtype.child_by_element(local(elem.tag))
        name = text_of(elem, child.id_element) if child else None
        if child is None or not name:
            scalars.append(canonical(elem))
            continue
        full = name if child.ignore_parent_name else f"{key.name}.{name}"
        ckey = ComponentKey(child.name, full)
        children[ckey.ident] = (ckey, elem)
    return children, "".join(scalars)


def compute_delta(repo: str | Path, from_ref: str, to_ref: str, registry: Registry | None = None) -> Delta:
    """The reverse delta that takes an org from `from_ref` (B, deployed) back to `to_ref` (A)."""
    registry = registry or load_registry()
    git = Git(repo)
    sha_b, sha_a = git.resolve(from_ref), git.resolve(to_ref)
    project = read_project(git, sha_a)
    if not project.found:
        project_b = read_project(git, sha_b)
        if project_b.found:
            project = project_b
    patterns = read_forceignore(git, sha_a)
    snap_a = snapshot(git, sha_a, project, registry, patterns)
    snap_b = snapshot(git, sha_b, project, registry, patterns)
    diff = git.diff(sha_b, sha_a, project.package_dirs)

    touched: dict[tuple[str, str], None] = {}
    unresolved: dict[str, Unresolved] = {}
    renames: list[tuple[str, str]] = []
    for entry in diff:
        if entry.status == "R":
            renames.append((entry.old_path, entry.new_path))
        for path, snap in ((entry.old_path, snap_b), (entry.new_path, snap_a)):
            if path in snap.sources:
                touched[snap.sources[path].key.ident] = None
            elif path in snap.unresolved:
                unresolved[path] = snap.unresolved[path]

    needed: set[str] = set()
    for ident in touched:
        needed.update(e.sha for e in snap_a.files.get(ident, {}).values())
        needed.update(e.sha for e in snap_b.files.get(ident, {}).values())
    blobs = git.cat_blobs(needed)

    changes: list[Change] = []
    renamed_to = {new: old for old, new in renames}
    for ident in touched:
        files_a, files_b = snap_a.files.get(ident, {}), snap_b.files.get(ident, {})
        key = snap_a.keys.get(ident) or snap_b.keys[ident]
        first = next(iter(files_a), None)
        source = snap_a.sources[first] if first else snap_b.sources[next(iter(files_b))]
        parent = source.parent
        mtype = registry.types.get(key.type)
        if mtype is not None and mtype.in_file_children:
            changes.extend(_diff_container(registry, key, files_a, files_b, blobs))
            continue
        if files_a and not files_b:
            action = RE_ADD
        elif files_b and not files_a:
            action = DELETE
        elif _same(files_a, files_b):
            continue
        else:
            action = REVERT
        renamed = next((renamed_to[p] for p in files_a if p in renamed_to), None)
        changes.append(Change(key, action, parent, files_a, files_b, renamed_from=renamed))

    changes.sort(key=lambda c: (c.key.type, c.key.name))
    return Delta(Path(repo), from_ref, to_ref, sha_b, sha_a, project, changes,
                 sorted(unresolved.values(), key=lambda u: u.path), snap_a, snap_b, blobs, renames)


def _same(files_a: dict[str, TreeEntry], files_b: dict[str, TreeEntry]) -> bool:
    return files_a == files_b


def _diff_container(registry: Registry, key: ComponentKey, files_a: dict[str, TreeEntry],
                    files_b: dict[str, TreeEntry], blobs: dict[str, bytes]) -> list[Change]:
    """Element-level diff of an in-file container (one file per side)."""
    children_a: dict[tuple[str, str], tuple[ComponentKey, ET.Element]] = {}
    children_b: dict[tuple[str, str], tuple[ComponentKey, ET.Element]] = {}
    scalars_a = scalars_b = ""
    for path, entry in files_a.items():
        found, scalars_a = _container_children(registry, key, blobs[entry.sha], path)
        children_a.update(found)
    for path, entry in files_b.items():
        found, scalars_b = _container_children(registry, key, blobs[entry.sha], path)
        children_b.update(found)
    changes: list[Change] = []
    for ident in sorted(set(children_a) | set(children_b)):
        in_a, in_b = children_a.get(ident), children_b.get(ident)
        if in_a and not in_b:
            changes.append(Change(in_a[0], RE_ADD, key, files_a, files_b, element_a=in_a[1]))
        elif in_b and not in_a:
            changes.append(Change(in_b[0], DELETE, key, files_a, files_b, element_b=in_b[1]))
        elif in_a and in_b and canonical(in_a[1]) != canonical(in_b[1]):
            changes.append(Change(in_a[0], REVERT, key, files_a, files_b, element_a=in_a[1], element_b=in_b[1]))
    deployed = any(c.action != DELETE for c in changes)
    if files_a and (deployed or scalars_a != scalars_b or not files_b):
        action = RE_ADD if not files_b else REVERT
        changes.append(Change(key, action, None, files_a, files_b))
    return changes
