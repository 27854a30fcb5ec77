"""Component-level reverse delta between two git refs.

`compute_delta(repo, from_ref=B, to_ref=A)` answers, for every component the diff touches, whether
the rollback must re-add it (only in A), revert it (in both, different) or delete it (only in B).
Files are mapped to components through the registry; in-file containers (Workflow, CustomLabels,
SharingRules...) are diffed element by element so that only changed children move.
"""

from __future__ import annotations

import bisect
import json
import posixpath
import xml.etree.ElementTree as ET  # building/serialising only; parsing goes through defusedxml
from dataclasses import dataclass, field
from pathlib import Path

from pathspec import GitIgnoreSpec

from sfops.errors import UsageError
from sfops.rollback.gitio import EMPTY_TREE, Git, GitError, TreeEntry
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


class Snapshot:
    """The components under the package directories at one ref, resolved lazily: only files that
    share a name prefix with something the diff touched are ever mapped to components."""

    def __init__(
        self,
        sha: str,
        tree: dict[str, TreeEntry],
        project: Project,
        registry: Registry,
        patterns: GitIgnoreSpec,
        cache: dict[str, SourceFile | Unresolved | None] | None = None,
    ) -> None:
        self.sha = sha
        self.tree = tree
        self.paths = sorted(tree)
        self.project = project
        self.registry = registry
        self.patterns = patterns
        self.files: dict[tuple[str, str], dict[str, TreeEntry]] = {}
        self.keys: dict[tuple[str, str], ComponentKey] = {}
        self.sources: dict[str, SourceFile] = {}
        self.unresolved: dict[str, Unresolved] = {}
        self.symlinks: list[str] = []
        self._seen: set[str] = set()
        self._cache = cache if cache is not None else {}

    def resolve(self, path: str) -> SourceFile | Unresolved | None:
        """The component of a file at this ref (None: not in a package dir, ignored, symlink, absent)."""
        if path not in self._seen:
            self._seen.add(path)
            self._add(path)
        return self.sources.get(path) or self.unresolved.get(path)

    def _add(self, path: str) -> None:
        entry = self.tree.get(path)
        if entry is None:
            return
        if path not in self._cache:
            self._cache[path] = _resolve_path(path, self.project, self.registry, self.patterns)
        found = self._cache[path]
        if found is None:
            return
        if entry.mode == "120000":
            self.symlinks.append(path)
            return
        if isinstance(found, Unresolved):
            self.unresolved[path] = found
            return
        self.sources[path] = found
        ident = found.key.ident
        self.files.setdefault(ident, {})[path] = entry
        self.keys.setdefault(ident, found.key)

    def load_prefix(self, prefix: str) -> None:
        """Resolve every file whose path starts with `prefix`."""
        i = bisect.bisect_left(self.paths, prefix)
        while i < len(self.paths) and self.paths[i].startswith(prefix):
            self.resolve(self.paths[i])
            i += 1


def _resolve_path(
    path: str, project: Project, registry: Registry, patterns: GitIgnoreSpec
) -> SourceFile | Unresolved | None:
    rel_dir = next((d for d in project.package_dirs if path.startswith(d + "/")), None)
    if rel_dir is None or ignored(path, patterns):
        return None
    if ".." in path:
        safe_relpath(path)
    return registry.resolve(path[len(rel_dir) + 1 :], path)


def component_prefix(source: SourceFile) -> str:
    """A path prefix that covers every file of the component (e.g. 'classes/X' for X.cls and its meta,
    'lwc/x/' for every file of a bundle, 'staticresources/x' for x.resource-meta.xml and the x/ folder)."""
    if source.role == "bundle" and source.sub and source.path.endswith(source.sub):
        bundle_dir = source.path[: len(source.path) - len(source.sub)] + source.sub.split("/", 1)[0]
        if source.key.type in ("StaticResource", "ExperienceBundle", "Document"):
            return bundle_dir  # the -meta.xml lives beside the folder
        return bundle_dir + "/"
    name = source.key.name.rsplit("/", 1)[-1]
    if source.parent is not None and "." in name:
        name = name.split(".", 1)[1]
    parts = source.path.split("/")
    for i in range(len(parts) - 1, -1, -1):
        if parts[i].startswith(name):
            return "/".join([*parts[:i], name])
    return source.path


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
    """Package directories and sourceApiVersion from sfdx-project.json (`found=False` when absent)."""
    try:
        raw = json.loads(git.run("cat-file", "blob", f"{sha}:sfdx-project.json"))
    except (GitError, ValueError):
        return Project([], DEFAULT_API_VERSION, found=False)
    if not isinstance(raw, dict):
        return Project([], DEFAULT_API_VERSION, found=False)
    dirs = [
        safe_relpath(str(d.get("path", "")).strip("/"))
        for d in raw.get("packageDirectories", [])
        if isinstance(d, dict) and d.get("path")
    ]
    return Project(dirs, str(raw.get("sourceApiVersion") or DEFAULT_API_VERSION), found=bool(dirs))


# what `sf` (source-deploy-retrieve's ForceIgnore) ignores even without a .forceignore entry
DEFAULT_IGNORE = ("**/*.dup", "**/.*", "**/package2-descriptor.json", "**/package2-manifest.json")


def forceignore_spec(text: str) -> GitIgnoreSpec:
    """.forceignore lines with gitignore semantics (root-anchored `/x`, `**`, `!` negations, `dir/`),
    after sf's built-in defaults; paths are matched relative to the project root. Case-insensitive,
    like the `ignore` package sf uses (its default): `**settings` also ignores remoteSiteSettings/."""
    return GitIgnoreSpec.from_lines([*DEFAULT_IGNORE, *(line.lower() for line in text.splitlines())])


def read_forceignore(git: Git, sha: str) -> GitIgnoreSpec:
    """The .forceignore of a ref (only the built-in defaults when there is none)."""
    try:
        text = git.run("cat-file", "blob", f"{sha}:.forceignore").decode("utf-8", "replace")
    except GitError:
        text = ""
    return forceignore_spec(text)


def ignored(path: str, spec: GitIgnoreSpec) -> bool:
    """Does .forceignore exclude this repo path?"""
    return spec.match_file(path.lower())


def _container_children(
    registry: Registry, key: ComponentKey, data: bytes, where: str
) -> tuple[dict[tuple[str, str], tuple[ComponentKey, ET.Element]], str]:
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


def compute_delta(
    repo: str | Path, from_ref: str, to_ref: str, registry: Registry | None = None, *, allow_forward: bool = False
) -> Delta:
    """The reverse delta that takes an org from `from_ref` (B, deployed) back to `to_ref` (A).

    Refuses a forward delta (B an ancestor of A) unless `allow_forward`; needs sfdx-project.json."""
    registry = registry or load_registry()
    git = Git(repo)
    git.check_repository()
    sha_b, sha_a = git.resolve(from_ref), git.resolve(to_ref)
    if (
        not allow_forward
        and sha_a != sha_b
        and sha_a != EMPTY_TREE
        and sha_b != EMPTY_TREE
        and git.is_ancestor(sha_b, sha_a)
    ):
        raise UsageError(
            f"--from {from_ref} is older than --to {to_ref} ({to_ref} descends from it): that is a "
            "forward delta, not a rollback. --from is the bad release deployed now, --to the good "
            "one to go back to.",
            actions=[f"--from {to_ref} --to {from_ref}", "--allow-forward (really deploy the newer release)"],
        )
    project, project_b = read_project(git, sha_a), read_project(git, sha_b)
    if not project.found and not project_b.found:
        raise UsageError(
            f"No sfdx-project.json with packageDirectories at {to_ref} or {from_ref} in {repo}: "
            "not an SFDX project (or the wrong --repo).",
            actions=["--repo PATH/TO/SFDX/PROJECT"],
        )
    if not project.found:
        project = Project(list(project_b.package_dirs), project_b.api_version)
    # a package directory that only B has still holds components the rollback must delete
    project.package_dirs += [d for d in project_b.package_dirs if d not in project.package_dirs]
    patterns = read_forceignore(git, sha_a)
    cache: dict[str, SourceFile | Unresolved | None] = {}
    snap_a = Snapshot(sha_a, git.ls_tree(sha_a, project.package_dirs), project, registry, patterns, cache)
    snap_b = Snapshot(sha_b, git.ls_tree(sha_b, project.package_dirs), project, registry, patterns, cache)
    diff = git.diff(sha_b, sha_a, project.package_dirs)

    touched: dict[tuple[str, str], None] = {}
    unresolved: dict[str, Unresolved] = {}
    renames: list[tuple[str, str]] = []
    prefixes: set[str] = set()
    for entry in diff:
        if entry.status == "R":
            renames.append((entry.old_path, entry.new_path))
        for path, snap in ((entry.old_path, snap_b), (entry.new_path, snap_a)):
            found = snap.resolve(path)
            if isinstance(found, SourceFile):
                touched[found.key.ident] = None
                prefixes.add(component_prefix(found))
            elif isinstance(found, Unresolved):
                unresolved[path] = found
    for prefix in sorted(prefixes):
        snap_a.load_prefix(prefix)
        snap_b.load_prefix(prefix)

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
    return Delta(
        Path(repo),
        from_ref,
        to_ref,
        sha_b,
        sha_a,
        project,
        changes,
        sorted(unresolved.values(), key=lambda u: u.path),
        snap_a,
        snap_b,
        blobs,
        renames,
    )


def _same(files_a: dict[str, TreeEntry], files_b: dict[str, TreeEntry]) -> bool:
    return files_a == files_b


def _diff_container(
    registry: Registry,
    key: ComponentKey,
    files_a: dict[str, TreeEntry],
    files_b: dict[str, TreeEntry],
    blobs: dict[str, bytes],
) -> list[Change]:
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
