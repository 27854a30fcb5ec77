"""The Salesforce metadata type registry (sfops's compact copy) and source path -> component resolution.

The data file `sfops/data/metadata-registry.json` is derived from Salesforce's source-deploy-retrieve
registry (Apache-2.0) by `scripts/build_registry.py`. This module answers "which component does this
source-format file belong to?" the way `sf` does: strict directories first (objects/, lwc/, aura/,
staticresources/...), then the file suffix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

META = "-meta.xml"

# layouts sfops converts itself; anything else the registry knows is reported as unsupported
SUPPORTED_ADAPTERS = frozenset(
    {
        "default",
        "matchingContentFile",
        "bundle",
        "mixedContent",
        "staticResource",
        "decomposed:folderPerType",
        "nonDecomposed",
    }
)


@dataclass(frozen=True)
class MetadataType:
    """One Metadata API type as sfops needs it."""

    name: str
    directory: str
    suffix: str | None
    adapter: str
    strict_directory: bool = False
    in_folder: bool = False
    folder_type: str | None = None
    children: tuple[ChildType, ...] = ()
    parent: str | None = None

    @property
    def supported(self) -> bool:
        return self.adapter in SUPPORTED_ADAPTERS

    @property
    def in_file_children(self) -> tuple[ChildType, ...]:
        """Children stored as elements inside the parent's one file (Workflow rules, CustomLabels labels)."""
        return tuple(c for c in self.children if c.xml_element)

    def child_by_directory(self, directory: str) -> ChildType | None:
        return next((c for c in self.children if c.directory == directory), None)

    def child_by_element(self, element: str) -> ChildType | None:
        return next((c for c in self.children if c.xml_element == element), None)


@dataclass(frozen=True)
class ChildType:
    """A child type: a decomposed file (CustomField) or an element in the parent's file (WorkflowRule)."""

    name: str
    directory: str
    suffix: str
    xml_element: str | None = None
    id_element: str = "fullName"
    ignore_parent_name: bool = False
    addressable: bool = True


@dataclass(frozen=True)
class ComponentKey:
    """(type, fullName). Salesforce names are case-insensitive, so `ident` is what identity uses."""

    type: str
    name: str

    @property
    def ident(self) -> tuple[str, str]:
        return (self.type, self.name.casefold())

    def __str__(self) -> str:
        return f"{self.type}:{self.name}"


@dataclass(frozen=True)
class SourceFile:
    """A source-format file resolved to its component and its role in that component."""

    path: str
    key: ComponentKey
    role: str  # content | meta | bundle | object | child | file
    parent: ComponentKey | None = None
    sub: str = ""  # its path below the type's folder in the Metadata API package (flat: Foo.cls)


@dataclass(frozen=True)
class Unresolved:
    """A file inside a package directory that maps to no type (or to a type sfops cannot convert)."""

    path: str
    reason: str
    type: str | None = None


class Registry:
    """Type lookups by name, directory and suffix."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.source = data.get("source", "")
        self.types: dict[str, MetadataType] = {}
        self._by_suffix: dict[str, str] = {}
        self._child_by_suffix: dict[str, tuple[str, ChildType]] = {}
        self._strict_dirs: dict[str, str] = dict(data.get("strictDirectoryNames", {}))
        self._suffixes: dict[str, str] = dict(data.get("suffixes", {}))
        for name, raw in data["types"].items():
            children = tuple(
                ChildType(
                    name=cname,
                    directory=c.get("directoryName", ""),
                    suffix=c.get("suffix", ""),
                    xml_element=c.get("xmlElementName"),
                    id_element=c.get("uniqueIdElement", "fullName"),
                    ignore_parent_name=bool(c.get("ignoreParentName")),
                    addressable=c.get("isAddressable", True) is not False,
                )
                for cname, c in sorted(raw.get("children", {}).items())
            )
            mtype = MetadataType(
                name=name,
                directory=raw["directoryName"],
                suffix=raw.get("suffix"),
                adapter=raw.get("adapter", "default"),
                strict_directory=bool(raw.get("strictDirectoryName")),
                in_folder=bool(raw.get("inFolder")),
                folder_type=raw.get("folderType"),
                children=children,
            )
            self.types[name] = mtype
            if mtype.suffix:
                self._by_suffix.setdefault(mtype.suffix, name)
            if raw.get("legacySuffix"):
                self._by_suffix.setdefault(raw["legacySuffix"], name)
            if mtype.strict_directory:
                self._strict_dirs.setdefault(mtype.directory, name)
            for child in children:
                self._child_by_suffix.setdefault(child.suffix, (name, child))
        for parent in list(self.types.values()):
            for child in parent.children:
                if child.name not in self.types:
                    self.types[child.name] = MetadataType(
                        name=child.name,
                        directory=child.directory,
                        suffix=child.suffix,
                        adapter="child",
                        parent=parent.name,
                    )

    def get(self, name: str) -> MetadataType:
        return self.types[name]

    def resolve(self, rel: str, path: str) -> SourceFile | Unresolved:
        """Resolve `rel` (path inside a package directory) of the repo file `path`, as SDR does: a strict
        folder anywhere in the path whose type fits the file wins (objects/, lwc/, staticresources/,
        siteDotComSites/...), then the `-meta.xml` suffix, then the file extension (a strict type only in
        its own folder). Any other folder layout is free: `utilities/Foo.cls` is ApexClass Foo."""
        parts = rel.split("/")
        for i, segment in enumerate(parts[:-1]):
            type_name = self._strict_dirs.get(segment)
            if type_name:
                found = self._resolve_strict(self.types[type_name], parts[i + 1 :], path)
                if found is not None:
                    return found
        return self._resolve_by_suffix(parts, path)

    def _resolve_strict(self, mtype: MetadataType, rest: list[str], path: str) -> SourceFile | Unresolved | None:
        if not rest:
            return None
        if mtype.adapter == "bundle":
            if len(rest) < 2:
                return Unresolved(path, f"file directly under the {mtype.directory}/ bundle folder", mtype.name)
            return SourceFile(path, ComponentKey(mtype.name, rest[0]), "bundle", sub="/".join(rest))
        if mtype.adapter == "decomposed:folderPerType":
            return self._resolve_decomposed(mtype, rest, path)
        if mtype.adapter in ("staticResource", "mixedContent"):
            return self._resolve_mixed(mtype, rest, path)
        filename = rest[-1]
        if (
            mtype.suffix
            and len(rest) == 1
            and (
                filename.endswith(f".{mtype.suffix}{META}")
                or (mtype.adapter == "matchingContentFile" and filename.endswith(f".{mtype.suffix}"))
            )
        ):
            return self._by_type(mtype, rest, path)
        return None  # the folder's type does not fit the file: the suffix decides

    def _resolve_decomposed(self, mtype: MetadataType, rest: list[str], path: str) -> SourceFile | Unresolved:
        obj = rest[0]
        parent = ComponentKey(mtype.name, obj)
        if len(rest) == 2 and rest[1] == f"{obj}.{mtype.suffix}{META}":
            return SourceFile(path, parent, "object")
        if len(rest) == 3:
            child = mtype.child_by_directory(rest[1])
            ending = f".{child.suffix}{META}" if child else ""
            if child and rest[2].endswith(ending):
                name = rest[2][: -len(ending)]
                return SourceFile(path, ComponentKey(child.name, f"{obj}.{name}"), "child", parent)
        return Unresolved(path, f"not a recognised {mtype.name} file", mtype.name)

    def _resolve_mixed(self, mtype: MetadataType, rest: list[str], path: str) -> SourceFile | Unresolved:
        prefix = ""
        if mtype.in_folder:
            if len(rest) == 1:
                return self._resolve_by_suffix(rest, path)  # the folder's own -meta.xml
            prefix, rest = rest[0] + "/", rest[1:]
        first = rest[0]
        sub = prefix + "/".join(rest)
        meta_end = f".{mtype.suffix}{META}" if mtype.suffix else META
        if len(rest) == 1 and first.endswith(meta_end):
            stem = first[: -len(meta_end)] if mtype.suffix else first.split(".", 1)[0]
            return SourceFile(path, ComponentKey(mtype.name, prefix + stem), "meta", sub=sub)
        if len(rest) == 1:
            stem = first.split(".", 1)[0]
            return SourceFile(path, ComponentKey(mtype.name, prefix + stem), "content", sub=sub)
        return SourceFile(path, ComponentKey(mtype.name, prefix + first), "bundle", sub=sub)

    def _type_by_suffix(self, suffix: str) -> str | None:
        return self._suffixes.get(suffix) or self._by_suffix.get(suffix)

    def _resolve_by_suffix(self, parts: list[str], path: str) -> SourceFile | Unresolved:
        filename = parts[-1]
        is_meta = filename.endswith(META)
        base = filename[: -len(META)] if is_meta else filename
        if "." not in base:
            return Unresolved(path, "no metadata suffix")
        suffix = base.rsplit(".", 1)[1]
        type_name = self._type_by_suffix(suffix)
        if type_name is not None and not is_meta:
            mtype = self.types[type_name]
            # a content file's extension names a strict type only inside that type's folder (SDR)
            if mtype.strict_directory and (len(parts) < 2 or parts[-2] != mtype.directory):
                type_name = None
        if type_name is None:
            if suffix in self._child_by_suffix:
                parent, child = self._child_by_suffix[suffix]
                return Unresolved(path, f"decomposed {parent} layout (beta preset) is not supported", child.name)
            return Unresolved(path, f"unknown metadata suffix .{suffix}")
        return self._by_type(self.types[type_name], parts, path)

    def _by_type(self, mtype: MetadataType, parts: list[str], path: str) -> SourceFile | Unresolved:
        """The component of a single-file or matching-content-file type; in-folder types (reports,
        email templates...) are named Folder/Name from the path below the type's folder."""
        filename = parts[-1]
        is_meta = filename.endswith(META)
        base = filename[: -len(META)] if is_meta else filename
        stem = base.rsplit(".", 1)[0]
        folder = ""
        if mtype.in_folder or mtype.name.endswith("Folder"):
            below = parts[:-1]
            if mtype.directory in below:
                below = below[len(below) - below[::-1].index(mtype.directory) :]
            elif below:
                below = below[-1:]
            folder = "".join(f"{p}/" for p in below)
        key = ComponentKey(mtype.name, folder + stem)
        if mtype.adapter == "matchingContentFile":
            return SourceFile(path, key, "meta" if is_meta else "content", sub=folder + filename)
        if not is_meta:
            return Unresolved(path, f"{mtype.name} files end with .{mtype.suffix}{META}", mtype.name)
        if not mtype.supported:
            return Unresolved(path, f"{mtype.name} ({mtype.adapter} layout) is not supported by sfops", mtype.name)
        return SourceFile(path, key, "file", sub=folder + filename)


@cache
def load_registry() -> Registry:
    """sfops's packaged registry (read once per process)."""
    text = resources.files("sfops").joinpath("data/metadata-registry.json").read_text(encoding="utf-8")
    return Registry(json.loads(text))
