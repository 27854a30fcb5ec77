"""Reading a deploy zip: entries, package.xml, destructive changes, and the components it holds.

Everything here is parsing only (no org state). Problems that sink the whole deploy raise
``PayloadError``; problems with one component become ``Problem`` entries.
"""

from __future__ import annotations

import io
import posixpath
import xml.etree.ElementTree as StdET  # serialising only; parsing goes through defusedxml
import zipfile
from dataclasses import dataclass, field
from typing import Any

from defusedxml import ElementTree

from sfops.emulator.metadata import registry
from sfops.emulator.metadata.soapxml import MD_NS, child, children, local, text

MAX_UNZIPPED_BYTES = 400 * 1024 * 1024  # Salesforce's limit for a deploy's uncompressed size
MAX_FILES = 10_000


class PayloadError(Exception):
    """The deploy cannot start at all (reported like the real "No package.xml found")."""

    def __init__(self, problem: str, file_name: str = "package.xml") -> None:
        super().__init__(problem)
        self.problem = problem
        self.file_name = file_name


@dataclass
class Problem:
    """One component failure."""

    component_type: str
    full_name: str
    file_name: str
    problem: str
    line: int | None = None
    column: int | None = None
    problem_type: str = "Error"


@dataclass
class Comp:
    """One component in the zip (top-level file/bundle, or a child element of a container file)."""

    type: str  # componentType as reported (ApexClass, CustomField, ApexSettings, ...)
    full_name: str
    file_name: str  # as reported: path inside the zip, with its root folder
    files: dict[str, bytes] = field(default_factory=dict)  # package-relative path -> content
    element: Any = None  # parsed element for child components (a <fields> etc.)
    parent: str | None = None  # parent component's fullName for child components

    @property
    def key(self) -> str:
        return comp_key(self.type, self.full_name)


def comp_key(type_name: str, full_name: str) -> str:
    """Storage key of a component: case-insensitive like Salesforce names."""
    return f"{type_name}/{full_name}".lower()


@dataclass
class Manifest:
    """A package.xml or destructiveChanges*.xml: type -> members, in file order."""

    types: dict[str, list[str]]
    unknown_types: list[str] = field(default_factory=list)
    version: str | None = None


@dataclass
class DeployZip:
    """A deploy zip, split into its manifests and the files under the package root."""

    prefix: str  # root folder inside the zip ("" or "unpackaged/")
    files: dict[str, bytes]
    manifest: Manifest
    pre: list[Manifest]
    post: list[Manifest]


def parse_xml(data: bytes, file_name: str) -> Any:
    """Parse one metadata file with defusedxml; a Problem-shaped error on failure."""
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        line, col = getattr(exc, "position", (None, None))
        raise XmlFileError(f"Error parsing file: {_expat_message(exc)}", line, col) from exc
    except Exception as exc:  # defusedxml's DTD / entity refusals
        raise XmlFileError(f"Error parsing file: {type(exc).__name__}: {exc}", None, None) from exc


class XmlFileError(Exception):
    """A metadata file that is not well-formed XML."""

    def __init__(self, problem: str, line: int | None, column: int | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line
        self.column = column


def _expat_message(exc: Exception) -> str:
    msg = str(exc)
    return msg.split(":", 1)[0] if ": line" in msg else msg


def to_xml(elem: Any) -> bytes:
    """Serialise an element with the metadata namespace as default namespace."""
    try:
        body = StdET.tostring(elem, encoding="unicode", default_namespace=MD_NS)
    except ValueError:  # an element without namespace
        body = StdET.tostring(elem, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode()


def _safe_name(name: str) -> bool:
    if not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name:
        return False
    if len(name) > 1 and name[1] == ":":
        return False
    parts = name.split("/")
    return ".." not in parts and posixpath.normpath(name).split("/")[0] != ".."


def read_zip(data: bytes, single_package: bool) -> DeployZip:
    """Open and check a deploy zip; find package.xml and the destructive-changes manifests."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise PayloadError(f"Error reading the zip file: {exc}", "package.zip") from exc
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > MAX_FILES:
            raise PayloadError(f"Maximum number of files exceeded: {len(infos)} > {MAX_FILES}", "package.zip")
        total = sum(i.file_size for i in infos)
        if total > MAX_UNZIPPED_BYTES:
            raise PayloadError("Maximum size of the unzipped deploy exceeded (400 MB)", "package.zip")
        raw: dict[str, bytes] = {}
        for info in infos:
            if not _safe_name(info.filename):
                raise PayloadError(f"Invalid file name in zip: {info.filename}", info.filename)
            raw[info.filename] = zf.read(info)
    prefix = _find_root(raw, single_package)
    files = {name[len(prefix) :]: content for name, content in raw.items() if name.startswith(prefix)}
    manifest = parse_manifest(files["package.xml"], prefix + "package.xml")
    pre = [
        parse_manifest(files[n], prefix + n)
        for n in ("destructiveChanges.xml", "destructiveChangesPre.xml")
        if n in files
    ]
    post = [parse_manifest(files[n], prefix + n) for n in ("destructiveChangesPost.xml",) if n in files]
    return DeployZip(prefix=prefix, files=files, manifest=manifest, pre=pre, post=post)


def _find_root(raw: dict[str, bytes], single_package: bool) -> str:
    """Where package.xml sits: the zip root, or (singlePackage false, the default) one top-level folder
    such as "unpackaged/" or "My Test Package/" (jsforce's test/data/MyPackage.zip)."""
    if "package.xml" in raw:
        return ""
    if not single_package:
        roots = sorted(n[: -len("package.xml")] for n in raw if n.count("/") == 1 and n.endswith("/package.xml"))
        if roots:
            return roots[0]
    raise PayloadError("No package.xml found")


def parse_manifest(data: bytes, file_name: str) -> Manifest:
    """Parse a package.xml-shaped manifest (PayloadError when it is not readable)."""
    try:
        root = parse_xml(data, file_name)
    except XmlFileError as exc:
        raise PayloadError(exc.problem, file_name) from exc
    if local(root.tag) != "Package":
        raise PayloadError(f"Root element of {file_name} must be Package, found {local(root.tag)}", file_name)
    types: dict[str, list[str]] = {}
    unknown: list[str] = []
    for t in children(root, "types"):
        name = text(t, "name") or ""
        canonical = registry.canonical_type_name(name)
        if canonical is None:
            unknown.append(name)
            continue
        members = [(m.text or "").strip() for m in children(t, "members")]
        types.setdefault(canonical, []).extend(m for m in members if m)
    return Manifest(types=types, unknown_types=unknown, version=text(root, "version"))


def settings_type(member: str) -> str:
    """componentType of a settings file: Apex -> ApexSettings."""
    return f"{member}Settings"


class Collector:
    """Turns manifest members into Comp objects using the zip's files."""

    def __init__(self, files: dict[str, bytes], prefix: str) -> None:
        self.files = files
        self.prefix = prefix
        self.problems: list[Problem] = []
        self._containers: dict[str, Any] = {}

    def collect(self, manifest: Manifest) -> list[Comp]:
        """Every component the manifest names; problems for the ones that cannot be read."""
        out: list[Comp] = []
        seen: set[str] = set()
        for name in manifest.unknown_types:
            self.problems.append(
                Problem(
                    "",
                    "package.xml",
                    self.prefix + "package.xml",
                    f"Unknown type name '{name}' specified in package.xml",
                )
            )
        # containers first so explicit child members of an already-included container are not doubled
        ordered = sorted(
            manifest.types.items(), key=lambda kv: kv[0] not in ("CustomObject", "CustomLabels", "Workflow")
        )
        for type_name, members in ordered:
            for comp in self._members(type_name, members):
                if comp.key not in seen:
                    seen.add(comp.key)
                    out.append(comp)
        return out

    # -- per kind
    def _members(self, type_name: str, members: list[str]) -> list[Comp]:
        if type_name in registry.FOLDER_TYPES:
            return [c for m in members if (c := self._folder(type_name, m))]
        if type_name.lower() in registry.CHILD_TYPES:
            return self._child_members(type_name, members)
        mdtype = registry.type_by_name(type_name)
        if mdtype is None and type_name.endswith("Settings"):
            return [c for m in members if (c := self._file_comp(type_name, m, "settings", m + ".settings"))]
        if mdtype is None:
            return []
        if mdtype.name == "Settings":
            names = self._wildcard(mdtype) if "*" in members else members
            return [c for m in names if (c := self._file_comp(settings_type(m), m, "settings", m + ".settings"))]
        names = self._wildcard(mdtype) if "*" in members else [m for m in members if m != "*"]
        out: list[Comp] = []
        for m in names:
            comp = self._top(mdtype, m)
            if comp is None:
                continue
            out.append(comp)
            if mdtype.children:
                out.extend(self._all_children(mdtype, m))
        return out

    def _wildcard(self, mdtype: registry.MdType) -> list[str]:
        names: set[str] = set()
        d = mdtype.directory + "/"
        for path in self.files:
            if not path.startswith(d):
                continue
            rest = path[len(d) :]
            if mdtype.bundle:
                names.add(rest.split("/", 1)[0])
            elif mdtype.suffix and rest.endswith("." + mdtype.suffix) and (mdtype.in_folder or "/" not in rest):
                names.add(rest[: -len(mdtype.suffix) - 1])
        return sorted(names)

    def _top(self, mdtype: registry.MdType, member: str) -> Comp | None:
        if mdtype.bundle:
            d = f"{mdtype.directory}/{member}/"
            bundle = {p: c for p, c in self.files.items() if p.startswith(d)}
            if not bundle:
                self._not_found(mdtype.name, member, f"{mdtype.directory}/{member}")
                return None
            main = sorted(bundle, key=lambda p: (not p.endswith("-meta.xml"), p))[0]
            return (
                Comp(
                    mdtype.name,
                    member,
                    self.prefix + f"{mdtype.directory}/{member}",
                    files=bundle,
                )
                if main
                else None
            )
        if mdtype.in_folder and "/" not in member:
            path = f"{mdtype.directory}/{member}-meta.xml"
            folder_type = {v: k for k, v in registry.FOLDER_TYPES.items()}.get(mdtype.name, mdtype.name)
            return self._file_comp(folder_type, member, mdtype.directory, f"{member}-meta.xml", path)
        file_part = member + ("." + mdtype.suffix if mdtype.suffix else "")
        return self._file_comp(mdtype.name, member, mdtype.directory, file_part, meta=mdtype.meta_file)

    def _folder(self, folder_type: str, member: str) -> Comp | None:
        mdtype = registry.type_by_name(registry.FOLDER_TYPES[folder_type])
        assert mdtype is not None
        return self._file_comp(folder_type, member, mdtype.directory, f"{member}-meta.xml")

    def _file_comp(
        self, type_name: str, member: str, directory: str, file_part: str, path: str | None = None, meta: bool = False
    ) -> Comp | None:
        path = path or f"{directory}/{file_part}"
        if path not in self.files:
            self._not_found(type_name, member, path)
            return None
        files = {path: self.files[path]}
        if meta:
            meta_path = path + "-meta.xml"
            if meta_path not in self.files:
                self.problems.append(
                    Problem(type_name, member, self.prefix + path, f"Could not find the -meta.xml file for {path}")
                )
                return None
            files[meta_path] = self.files[meta_path]
        return Comp(type_name, member, self.prefix + path, files=files)

    def _not_found(self, type_name: str, member: str, path: str) -> None:
        self.problems.append(
            Problem(
                type_name,
                member,
                self.prefix + path,
                f"An object '{member}' of type {type_name} was named in package.xml, "
                "but was not found in zipped directory",
            )
        )

    # -- containers and their children
    def container(self, mdtype: registry.MdType, name: str) -> Any | None:
        """Parsed container file (objects/X.object ...), None when absent or unreadable."""
        path = f"{mdtype.directory}/{name}.{mdtype.suffix}"
        if path in self._containers:
            return self._containers[path]
        root = None
        if path in self.files:
            try:
                root = parse_xml(self.files[path], path)
            except XmlFileError as exc:
                self.problems.append(Problem(mdtype.name, name, self.prefix + path, exc.problem, exc.line, exc.column))
        self._containers[path] = root
        return root

    def _all_children(self, mdtype: registry.MdType, parent: str) -> list[Comp]:
        root = self.container(mdtype, parent)
        if root is None:
            return []
        out = []
        path = f"{mdtype.directory}/{parent}.{mdtype.suffix}"
        for element, child_type in mdtype.children.items():
            for elem in children(root, element):
                name = text(elem, "fullName") or ""
                full = name if mdtype.name == "CustomLabels" else f"{parent}.{name}"
                out.append(Comp(child_type, full, self.prefix + path, element=elem, parent=parent))
        return out

    def _child_members(self, type_name: str, members: list[str]) -> list[Comp]:
        mdtype, element = registry.CHILD_TYPES[type_name.lower()]
        out: list[Comp] = []
        if mdtype.name == "CustomLabels":
            parents = ["CustomLabels"]
        elif "*" in members:
            parents = self._wildcard(mdtype)
        else:
            parents = sorted({m.split(".", 1)[0] for m in members if "." in m})
        wanted = {m.lower() for m in members}
        for parent in parents:
            root = self.container(mdtype, parent)
            path = f"{mdtype.directory}/{parent}.{mdtype.suffix}"
            found = set()
            if root is not None:
                for elem in children(root, element):
                    name = text(elem, "fullName") or ""
                    full = name if mdtype.name == "CustomLabels" else f"{parent}.{name}"
                    if "*" in members or full.lower() in wanted:
                        found.add(full.lower())
                        out.append(Comp(type_name, full, self.prefix + path, element=elem, parent=parent))
            for m in members:
                if (
                    m != "*"
                    and m.lower() not in found
                    and (mdtype.name == "CustomLabels" or m.split(".", 1)[0].lower() == parent.lower())
                ):
                    self._not_found(type_name, m, path)
        for m in members:
            if m != "*" and "." not in m and mdtype.name != "CustomLabels":
                self._not_found(type_name, m, f"{mdtype.directory}/{m}.{mdtype.suffix}")
        return out


def strip_children(root: Any, mdtype: registry.MdType) -> Any:
    """A copy of a container element without its child-component elements."""
    clone = ElementTree.fromstring(StdET.tostring(root))
    for elem in list(clone):
        if local(elem.tag) in mdtype.children:
            clone.remove(elem)
    return clone


__all__ = [
    "Collector",
    "Comp",
    "DeployZip",
    "Manifest",
    "PayloadError",
    "Problem",
    "XmlFileError",
    "child",
    "comp_key",
    "parse_manifest",
    "parse_xml",
    "read_zip",
    "strip_children",
    "to_xml",
]
