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
    NOT_REFERRERS,
    Node,
    RefIndex,
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
UNDELETABLE = {
    "RecordType": "record types cannot be deleted through the Metadata API; remove it by hand",
    "Settings": "org settings cannot be deleted: they stay as release B (bad) set them unless release A "
    "(good)'s file is deployed",
    "StandardValueSet": "standard value sets cannot be deleted through the Metadata API",
}


def standard_name(key: ComponentKey) -> bool:
    """A standard object or a standard field (Account, Account.Industry, Foo__c.Name): Salesforce refuses
    to delete them. Custom names carry a `__` suffix (__c, __mdt, __e, __b, __x...)."""
    if key.type == "CustomObject":
        return "__" not in key.name
    if key.type == "CustomField":
        return "__" not in key.name.split(".", 1)[-1]
    return False


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
        return [
            {
                "phase": i.phase,
                "step": i.placement,
                "action": i.action,
                "type": i.type,
                "member": i.member,
                "why": "; ".join(i.reasons),
            }
            for i in items
        ]


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
    symbols = _removed_symbols(delta, reverts)
    deleted_objects = {
        c.key.name.casefold() for c in deletes if c.key.type == "CustomObject" and not standard_name(c.key)
    }

    items: list[PlanItem] = [
        PlanItem(
            c.key.type,
            c.key.name,
            c.action,
            DEPLOY,
            reasons=[_deploy_reason(c)],
            parent=str(c.parent) if c.parent else None,
        )
        for c in deployed
    ]
    revert_index = RefIndex(revert_nodes)
    delete_index = RefIndex(delete_nodes.values())
    tests = {ident for ident, node in delete_nodes.items() if node.is_test}
    post: dict[tuple[str, str], list[str]] = {}
    pre: dict[tuple[str, str], list[str]] = {}
    post_edges: list[tuple[tuple[str, str], tuple[str, str]]] = []  # (revert, deletion)
    pre_edges: list[tuple[tuple[str, str], tuple[str, str]]] = []  # (deletion, revert removing what it uses)
    for change in deletes:
        ident = change.key.ident
        referrers = revert_index.referrers(change.key, ident in tests)
        post[ident] = [f"the release B (bad) version of {r.key} (being reverted) references it" for r in referrers]
        post_edges += [(r.key.ident, ident) for r in referrers]
        pre[ident] = []
    for symbol in symbols:
        for node in delete_index.users(symbol):
            pre[node.key.ident].append(f"it references {symbol.describe()}, which the revert removes")
            pre_edges.append((node.key.ident, symbol.owner.ident))
    edges = _deletion_edges(deletes, delete_nodes, delete_index, tests)
    needs = _DeployNeeds(delta, deployed, registry)
    _propagate(edges, pre, post)
    outside = _outside_referrers(delta, deletes, registry) if scan_outside else {}

    deletable = []
    by_ident: dict[tuple[str, str], PlanItem] = {i.key.ident: i for i in items}
    refers_to: dict[tuple[str, str], list[str]] = {}
    referred_by: dict[tuple[str, str], list[str]] = {}
    for e, d in edges:
        if d.key.type not in UNDELETABLE:
            refers_to.setdefault(e.key.ident, []).append(str(d.key))
        referred_by.setdefault(d.key.ident, []).append(str(e.key))
    for change in deletes:
        ident = change.key.ident
        item = PlanItem(
            change.key.type, change.key.name, DELETE, POST, parent=str(change.parent) if change.parent else None
        )
        if change.key.type in UNDELETABLE:
            item.placement, item.reasons = SKIP, [UNDELETABLE[change.key.type]]
        elif standard_name(change.key):
            what = "standard object" if change.key.type == "CustomObject" else "standard field"
            item.placement, item.reasons = (
                SKIP,
                [f"a {what}: Salesforce cannot delete it (only its custom parts release B (bad) added are deleted)"],
            )
        elif (
            change.parent and change.parent.type == "CustomObject" and change.parent.name.casefold() in deleted_objects
        ):
            item.placement, item.reasons = SKIP, [f"covered by deleting {change.parent}"]
        elif pre[ident] and post[ident]:
            item.reasons = ["needs two phases: " + "; ".join(post[ident] + pre[ident])]
        elif pre[ident]:
            item.reasons = pre[ident]
        elif post[ident]:
            item.reasons = post[ident]
        else:
            item.reasons = [_default_post_reason(refers_to.get(ident, []), referred_by.get(ident, []))]
        if outside.get(ident):
            item.reasons.append("BLOCKED: still referenced outside the rollback by " + ", ".join(outside[ident]))
        items.append(item)
        by_ident[ident] = item
        if item.placement != SKIP:
            deletable.append(ident)
    cyclic = _assign_phases(
        by_ident, deletable, post_edges, pre_edges, [(e.key.ident, d.key.ident) for e, d in edges], needs
    )
    phases = max((i.phase for i in items), default=1)
    multi = {
        i.key.ident: str(i.key)
        for i in items
        if i.action == DELETE and i.placement != SKIP and pre[i.key.ident] and post[i.key.ident]
    }
    warnings = _warnings(delta, items, deletes, registry, multi, outside, phases)
    if cyclic:
        warnings.append(
            "Circular references between " + _names(sorted(cyclic)) + ": a deleted component and a "
            "reverted one need each other, so no phase order satisfies both; each deletion waits for "
            "its referrers' deploy, and that deploy will fail to compile until the other side is "
            "removed by hand (or through a stub version). Check the plan before deploying."
        )
    unknown = [{"path": u.path, "type": u.type, "reason": u.reason} for u in delta.unresolved]
    return Plan(
        str(delta.repo.resolve()),
        delta.from_ref,
        delta.to_ref,
        delta.from_sha,
        delta.to_sha,
        delta.project.api_version,
        items,
        warnings,
        unknown,
        phases,
        _renames(delta),
    )


Ident = tuple[str, str]
# each phase has three steps: PRE deletions, the deploy, POST deletions; a "slot" numbers them in order
_STEP = {0: PRE, 1: DEPLOY, 2: POST}


def _assign_phases(
    items: dict[Ident, PlanItem],
    deletable: list[Ident],
    post_edges: list[tuple[Ident, Ident]],
    pre_edges: list[tuple[Ident, Ident]],
    delete_edges: list[tuple[Ident, Ident]],
    needs: Callable[[Ident], list[Ident]],
) -> set[str]:
    """Give every deploy and deletion the earliest phase the references allow (as many phases as a chain
    needs), then move each deletion as late as its phase and references allow (POST is the safe default).

    Constraints, as slots (phase p: 3p PRE, 3p+1 deploy, 3p+2 POST):
    revert r's B version references deletion d -> d after r; d uses what revert r removes -> d before r;
    deletion e references deletion d -> e no later than d; deploy r needs re-added x -> x no later than r
    (asked only for deploys that end up after phase 1: the others cannot delay anything).
    Returns the components of a cycle that no order satisfies (their "before the revert" edges are dropped)."""
    start: dict[Ident, int] = {
        i: (1 if item.placement == DEPLOY else 0)
        for i, item in items.items()
        if item.placement == DEPLOY or i in deletable
    }
    pre_set = {(a, b) for a, b in pre_edges}
    edges = (
        [(a, b, 1) for a, b in post_edges] + [(a, b, 1) for a, b in pre_edges] + [(a, b, 0) for a, b in delete_edges]
    )
    edges = [(a, b, gap) for a, b, gap in edges if a in start and b in start and a != b]
    deploys = {i for i, item in items.items() if item.placement == DEPLOY}
    expanded: set[Ident] = set()
    while True:
        slot, after, cyclic = _solve(start, edges, pre_set, deploys, items)
        pushed = [i for i in deploys if slot[i] > 1 and i not in expanded]
        if not pushed:
            break
        for x in pushed:
            expanded.add(x)
            edges += [(x, r, 0) for r in needs(x) if r in start and r != x]
    limit = len(slot) + 2
    # deletions as late as allowed: the POST step of their phase, unless something must come after them
    uppers: dict[Ident, list[tuple[Ident, int]]] = {}
    for a, b, gap in after:
        if a in deletable:
            uppers.setdefault(a, []).append((b, gap))
    for _ in range(limit):
        changed = False
        for d in deletable:
            top = slot[d] - slot[d] % 3 + 2
            for b, gap in uppers.get(d, ()):
                top = min(top, slot[b] - gap)
            top = top if top % 3 != 1 else top - 1
            if top > slot[d]:
                slot[d] = top
                changed = True
        if not changed:
            break
    for ident, value in slot.items():
        item = items[ident]
        item.phase = value // 3 + 1
        item.placement = _STEP[value % 3]
    phases = max((v // 3 + 1 for v in slot.values()), default=1)
    if phases > 1:
        _explain_phases(items, slot, after)
    return cyclic


def _solve(
    start: dict[Ident, int],
    edges: list[tuple[Ident, Ident, int]],
    pre_set: set[tuple[Ident, Ident]],
    deploys: set[Ident],
    items: dict[Ident, PlanItem],
) -> tuple[dict[Ident, int], list[tuple[Ident, Ident, int]], set[str]]:
    """Earliest slots for the edges; a cycle through a strict edge has no order (B's X calls deleted Y,
    Y calls what X's revert removes): keep "delete after its referrers' deploy", drop "delete before
    the revert" inside it, and name it."""
    slot = dict(start)
    component = _strong_components(list(slot), [(a, b) for a, b, _ in edges])
    knotted = {component[a] for a, b, gap in edges if gap and component[a] == component[b]}
    cyclic = {str(items[a].key) for a in slot if component[a] in knotted}
    after = [
        (a, b, gap)
        for a, b, gap in edges
        if not ((a, b) in pre_set and component[a] == component[b] and component[a] in knotted)
    ]
    for _ in range(len(slot) + 2):
        changed = False
        for a, b, gap in after:
            want = _snap(slot[a] + gap, b in deploys)
            if slot[b] < want:
                slot[b] = want
                changed = True
        if not changed:
            break
    return slot, after, cyclic


def _strong_components(nodes: list[Ident], edges: list[tuple[Ident, Ident]]) -> dict[Ident, int]:
    """Tarjan's strongly connected components (iterative): node -> component number."""
    graph: dict[Ident, list[Ident]] = {n: [] for n in nodes}
    for a, b in edges:
        graph[a].append(b)
    index: dict[Ident, int] = {}
    low: dict[Ident, int] = {}
    on_stack: set[Ident] = set()
    stack: list[Ident] = []
    comp: dict[Ident, int] = {}
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            recurse = False
            for j in range(i, len(graph[node])):
                nxt = graph[node][j]
                if nxt not in index:
                    work.append((node, j + 1))
                    work.append((nxt, 0))
                    recurse = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if recurse:
                continue
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    comp[member] = index[node]
                    if member == node:
                        break
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return comp


def _snap(value: int, deploy: bool) -> int:
    """The first slot >= value of the right kind (a deploy step, or a PRE/POST step)."""
    if deploy:
        return value + (1 - value % 3) % 3
    return value + 1 if value % 3 == 1 else value


def _explain_phases(
    items: dict[Ident, PlanItem], slot: dict[Ident, int], after: list[tuple[Ident, Ident, int]]
) -> None:
    """Name, for each deploy in a later phase, what it waits for."""
    for a, b, gap in after:
        item = items[b]
        if (
            item.placement == DEPLOY
            and item.phase > 1
            and slot[b] == _snap(slot[a] + gap, True)
            and slot[b] // 3 > slot[a] // 3 - (0 if gap else 1)
        ):
            why = (
                f"phase {item.phase}: waits for {items[a].key} ({items[a].placement} in phase {items[a].phase}), "
                "which still uses what this deploy removes"
                if items[a].action == DELETE
                else f"phase {item.phase}: release A (good)'s version uses {items[a].key} as A has it "
                f"(deployed in phase {items[a].phase}), so it cannot come earlier"
            )
            if why not in item.reasons:
                item.reasons.append(why)


class _DeployNeeds:
    """Which deploys use a given deploy as A has it: A's versions that reference a re-added component,
    or a member a revert adds. Indexed on first use only (most plans never ask)."""

    def __init__(self, delta: Delta, deployed: list[Change], registry: Registry) -> None:
        self.delta, self.deployed, self.registry = delta, deployed, registry
        self.by_ident = {c.key.ident: c for c in deployed}
        self._index: RefIndex | None = None

    def __call__(self, ident: Ident) -> list[Ident]:
        change = self.by_ident.get(ident)
        if change is None:
            return []
        if self._index is None:
            self._index = RefIndex(
                _node(self.delta, c, "a") for c in self.deployed if not self.registry.get(c.key.type).in_file_children
            )
        if change.action == RE_ADD and change.key.type != "CustomLabels":
            return [n.key.ident for n in self._index.referrers(change.key)]
        if change.key.type != "ApexClass":
            return []
        added = removed_apex_members(change.key, _text(self.delta, change, "b"), _text(self.delta, change, "a"))
        return [n.key.ident for symbol in added for n in self._index.users(symbol)]


def _deploy_reason(change: Change) -> str:
    if change.action == RE_ADD:
        return "only in release A (good): re-add it"
    return "differs between the releases: deploy release A (good)'s version"


def _default_post_reason(references_deleted: list[str], referenced_by_deleted: list[str]) -> str:
    """Why a deletion that is neither PRE nor POST by the rules goes POST, naming the other deletions it
    references or is referenced by (they all leave in the same destructive file, so none is left dangling)."""
    if referenced_by_deleted:
        who = (
            "no reverted component references it, only "
            + ", ".join(referenced_by_deleted)
            + ", which the rollback deletes too"
        )
    else:
        who = "no reverted component references it"
    if references_deleted:
        what = (
            "it references " + ", ".join(references_deleted) + " (deleted with it, in the same POST destructive "
            "file) and nothing else the revert removes"
        )
    else:
        what = "it references nothing the revert removes"
    return f"{who}; {what}: POST is the safe default"


Edge = tuple[Change, Change]


def _deletion_edges(
    deletes: list[Change], nodes: dict[tuple[str, str], Node], index: RefIndex, tests: set[tuple[str, str]]
) -> list[Edge]:
    """(e, d) for every deletion e whose B version references the deletion d."""
    by_ident = {c.key.ident: c for c in deletes}
    return [
        (by_ident[n.key.ident], d)
        for d in deletes
        for n in index.referrers(d.key, d.key.ident in tests)
        if n.key.ident != d.key.ident
    ]


def _propagate(
    edges: list[Edge], pre: dict[tuple[str, str], list[str]], post: dict[tuple[str, str], list[str]]
) -> None:
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


_BYTE_WORDS = re.compile(rb"[A-Za-z_$][\w$]*")


def _outside_referrers(delta: Delta, deletes: list[Change], registry: Registry) -> dict[tuple[str, str], list[str]]:
    """Components of A outside the delta that still mention a deleted component (org would break).

    A's files are read in one `git cat-file --batch` and indexed by identifier, so only the few that
    name a deleted component are parsed further."""
    if not deletes:
        return {}
    git = Git(delta.repo)
    words = {d.key.name.split(".")[-1].split("/")[-1].lower().encode() for d in deletes}
    in_delta = {c.key.ident for c in delta.changes} | {c.parent.ident for c in delta.changes if c.parent}
    sources = {}
    for path in delta.snapshot_a.paths:
        source = delta.snapshot_a.resolve(path)
        if not isinstance(source, SourceFile) or source.key.ident in in_delta or source.key.type in NOT_REFERRERS:
            continue
        if registry.types.get(source.key.type) and registry.get(source.key.type).in_file_children:
            continue  # containers: their changed children are in the delta, the rest is not a referrer
        sources[path] = source
    if not sources:
        return {}
    contents = git.cat_blobs(delta.snapshot_a.tree[p].sha for p in sources)
    candidates = {
        p: s
        for p, s in sources.items()
        if words & {w.lower() for w in _BYTE_WORDS.findall(contents[delta.snapshot_a.tree[p].sha])}
    }
    if not candidates:
        return {}
    blobs = contents
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


def _warnings(
    delta: Delta,
    items: list[PlanItem],
    deletes: list[Change],
    registry: Registry,
    two_phase: dict[tuple[str, str], str],
    outside: dict[tuple[str, str], list[str]],
    phases: int = 1,
) -> list[str]:
    warnings: list[str] = []
    by_ident = {c.key.ident: c for c in delta.changes}
    skipped = {i.key.ident for i in items if i.placement == SKIP}
    deleted = {i.key.ident for i in items if i.action == DELETE and i.placement != SKIP}
    lost = [
        str(c.key)
        for c in deletes
        if c.key.type in DATA_TYPES and c.key.ident not in skipped and not (c.parent and c.parent.ident in deleted)
    ]
    if lost:
        warnings.append(
            "Data loss: deleting " + _names(lost) + " deletes the data stored in them "
            "(soft-deleted for 15 days; the Recycle Bin cannot be skipped in production)."
        )
    recreated = [
        str(c.key)
        for c in delta.changes
        if c.action == RE_ADD and c.key.type in DATA_TYPES and not standard_name(c.key)
    ]
    if recreated:
        warnings.append(
            "Data loss: " + _names(recreated) + " are re-created EMPTY; data written before "
            "release B (bad) is not restored (undelete them from Deleted Fields/Objects within 15 days "
            "instead, if they are still there)."
        )
    for change in delta.changes:
        if change.action == REVERT and change.key.type == "CustomField":
            type_a, type_b = _field_type(_text(delta, change, "a")), _field_type(_text(delta, change, "b"))
            if type_a and type_b and type_a != type_b:
                warnings.append(f"Data loss risk: {change.key} changes type {type_b} -> {type_a}.")
    record_types = [i for i in items if i.type == "RecordType" and i.action == DELETE]
    if record_types:
        warnings.append(
            "Record types cannot be deleted through the Metadata API: "
            + ", ".join(i.member for i in record_types)
            + " stay in the org (deactivate them by hand)."
        )
    flows = [i for i in items if i.type == "Flow"]
    if any(i.action == DELETE for i in flows):
        warnings.append(
            "Flows: deactivate "
            + ", ".join(i.member for i in flows if i.action == DELETE)
            + " first (FlowDefinition activeVersionNumber 0); an active flow version cannot be deleted."
        )
    if any(i.action != DELETE for i in flows):
        warnings.append(
            "Flows: deploying release A (good)'s flow creates a new flow version; check which version is active."
        )
    for item in items:
        if item.type in ("Profile", "PermissionSet") and item.action == REVERT:
            extra = _b_only_entries(delta, by_ident[item.key.ident])
            note = (
                (" release B (bad) grants entries release A (good) does not mention, so they stay: " + ", ".join(extra))
                if extra
                else ""
            )
            warnings.append(
                f"{item.type} {item.member}: a deploy only touches what the file names; permissions "
                f"release B (bad) granted on kept components are revoked only if release A (good)'s file "
                f"sets them false.{note}"
            )
    settings = [
        c.key.name
        for c in delta.changes
        if c.key.type == "CustomObject" and "customSettingsType" in _text(delta, c, "a" if c.files_a else "b")
    ]
    if delta.changes:
        warnings.append(
            "Custom-setting data is not metadata: rolling back does not restore Kill_Switch__c or other "
            "custom-setting rows"
            + (f" ({', '.join(settings)} change here)" if settings else "")
            + ". Flip the kill switches first, then roll back."
        )
    if phases > 1:
        count = "Two phases" if phases == 2 else f"{phases} phases"
        warnings.append(
            f"{count} needed ("
            + _names(sorted(two_phase.values()))
            + "): each deletion leaves right after the deploy of its referrers, and what it still "
            "uses is reverted in a later phase (phase-N/ folders, deployed in order). "
            "A validation made before phase 1 cannot be quick-deployed after it."
        )
    for ident, who in sorted(outside.items()):
        warnings.append(
            f"Blocked: {by_ident[ident].key} is referenced by components the rollback does not "
            f"touch ({', '.join(who)}); deleting it would break them."
        )
    if delta.unresolved:
        warnings.append(
            f"{len(delta.unresolved)} changed file(s) map to no supported metadata type and are NOT in "
            "the package: " + _names([u.path for u in delta.unresolved], 10)
        )
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
        out.append(
            f"The package has {file_count:,} files, above the 10,000-files-per-deploy limit: "
            "split it along dependency lines (objects with their fields, classes with their tests)."
        )
    if zip_bytes > MAX_ZIP_BYTES:
        out.append(
            f"The package zips to {zip_bytes / 1024 / 1024:.1f} MB, above the ~39 MB deploy limit: "
            "split it along dependency lines."
        )
    return out
