"""Just enough Apex understanding for deploy checks: names, test methods, symbol references.

Apex cannot run in the emulator. These helpers look at the source text only: strip comments and
strings, check braces, find the declared class/trigger, test methods, and the names it refers to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_STRINGS = re.compile(r"'(?:\\.|[^'\\\n])*'")
_CLASS_DECL = re.compile(r"\b(?:class|interface|enum)\s+([A-Za-z_]\w*)", re.I)
_TRIGGER_DECL = re.compile(r"^\s*trigger\s+([A-Za-z_]\w*)\s+on\s+([A-Za-z_]\w*)\s*\(", re.I | re.M)
_EXTENDS = re.compile(r"\b(extends|implements)\s+([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)", re.I)
_TEST_METHOD = re.compile(
    r"(?:@isTest(?:\([^)]*\))?\s+(?:(?:public|private|global|static|protected)\s+)*void\s+([A-Za-z_]\w*)\s*\("
    r"|\btestMethod\s+(?:(?:public|private|global|static)\s+)*void\s+([A-Za-z_]\w*)\s*\()",
    re.I,
)
_CLASS_IS_TEST = re.compile(r"@isTest\b[^{;]*?\bclass\b", re.I | re.S)
_SOQL = re.compile(r"\[\s*SELECT\s+(.*?)\s+FROM\s+([A-Za-z_]\w*)", re.I | re.S)
_CT = r"([A-Za-z]\w*__(?:c|mdt|e))"
# places where a custom sObject name is used as a type (not as a field name)
_CUSTOM_TYPE_USES = (
    re.compile(rf"\bnew\s+{_CT}\s*[(\[]"),
    re.compile(rf"\bFROM\s+{_CT}\b", re.I),
    re.compile(rf"<\s*{_CT}\s*>"),
    re.compile(
        rf"(?<![.\w]){_CT}\s*\.\s*(?:getInstance|getOrgDefaults|getValues|getAll|SObjectType|getSObjectType)\b", re.I
    ),
    re.compile(
        rf"(?<![.\w]){_CT}\s+(?!(?:ASC|DESC|NULLS|FIRST|LAST|AND|OR|NOT|IN|LIKE|LIMIT|OFFSET|INCLUDES|EXCLUDES)\b)"
        r"[A-Za-z_]\w*\s*[=;,)]",
        re.I,
    ),
)
_WORD = re.compile(r"\b([A-Za-z_]\w*)\b")
# standard supertypes a class may extend or implement without defining them
STANDARD_SUPERTYPES = frozenset(
    s.lower()
    for s in (
        "Exception",
        "Comparable",
        "Iterable",
        "Iterator",
        "Schedulable",
        "Queueable",
        "Callable",
        "Finalizer",
        "HttpCalloutMock",
        "WebServiceMock",
        "StubProvider",
        "InstallHandler",
        "UninstallHandler",
        "Messaging.InboundEmailHandler",
    )
)


@dataclass(frozen=True)
class ApexProblem:
    """A compile-style problem with its position (1-based)."""

    message: str
    line: int
    column: int


def strip_code(body: str) -> str:
    """Body with comments and string literals blanked out (same length, positions preserved)."""

    def blank(m: re.Match[str]) -> str:
        return "".join("\n" if ch == "\n" else " " for ch in m.group(0))

    return _STRINGS.sub(blank, _COMMENTS.sub(blank, body))


def position(body: str, offset: int) -> tuple[int, int]:
    """(line, column) of an offset, both 1-based."""
    line = body.count("\n", 0, offset) + 1
    col = offset - (body.rfind("\n", 0, offset) + 1) + 1
    return line, col


def brace_problem(code: str) -> ApexProblem | None:
    """Unbalanced braces, reported the way the Apex compiler words it."""
    depth = 0
    for i, ch in enumerate(code):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                line, col = position(code, i)
                return ApexProblem("Unexpected token '}'.", line, col)
    if depth > 0:
        line, col = position(code, len(code))
        return ApexProblem("Expecting '}' but was: '<EOF>'", line, col)
    return None


def declared_class(code: str) -> tuple[str, int] | None:
    """(name, offset) of the first class/interface/enum declared."""
    m = _CLASS_DECL.search(code)
    return (m.group(1), m.start(1)) if m else None


def declared_classes(code: str) -> set[str]:
    """Every class/interface/enum name declared in the file (outer and inner), lower-cased."""
    return {m.group(1).lower() for m in _CLASS_DECL.finditer(code)}


def declared_trigger(code: str) -> tuple[str, str, int] | None:
    """(trigger name, sObject, offset of the sObject name) of a trigger declaration."""
    m = _TRIGGER_DECL.search(code)
    return (m.group(1), m.group(2), m.start(2)) if m else None


def is_test_class(body: str) -> bool:
    """True when the class is annotated @isTest or declares test methods."""
    code = strip_code(body)
    return bool(_CLASS_IS_TEST.search(code) or _TEST_METHOD.search(code))


def test_methods(body: str) -> list[str]:
    """Names of the test methods of a test class, in source order."""
    code = strip_code(body)
    return [m.group(1) or m.group(2) for m in _TEST_METHOD.finditer(code)]


def supertypes(code: str) -> list[tuple[str, int]]:
    """(name, offset) of every extends/implements target that is not a standard type."""
    out = []
    for m in _EXTENDS.finditer(code):
        start = m.start(2)
        for part in m.group(2).split(","):
            name = part.strip()
            offset = start + m.group(2).find(part) + (len(part) - len(part.lstrip()))
            if name and name.lower() not in STANDARD_SUPERTYPES and "." not in name:
                out.append((name, offset))
    return out


def custom_types(code: str) -> list[tuple[str, int]]:
    """(name, offset) of custom sObject names (X__c, X__mdt, X__e) used as types, in source order."""
    found = {(m.group(1), m.start(1)) for rx in _CUSTOM_TYPE_USES for m in rx.finditer(code)}
    return sorted(found, key=lambda t: t[1])


def soql_selects(code: str) -> list[tuple[str, list[tuple[str, int]]]]:
    """(FROM object, [(field, offset)]) for inline SOQL; only plain field names (no paths/functions)."""
    out = []
    for m in _SOQL.finditer(code):
        fields = []
        base = m.start(1)
        for fm in re.finditer(r"[^,]+", m.group(1)):
            name = fm.group(0).strip()
            if re.fullmatch(r"[A-Za-z_]\w*", name):
                fields.append((name, base + fm.start() + (len(fm.group(0)) - len(fm.group(0).lstrip()))))
        out.append((m.group(2), fields))
    return out


def words(code: str) -> set[str]:
    """Every identifier in the code, lower-cased."""
    return {w.lower() for w in _WORD.findall(code)}


def first_word(code: str, word: str) -> tuple[int, int]:
    """(line, column) of the first occurrence of an identifier (case-insensitive), (1, 1) if none."""
    m = re.search(rf"\b{re.escape(word)}\b", code, re.I)
    return position(code, m.start()) if m else (1, 1)


def length_without_comments(body: str) -> int:
    """ApexClass.LengthWithoutComments."""
    return len(_COMMENTS.sub("", body))
