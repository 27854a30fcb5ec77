"""Source format -> Metadata API format for the components a rollback deploys (A's versions).

Matches `sf project convert source` on a delta folder: `-meta.xml` pairs kept, single-file types
lose the `-meta.xml`, decomposed objects are recomposed into `objects/X.object` holding only the
deployed children, bundles are copied whole, folder static resources are zipped (deterministically),
CustomLabels and other in-file containers are merged with only the changed children, and profiles
and permission sets are pruned to what changed (like sfdx-git-delta's delta folder).
"""

from __future__ import annotations

import io
import posixpath
import xml.etree.ElementTree as ET  # building/serialising only; parsing goes through defusedxml
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field

from sfops.rollback.delta import DELETE, Change, Delta
from sfops.rollback.registry import META, ComponentKey, MetadataType, Registry
from sfops.rollback.xmlutil import canonical, local, parse, serialize, text_of

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
PRUNED_TYPES = ("Profile", "PermissionSet")
_PERMISSION_KEYS = (
    "apexClass",
    "apexPage",
    "object",
    "field",
    "layout",
    "recordType",
    "tab",
    "application",
    "name",
    "flow",
    "customPermission",
    "customMetadataType",
    "customSettings",
    "externalDataSource",
    "dataspaceScope",
    "emailTemplate",
)


@dataclass
class Converted:
    """Metadata API files (path -> bytes) and the package.xml members they carry."""

    files: dict[str, bytes] = field(default_factory=dict)
    members: dict[str, set[str]] = field(default_factory=dict)

    def add_member(self, key: ComponentKey) -> None:
        self.members.setdefault(key.type, set()).add(key.name)


def permission_entries(data: bytes) -> list[str]:
    """Identifiers of a profile/permission set's entries, e.g. 'fieldPermissions Incident__c.X__c'."""
    if not data.strip():
        return []
    out = []
    for elem in parse(data, "profile"):
        if len(elem):
            ident = next((text_of(elem, k) for k in _PERMISSION_KEYS if text_of(elem, k)), None)
            out.append(f"{local(elem.tag)} {ident or canonical(elem)}")
    return out


def _sub(delta: Delta, path: str) -> str:
    """A source file's path below its type's folder in the flat Metadata API package (e.g.
    'logger/logEntryBuilder.js' for lwc/logger/logEntryBuilder.js, 'Foo.cls' for utilities/Foo.cls)."""
    source = delta.snapshot_a.sources.get(path) or delta.snapshot_b.sources.get(path)
    return source.sub if source is not None and source.sub else path.rsplit("/", 1)[-1]


def _mdapi_single(mtype: MetadataType, key: ComponentKey) -> str:
    if mtype.name.endswith("Folder") and "/" not in key.name:
        return f"{mtype.directory}/{key.name}{META}"
    return f"{mtype.directory}/{key.name}.{mtype.suffix}"


def _prune(data_a: bytes, data_b: bytes, root_tag: str) -> bytes:
    """Keep A's scalar elements and only those complex elements that differ from B."""
    root_a = parse(data_a, root_tag)
    in_b = {canonical(e) for e in parse(data_b, root_tag)} if data_b.strip() else set()
    kept = [e for e in root_a if not len(e) or canonical(e) not in in_b]
    return serialize(local(root_a.tag), kept)


def _zip(entries: dict[str, bytes]) -> bytes:
    """A deterministic zip: sorted entries, directory entries included, fixed timestamps."""
    names: set[str] = set()
    for path in entries:
        parts = path.split("/")
        names.update("/".join(parts[:i]) + "/" for i in range(1, len(parts)))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(names | set(entries)):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            if name.endswith("/"):
                info.external_attr = 0o40755 << 16
                zf.writestr(info, b"")
            else:
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, entries[name])
    return buf.getvalue()


def convert(delta: Delta, changes: Iterable[Change], registry: Registry) -> Converted:
    """Metadata API files for the deployed (re-add/revert) changes."""
    out = Converted()
    objects: dict[str, list[Change]] = {}
    containers: dict[tuple[str, str], list[Change]] = {}
    for change in changes:
        if change.action == DELETE:
            continue
        mtype = registry.get(change.key.type)
        out.add_member(change.key)
        if change.key.type == "CustomObject" or (change.parent and change.parent.type == "CustomObject"):
            obj = change.key.name if change.key.type == "CustomObject" else change.parent.name  # type: ignore[union-attr]
            objects.setdefault(obj, []).append(change)
        elif change.parent is not None and registry.get(change.parent.type).in_file_children:
            containers.setdefault(change.parent.ident, []).append(change)
        elif mtype.in_file_children:
            containers.setdefault(change.key.ident, []).append(change)
        else:
            _convert_plain(delta, change, mtype, out)
    for obj, group in sorted(objects.items()):
        out.files[f"objects/{obj}.object"] = _recompose_object(delta, group, registry)
    merged: dict[str, tuple[str, list[ET.Element]]] = {}
    for group in containers.values():
        path, root_tag, elements = _merge_container(delta, group, registry)
        if path:
            merged.setdefault(path, (root_tag, []))[1].extend(elements)
    for path, (root_tag, elements) in sorted(merged.items()):
        mtype = registry.get(root_tag)
        if mtype.adapter == "nonDecomposed":  # sf recomposes CustomLabels from empty, sorted by fullName
            elements = sorted(elements, key=lambda e: text_of(e, "fullName") or "")
        out.files[path] = serialize(root_tag, elements)
    return out


def _convert_plain(delta: Delta, change: Change, mtype: MetadataType, out: Converted) -> None:
    files = sorted(change.files_a.items())
    if mtype.adapter in ("bundle", "matchingContentFile", "mixedContent"):
        for path, entry in files:
            out.files[f"{mtype.directory}/{_sub(delta, path)}"] = delta.blob(entry)
        return
    if mtype.adapter == "staticResource":
        name = change.key.name
        content: dict[str, bytes] = {}
        single: bytes | None = None
        for path, entry in files:
            rel = _sub(delta, path)
            if rel == f"{name}.{mtype.suffix}{META}":
                out.files[f"{mtype.directory}/{rel}"] = delta.blob(entry)
            elif "/" in rel:
                content[rel.split("/", 1)[1]] = delta.blob(entry)
            else:
                single = delta.blob(entry)
        body = _zip(content) if content else (single or b"")
        out.files[f"{mtype.directory}/{name}.{mtype.suffix}"] = body
        return
    if not files:
        return
    path, entry = files[0]
    data = delta.blob(entry)
    if mtype.name in PRUNED_TYPES and change.files_b:
        data_b = b"".join(delta.blob(e) for e in change.files_b.values())
        data = _prune(data, data_b, mtype.name)
    out.files[_mdapi_single(mtype, change.key)] = data


def _recompose_object(delta: Delta, group: list[Change], registry: Registry) -> bytes:
    """objects/X.object: the object's own elements (when it is deployed), then the deployed children
    grouped by element (fields, listViews, validationRules...) in name order, each sorted by fullName."""
    parent = registry.get("CustomObject")
    elements: list[ET.Element] = []
    children: dict[str, list[tuple[str, ET.Element]]] = {}
    for change in group:
        if not change.files_a:
            continue
        path, entry = next(iter(change.files_a.items()))
        if change.key.type == "CustomObject":
            obj_meta = next((e for p, e in change.files_a.items() if p.endswith(f".object{META}")), None)
            if obj_meta is not None:
                elements = list(parse(delta.blob(obj_meta), path))
            continue
        child_type = next(c for c in parent.children if c.name == change.key.type)
        root = parse(delta.blob(entry), path)
        short = change.key.name.split(".", 1)[1]
        node = ET.Element(child_type.directory)
        if text_of(root, "fullName") is None:
            full = ET.Element("fullName")
            full.text = short
            node.append(full)
        node.extend(list(root))
        children.setdefault(child_type.directory, []).append((short, node))
    for directory in sorted(children):
        elements.extend(node for _, node in sorted(children[directory], key=lambda t: t[0]))
    return serialize("CustomObject", elements)


def _merge_container(delta: Delta, group: list[Change], registry: Registry) -> tuple[str | None, str, list[ET.Element]]:
    """An in-file container's path, root tag and elements: root scalars plus the deployed children,
    in A's order."""
    container = next((c for c in group if registry.get(c.key.type).in_file_children), None)
    key = container.key if container else group[0].parent
    if key is None:
        return None, "", []
    mtype = registry.get(key.type)
    files_a = (container or group[0]).files_a
    wanted = {c.key.ident for c in group if c is not container}
    kept: list[ET.Element] = []
    for _, entry in sorted(files_a.items()):
        for elem in parse(delta.blob(entry), str(key)):
            child = mtype.child_by_element(local(elem.tag))
            name = text_of(elem, child.id_element) if child else None
            if child is None or not name:
                kept.append(elem)
                continue
            full = name if child.ignore_parent_name else f"{key.name}.{name}"
            if ComponentKey(child.name, full).ident in wanted:
                kept.append(elem)
    # sf merges every labels file of the project into one labels/CustomLabels.labels
    stem = "CustomLabels" if mtype.name == "CustomLabels" else key.name
    return posixpath.normpath(f"{mtype.directory}/{stem}.{mtype.suffix}"), mtype.name, kept
