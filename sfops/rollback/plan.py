"""The rollback plan: what to deploy, what to delete before (PRE) or after (POST) the deploy, and why.

Rules (docs/rollback.md explains them with the sample history):
* POST when a component being reverted still references the deleted one in its B version: the A
  version drops the reference, so the deletion may only run after the deploy.
* PRE when the deleted component references something the revert removes (an Apex member, a
  picklist value, or another PRE deletion): deploying A first would break it.
* both: no single deploy works; phase 1 reverts the referrers and post-deletes, phase 2 does the rest.
* neither: POST (the safe default). Children of a deleted object are covered by the object deletion.
"""

from __future__ import annotations

import difflib
import re
import xml.etree.ElementTree as ET  # building/serialising only; parsing goes through defusedxml
from collections.abc import Callable
from dataclasses import dataclass, field

from sfops.rollback.convert import permission_entries
from sfops.rollback.delta import DELETE, RE_ADD, REVERT, Change, Delta
from sfops.rollback.gitio import Git
from sfops.rollback.refs import (
    APEX_TYPES,
    Node,
    RemovedSymbol,
    object_scope,
    references,
    removed_apex_members,
    removed_picklist_values,
    strip_apex_comments,
)
from sfops.rollback.registry import ComponentKey, Registry, SourceFile, load_registry

PRE, POST, DEPLOY, SKIP = "pre", "post", "deploy", "skip"
MAX_FILES = 10_000
MAX_ZIP_BYTES = 39 * 1024 * 1024
UNDELETABLE = {"RecordType": "record types cannot be deleted through the Metadata API"}
DATA_TYPES = ("CustomField", "CustomObject")


@dataclass
class PlanItem:
    """One component of the plan, where it goes and why."""

    type: str
    member: str
    action: str  # re-add | revert | delete
    placement: str  # deploy | pre | post | skip
    phase: int = 1
    reasons: list[str] = field(default_factory=list)
    parent: str | None = None

    @property
    def key(self) -> ComponentKey:
        return ComponentKey(self.type, self.member)


@dataclass
class Plan:
    """Everything `rollback plan` decided (plain dataclasses: plan.json is `dataclasses.asdict`)."""

    repo: str
    from_ref: str
    to_ref: str
    from_sha: str
    to_sha: str
    api_version: str
    items: list[PlanItem]
    warnings: list[str]
    unknown: list[dict[str, str | None]]
    phases: int = 1
    renames: list[dict[str, str]] = field(default_factory=list)
    package_dir: str | None = None
    file_count: int = 0
    zip_bytes: int = 0

    def members(self, placement: str, phase: int | None = None) -> dict[str, list[str]]:
        """Type -> members for one placement (deploy/pre/post), optionally one phase."""
        out: dict[str, list[str]] = {}
        for item in self.items:
            if item.placement == placement and (phase is None or item.phase == phase):
                out.setdefault(item.type, []).append(item.member)
        return {t: sorted(m) for t, m in sorted(out.items())}

    def rows(self) -> list[dict[str, object]]:
        """The human table."""
        order = {PRE: 0, DEPLOY: 1, POST: 2, SKIP: 3}
        items = sorted(self.items, key=lambda i: (i.phase, order[i.placement], i.type, i.member))
        return [{"phase": i.phase, "step": i.placement, "action": i.action, "type": i.type,
                 "member": i.member, "why": "; ".join(i.reasons)} for i in items]


def _text(delta: Delta, change: Change, side: str) -> str:
    element = change.element_a if side == "a" else change.element_b
    if element is not None:
        return ET.tostring(element, encoding="unicode")
    files = change.files_a if side == "a" else change.files_b
    text = "\n".join(delta.blob(e).decode("utf-8", "replace") for _, e in sorted(files.items()))
    return strip_apex_comments(text) if change.key.type in APEX_TYPES else text


def _node(delta: Delta, change: Change, side: str) -> Node:
    return Node(change.key, _text(delta, change, side), object_scope(change.key, change.parent), change.parent)


def _removed_symbols(delta: Delta, reverts: list[Change]) -> list[RemovedSymbol]:
    symbols: list[RemovedSymbol] = []
    for change in reverts:
        if change.key.type == "ApexClass":
            symbols += removed_apex_members(change.key, _text(delta, change, "a"), _text(delta, change, "b"))
        elif change.key.type == "CustomField":
            symbols += removed_picklist_values(change.key, _text(delta, change, "a"), _text(delta, change, "b"))
    return symbols


def build_plan(delta: Delta, registry: Registry | None = None, *, scan_outside: bool = True) -> Plan:
    """Classify, place and explain every change of the delta."""
    registry = registry or load_registry()
    deletes = [c for c in delta.changes if c.action == DELETE]
    reverts = [c for c in delta.changes if c.action == REVERT]
    deployed = [c for c in delta.changes if c.action != DELETE]
    deploy_idents = {c.key.ident for c in deployed}
    # a member both deployed and deleted (moved between label files, case-only rename): deploy wins
    deletes = [c for c in deletes if c.key.ident not in deploy_idents]
    # in-file containers are not referrers themselves: their children are (a container's text holds them all)
    revert_nodes = [_node(delta, c, "b") for c in reverts if not registry.get(c.key.type).in_file_children]
    delete_nodes = {c.key.ident: _node(delta, c, "b") for c in deletes}
    pending_grep = _start_outside_scan(delta, deletes) if scan_outside else None
    symbols = _removed_symbols(delta, reverts)
    deleted_objects = {c.key.name.casefold() for c in deletes if c.key.type == "CustomObject"}

    items: list[PlanItem] = [
        PlanItem(c.key.type, c.key.name, c.action, DEPLOY, reasons=[_deploy_reason(c)],
                 parent=str(c.parent) if c.parent else None) for c in deployed]
    post: dict[tuple[str, str], list[str]] = {}
    pre: dict[tuple[str, str], list[str]] = {}
    for change in deletes:
        ident, node = change.key.ident, delete_nodes[change.key.ident]
        post[ident] = [f"the release B (bad) version of {r.key} (being reverted) references it"
                       for r in revert_nodes if references(r, change.key)]
        pre[ident] = [f"it references {s.describe()}, which the revert removes"
                      for s in symbols if s.matcher(node)]
    edges = _deletion_edges(deletes, delete_nodes)
    _propagate(edges, pre, post)
    outside = _outside_referrers(delta, deletes, registry, pending_grep()) if pending_grep else {}

    two_phase = {ident for ident in pre if pre[ident] and post[ident]}
    for change in deletes:
        ident = change.key.ident
        item = PlanItem(change.key.type, change.key.name, DELETE, POST,
                        parent=str(change.parent) if change.parent else None)
        if change.key.type in UNDELETABLE:
            item.placement, item.reasons = SKIP, [UNDELETABLE[change.key.type] + "; remove it by hand"]
        elif change.parent and change.parent.type == "CustomObject" and \
                change.parent.name.casefold() in deleted_objects:
            item.placement, item.reasons = SKIP, [f"covered by deleting {change.parent}"]
        elif ident in two_phase:
            item.placement, item.phase = POST, 1
            item.reasons = ["needs two phases: " + "; ".join(post[ident] + pre[ident])]
        elif pre[ident]:
            item.placement, item.reasons = PRE, pre[ident]
        elif post[ident]:
            item.reasons = post[ident]
        else:
            item.reasons = [_default_post_reason(
                [str(d.key) for e, d in edges if e is change and d.key.type not in UNDELETABLE],
                [str(e.key) for e, d in edges if d is change])]
        if outside.get(ident):
            item.reasons.append("BLOCKED: still referenced outside the rollback by " + ", ".join(outside[ident]))
        items.append(item)

    phases = 1
    if two_phase:
        phases = 2
        referrers = {r.key.ident for r in revert_nodes for c in deletes
                     if c.key.ident in two_phase and references(r, c.key)}
        for item in items:
            if item.key.ident in two_phase or item.key.ident in referrers:
                item.phase = 1
            else:
                item.phase = 2
    warnings = _warnings(delta, items, deletes, registry, two_phase, outside)
    unknown = [{"path": u.path, "type": u.type, "reason": u.reason} for u in delta.unresolved]
    return Plan(str(delta.repo.resolve()), delta.from_ref, delta.to_ref, delta.from_sha, delta.to_sha,
                delta.project.api_version, items, warnings, unknown, phases, _renames(delta))


def _deploy_reason(change: Change) -> str:
    if change.action == RE_ADD:
        return "only in release A (good): re-add it"
    return "differs between the releases: deploy release A (good)'s version"


def _default_post_reason(references_deleted: list[str], referenced_by_deleted: list[str]) -> str:
    """Why a deletion that is neither PRE nor POST by the rules goes POST, naming the other deletions it
    references or is referenced by (they all leave in the same destructive file, so none is left dangling)."""
    if referenced_by_deleted:
        who = "no reverted component references it, only " + ", ".join(referenced_by_deleted) + \
              ", which the rollback deletes too"
    else:
        who = "no reverted component references it"
    if references_deleted:
        what = ("it references " + ", ".join(references_deleted) + " (deleted with it, in the same POST destructive "
                "file) and nothing else the revert removes")
    else:
        what = "it references nothing the revert removes"
    return f"{who}; {what}: POST is the safe default"


Edge = tuple[Change, Change]


def _deletion_edges(deletes: list[Change], nodes: dict[tuple[str, str], Node]) -> list[Edge]:
    """(e, d) for every deletion e whose B version references the deletion d."""
    return [(e, d) for e in deletes for d in deletes if e is not d and references(nodes[e.key.ident], d.key)]


def _propagate(edges: list[Edge], pre: dict[tuple[str, str], list[str]],
               post: dict[tuple[str, str], list[str]]) -> None:
    """A deletion referenced by a POST deletion is POST too; one referencing a PRE deletion is PRE.

    Deleted referrers are named in the reasons even when the placement was already decided.
    """
    changed = True
    while changed:
        changed = False
        for e, d in edges:
            if post[e.key.ident] and not post[d.key.ident]:
                post[d.key.ident] = [f"{e.key} (deleted POST) references it"]
                changed = True
            if pre[d.key.ident] and not pre[e.key.ident]:
                pre[e.key.ident] = [f"it references {d.key}, which is deleted PRE"]
                changed = True
    for e, d in edges:
        note = f"also referenced by {e.key}, deleted in the same step or earlier"
        if post[d.key.ident] and note not in post[d.key.ident] and not pre[e.key.ident]:
            post[d.key.ident].append(note)


def _start_outside_scan(delta: Delta, deletes: list[Change]) -> Callable[[], set[str]] | None:
    """Start searching A for files that mention a deleted component's name (runs while we plan)."""
    if not deletes:
        return None
    words = {d.key.name.split(".")[-1].split("/")[-1] for d in deletes}
    return Git(delta.repo).grep_files_async(delta.to_sha, words, delta.project.package_dirs)


def _outside_referrers(delta: Delta, deletes: list[Change], registry: Registry,
                       hits: set[str]) -> dict[tuple[str, str], list[str]]:
    """Components of A outside the delta that still mention a deleted component (org would break)."""
    git = Git(delta.repo)
    in_delta = {c.key.ident for c in delta.changes} | {c.parent.ident for c in delta.changes if c.parent}
    candidates = {}
    for path in hits:
        source = delta.snapshot_a.resolve(path)
        if not isinstance(source, SourceFile) or source.key.ident in in_delta:
            continue
        if registry.types.get(source.key.type) and registry.get(source.key.type).in_file_children:
            continue  # containers: their changed children are in the delta, the rest is not a referrer
        candidates[path] = source
    if not candidates:
        return {}
    blobs = git.cat_blobs(delta.snapshot_a.tree[p].sha for p in candidates)
    found: dict[tuple[str, str], list[str]] = {}
    for path, source in sorted(candidates.items()):
        text = blobs[delta.snapshot_a.tree[path].sha].decode("utf-8", "replace")
        if source.key.type in APEX_TYPES:
            text = strip_apex_comments(text)
        node = Node(source.key, text, object_scope(source.key, source.parent), source.parent)
        for d in deletes:
            if references(node, d.key) and str(source.key) not in found.get(d.key.ident, []):
                found.setdefault(d.key.ident, []).append(str(source.key))
    return found


def _renames(delta: Delta) -> list[dict[str, str]]:
    """git-detected renames that are really a component renamed (not two look-alike small files)."""
    out = []
    for old, new in delta.renames:
        src_b, src_a = delta.snapshot_b.sources.get(old), delta.snapshot_a.sources.get(new)
        if not src_b or not src_a or src_b.role == "meta" or src_b.key.type != src_a.key.type:
            continue
        short_b, short_a = src_b.key.name.rsplit(".", 1)[-1], src_a.key.name.rsplit(".", 1)[-1]
        if difflib.SequenceMatcher(None, short_b, short_a).ratio() >= 0.8:
            out.append({"type": src_a.key.type, "in_b": src_b.key.name, "in_a": src_a.key.name})
    return out


def _field_type(text: str) -> str | None:
    match = re.search(r"<type>([^<]+)</type>\s*</CustomField>", text) or re.search(r"<type>([^<]+)</type>", text)
    return match.group(1) if match else None


def _names(names: list[str], limit: int = 15) -> str:
    """A readable list: the first `limit` names and how many more."""
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _warnings(delta: Delta, items: list[PlanItem], deletes: list[Change], registry: Registry,
              two_phase: set[tuple[str, str]], outside: dict[tuple[str, str], list[str]]) -> list[str]:
    warnings: list[str] = []
    by_ident = {c.key.ident: c for c in delta.changes}
    lost = [str(c.key) for c in deletes if c.key.type in DATA_TYPES
            and not (c.parent and any(i.key.ident == c.parent.ident for i in items if i.action == DELETE))]
    if lost:
        warnings.append("Data loss: deleting " + _names(lost) + " deletes the data stored in them "
                        "(soft-deleted for 15 days; the Recycle Bin cannot be skipped in production).")
    recreated = [str(c.key) for c in delta.changes if c.action == RE_ADD and c.key.type in DATA_TYPES]
    if recreated:
        warnings.append("Data loss: " + _names(recreated) + " are re-created EMPTY; data written before "
                        "release B (bad) is not restored (undelete them from Deleted Fields/Objects within 15 days "
                        "instead, if they are still there).")
    for change in delta.changes:
        if change.action == REVERT and change.key.type == "CustomField":
            type_a, type_b = _field_type(_text(delta, change, "a")), _field_type(_text(delta, change, "b"))
            if type_a and type_b and type_a != type_b:
                warnings.append(f"Data loss risk: {change.key} changes type {type_b} -> {type_a}.")
    record_types = [i for i in items if i.type == "RecordType" and i.action == DELETE]
    if record_types:
        warnings.append("Record types cannot be deleted through the Metadata API: " +
                        ", ".join(i.member for i in record_types) + " stay in the org (deactivate them by hand).")
    flows = [i for i in items if i.type == "Flow"]
    if any(i.action == DELETE for i in flows):
        warnings.append("Flows: deactivate " + ", ".join(i.member for i in flows if i.action == DELETE) +
                        " first (FlowDefinition activeVersionNumber 0); an active flow version cannot be deleted.")
    if any(i.action != DELETE for i in flows):
        warnings.append("Flows: deploying release A (good)'s flow creates a new flow version; check which version "
                        "is active.")
    for item in items:
        if item.type in ("Profile", "PermissionSet") and item.action == REVERT:
            extra = _b_only_entries(delta, by_ident[item.key.ident])
            note = (" release B (bad) grants entries release A (good) does not mention, so they stay: "
                    + ", ".join(extra)) if extra else ""
            warnings.append(f"{item.type} {item.member}: a deploy only touches what the file names; permissions "
                            f"release B (bad) granted on kept components are revoked only if release A (good)'s file "
                            f"sets them false.{note}")
    settings = [c.key.name for c in delta.changes if c.key.type == "CustomObject"
                and "customSettingsType" in _text(delta, c, "a" if c.files_a else "b")]
    if not delta.project.found:
        warnings.append("No sfdx-project.json in release A (good) or B (bad): "
                        "assumed package directory force-app and API "
                        f"version {delta.project.api_version}.")
    if delta.changes:
        warnings.append("Custom-setting data is not metadata: rolling back does not restore Kill_Switch__c or other "
                        "custom-setting rows" + (f" ({', '.join(settings)} change here)" if settings else "") +
                        ". Flip the kill switches first, then roll back.")
    if two_phase:
        warnings.append("Two phases needed (" + ", ".join(f"{t}:{n}" for t, n in sorted(two_phase)) +
                        "): phase 1 reverts their referrers and post-deletes them, phase 2 does the rest. "
                        "A validation made before phase 1 cannot be quick-deployed after it.")
    for ident, who in sorted(outside.items()):
        warnings.append(f"Blocked: {by_ident[ident].key} is referenced by components the rollback does not "
                        f"touch ({', '.join(who)}); deleting it would break them.")
    if delta.unresolved:
        warnings.append(f"{len(delta.unresolved)} changed file(s) map to no supported metadata type and are NOT in "
                        "the package: " + _names([u.path for u in delta.unresolved], 10))
    links = [p for p in delta.snapshot_a.symlinks if p]
    if links:
        warnings.append("Symbolic links are not deployed: " + _names(links, 10))
    return warnings


def _b_only_entries(delta: Delta, change: Change) -> list[str]:
    entries_a = permission_entries(b"".join(delta.blob(e) for e in change.files_a.values()))
    entries_b = permission_entries(b"".join(delta.blob(e) for e in change.files_b.values()))
    return sorted(set(entries_b) - set(entries_a))


def limit_warnings(file_count: int, zip_bytes: int) -> list[str]:
    """The Metadata API deploy limits: 10,000 files and about 39 MB zipped per deploy."""
    out = []
    if file_count > MAX_FILES:
        out.append(f"The package has {file_count:,} files, above the 10,000-files-per-deploy limit: "
                   "split it along dependency lines (objects with their fields, classes with their tests).")
    if zip_bytes > MAX_ZIP_BYTES:
        out.append(f"The package zips to {zip_bytes / 1024 / 1024:.1f} MB, above the ~39 MB deploy limit: "
                   "split it along dependency lines.")
    return out

