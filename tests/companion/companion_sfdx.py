"""Helpers for the companion tests: read the SFDX source tree and the manifest, derive components,
and a small static scanner for SOQL/DML inside Apex loops."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from defusedxml import ElementTree
from paths import REPO

MD_NS = "http://soap.sforce.com/2006/04/metadata"
FORCE_APP = REPO / "force-app"
DEFAULT = FORCE_APP / "main" / "default"
OBJECTS = DEFAULT / "objects"
CLASSES = DEFAULT / "classes"
MANIFEST = REPO / "metadata" / "package.xml"

# Source-format suffix -> root element, for every kind of file the companion ships.
ROOT_FOR_SUFFIX = {
    ".object-meta.xml": "CustomObject",
    ".field-meta.xml": "CustomField",
    ".listView-meta.xml": "ListView",
    ".cls-meta.xml": "ApexClass",
    ".trigger-meta.xml": "ApexTrigger",
    ".permissionset-meta.xml": "PermissionSet",
}


def q(tag: str) -> str:
    """Qualified metadata-namespace tag for ElementTree lookups."""
    return f"{{{MD_NS}}}{tag}"


def parse(path: Path):
    """Parses one XML file with defusedxml and returns its root element."""
    return ElementTree.parse(path).getroot()


def text(element, tag: str) -> str | None:
    """Text of a direct child in the metadata namespace, or None."""
    child = element.find(q(tag))
    return None if child is None else (child.text or "")


def suffix_of(path: Path) -> str | None:
    """The source-format suffix (e.g. '.field-meta.xml') of a file, if it is one we know."""
    return next((s for s in ROOT_FOR_SUFFIX if path.name.endswith(s)), None)


def source_components(root: Path = FORCE_APP) -> set[tuple[str, str]]:
    """(metadata type, fullName) pairs that `sf project generate manifest` derives from source."""
    found: set[tuple[str, str]] = set()
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        name = path.name
        if name.endswith(".object-meta.xml"):
            found.add(("CustomObject", name.removesuffix(".object-meta.xml")))
        elif name.endswith(".field-meta.xml"):
            found.add(("CustomField", f"{path.parent.parent.name}.{name.removesuffix('.field-meta.xml')}"))
        elif name.endswith(".listView-meta.xml"):
            found.add(("ListView", f"{path.parent.parent.name}.{name.removesuffix('.listView-meta.xml')}"))
        elif name.endswith(".cls"):
            found.add(("ApexClass", name.removesuffix(".cls")))
        elif name.endswith(".trigger"):
            found.add(("ApexTrigger", name.removesuffix(".trigger")))
        elif name.endswith(".permissionset-meta.xml"):
            found.add(("PermissionSet", name.removesuffix(".permissionset-meta.xml")))
        elif name.endswith("-meta.xml") and not name.endswith(".cls-meta.xml"):
            found.add(("UNKNOWN", str(path.relative_to(root))))
    return found


def manifest_components(path: Path = MANIFEST) -> tuple[list[tuple[str, str]], str | None]:
    """(type, member) pairs listed in a package.xml (in file order) and its <version>."""
    root = parse(path)
    pairs = []
    for types in root.findall(q("types")):
        type_name = text(types, "name")
        pairs.extend((type_name, m.text) for m in types.findall(q("members")))
    return pairs, text(root, "version")


@dataclass
class FieldDef:
    """The parts of a CustomField the tests look at."""

    name: str
    type: str
    root: object
    values: list[str] = field(default_factory=list)

    def get(self, tag: str) -> str | None:
        return text(self.root, tag)


def fields_of(obj: str) -> dict[str, FieldDef]:
    """Every custom field of a companion object, by API name."""
    result = {}
    for path in sorted((OBJECTS / obj / "fields").glob("*.field-meta.xml")):
        root = parse(path)
        values = [v.find(q("fullName")).text for v in root.iter(q("value")) if v.find(q("fullName")) is not None]
        result[text(root, "fullName")] = FieldDef(text(root, "fullName"), text(root, "type"), root, values)
    return result


def object_root(obj: str):
    """Root element of an object's .object-meta.xml."""
    return parse(OBJECTS / obj / f"{obj}.object-meta.xml")


# ---------------------------------------------------------------------------- Apex static checks

_COMMENT_OR_STRING = re.compile(r"//[^\n]*|/\*.*?\*/|'(?:\\.|[^'\\])*'", re.S)
_LOOP_HEAD = re.compile(r"\b(for|while)\s*\(|\bdo\s*\{")
_SOQL = re.compile(r"\[\s*(SELECT|FIND)\b", re.I)
_DML_STATEMENT = re.compile(r"(?<![.\w])(insert|update|upsert|delete|undelete|merge)\s+(?![=;,)])[\w\[(]", re.I)
_DB_CALL = re.compile(
    r"\b(Database\.(query|queryWithBinds|countQuery|getQueryLocator|insert|update|upsert|delete|undelete|merge)"
    r"|EventBus\.publish|Messaging\.sendEmail|Search\.query)\s*\(",
    re.I,
)


def strip_comments_and_strings(source: str) -> str:
    """Blanks comments and string literals, keeping newlines so line numbers stay right."""

    def blank(match: re.Match[str]) -> str:
        chunk = match.group(0)
        if chunk.startswith("'"):
            return "''"
        return re.sub(r"[^\n]", " ", chunk)

    return _COMMENT_OR_STRING.sub(blank, source)


def _matching(source: str, open_index: int, opener: str, closer: str) -> int:
    depth = 0
    for i in range(open_index, len(source)):
        if source[i] == opener:
            depth += 1
        elif source[i] == closer:
            depth -= 1
            if depth == 0:
                return i
    return len(source) - 1


def loop_bodies(source: str) -> list[tuple[int, int]]:
    """(start, end) offsets of every loop body (braced or single statement) in comment-free source."""
    bodies = []
    for match in _LOOP_HEAD.finditer(source):
        if match.group(0).startswith("do"):
            start = match.end() - 1
            bodies.append((start, _matching(source, start, "{", "}")))
            continue
        head_end = _matching(source, match.end() - 1, "(", ")")
        rest = source[head_end + 1 :]
        stripped = rest.lstrip()
        start = head_end + 1 + (len(rest) - len(stripped))
        if stripped.startswith("{"):
            bodies.append((start, _matching(source, start, "{", "}")))
        elif stripped.startswith(";"):
            continue  # `while (...);` closing a do-loop
        else:
            bodies.append((start, source.find(";", start)))
    return bodies


def soql_dml_in_loops(source: str) -> list[tuple[int, str]]:
    """(line, snippet) for every SOQL query, DML statement, publish or email call inside a loop body."""
    clean = strip_comments_and_strings(source)
    problems = set()
    for start, end in loop_bodies(clean):
        body = clean[start : end + 1]
        for pattern in (_SOQL, _DML_STATEMENT, _DB_CALL):
            for hit in pattern.finditer(body):
                offset = start + hit.start()
                line = clean.count("\n", 0, offset) + 1
                problems.add((line, clean[offset : offset + 40].splitlines()[0]))
    return sorted(problems)


_MEMBER = re.compile(
    r"(@TestVisible\s+)?\b(public|private|protected|global)\s+(?:(?:static|final|override|virtual|abstract|"
    r"transient|with sharing|without sharing|inherited sharing)\s+)*(?:class\s+(\w+)|[\w.<>, ]+?\s+(\w+)\s*[(=;{])"
)
_RANK = {"private": 0, "protected": 1, "public": 2, "global": 3}


def apex_members(source: str) -> dict[str, tuple[str, bool]]:
    """Declared members (methods, fields, inner classes) -> (most open visibility, @TestVisible)."""
    members: dict[str, tuple[str, bool]] = {}
    for match in _MEMBER.finditer(strip_comments_and_strings(source)):
        name = match.group(3) or match.group(4)
        visibility, test_visible = match.group(2), bool(match.group(1))
        old = members.get(name)
        if old is None or _RANK[visibility] > _RANK[old[0]]:
            members[name] = (visibility, test_visible or (old[1] if old else False))
        elif test_visible:
            members[name] = (old[0], True)
    return members


def cross_class_references(sources: dict[str, str], tests: set[str]) -> list[str]:
    """Problems with `Class.member` uses between the given classes: unknown or not visible members."""
    declared = {name: apex_members(src) for name, src in sources.items()}
    problems = []
    for user, src in sources.items():
        code = strip_comments_and_strings(src)
        for owner, members in declared.items():
            if owner == user:
                continue
            for member in sorted(set(re.findall(rf"(?<![\w.]){owner}\.(\w+)", code))):
                if member not in members:
                    problems.append(f"{user}: {owner}.{member} is not declared")
                    continue
                visibility, test_visible = members[member]
                if visibility in ("private", "protected") and not (test_visible and user in tests):
                    problems.append(f"{user}: {owner}.{member} is {visibility}")
    return problems
