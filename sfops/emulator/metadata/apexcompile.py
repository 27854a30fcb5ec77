"""The compile-time reference check Salesforce runs on a deploy's Apex, after its components are added
and before its post-destructive changes run.

Salesforce compiles every Apex class and trigger of the deploy against the org as it will be, and
re-validates the org's classes that depend on a changed class. A call `Type.method(...)` to a class
that no longer declares `method` fails:

* in a class of the deploy: `Method does not exist or incorrect signature: void why() from the type Svc`;
* in a class of the org that the deploy does not carry (its dependency changed under it), the failure is
  reported on the deployed class: `Dependent class is invalid and needs recompilation:
  Class Audit : Method does not exist or incorrect signature: void why() from the type Svc`.

Deleting a class still referenced is refused by the engine's delete step (engine._referenced_by). Only
static-style calls through a class name are resolved here: Apex cannot run in the emulator, so instance
calls (whose receiver type needs the compiler) are not checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sfops.emulator.metadata import apex

_TOKEN = re.compile(r"[A-Za-z_][\w]*|\S")
_CALL = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\s*\.\s*([A-Za-z_]\w*)\s*\(")
_NOT_DECL = frozenset(
    {
        "new",
        "return",
        "if",
        "for",
        "while",
        "switch",
        "catch",
        "throw",
        "else",
        "do",
        "when",
        "insert",
        "update",
        "delete",
        "upsert",
        "undelete",
        "merge",
        "super",
        "this",
    }
)
# members every class has (Object methods and the implicit Type statics)
_ALWAYS = frozenset({"equals", "hashcode", "tostring", "class"})


@dataclass(frozen=True)
class CompileProblem:
    """One unresolved call: in `caller`, `owner.member(` where `owner` declares no `member`."""

    caller: str
    owner: str
    member: str
    line: int
    column: int

    @property
    def message(self) -> str:
        return f"Method does not exist or incorrect signature: void {self.member}() from the type {self.owner}"


def declared_members(code: str) -> set[str]:
    """Methods, fields, properties and inner types a class declares (lower-cased), read from tokens at
    the class body's depth and one deeper (inner types and their members)."""
    toks = _TOKEN.findall(code)
    names: set[str] = set()
    depth = paren = 0
    for i, tok in enumerate(toks):
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
        elif tok == "(":
            paren += 1
        elif tok == ")":
            paren -= 1
        if paren or depth not in (1, 2) or not (tok[0].isalpha() or tok[0] == "_"):
            continue
        prev = toks[i - 1] if i else ""
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        declared_type = prev.lower() in ("class", "interface", "enum")
        after_type = prev[:1].isalnum() or prev[:1] == "_" or prev in (">", "]")
        declared_member = (
            nxt in ("(", "=", ";", "{", ",")
            and after_type
            and prev.lower() not in _NOT_DECL
            and tok.lower() not in _NOT_DECL
        )
        if declared_type or declared_member:
            names.add(tok.lower())
    if depth == 0:
        for m in re.finditer(r"\benum\s+\w+\s*\{([^}]*)\}", code, re.I):  # enum values
            names.update(v.strip().lower() for v in m.group(1).split(",") if v.strip())
    return names


def unresolved_calls(bodies: list[tuple[str, str, str]], changed: set[str]) -> list[CompileProblem]:
    """Calls `Class.member(` that the org's classes no longer resolve, for callers that are `changed`
    (deployed) or that call a changed class. `bodies` are (componentType, name, code without comments
    and strings) of every Apex class and trigger in the org after the deploy's additions."""
    classes = {name.lower(): code for ctype, name, code in bodies if ctype == "ApexClass"}
    declared: dict[str, set[str]] = {}
    problems = []
    for _ctype, name, code in bodies:
        for m in _CALL.finditer(code):
            owner, member = m.group(1), m.group(2)
            key = owner.lower()
            if key not in classes or (name.lower() not in changed and key not in changed):
                continue
            if key not in declared:
                declared[key] = declared_members(classes[key])
            if member.lower() in declared[key] or member.lower() in _ALWAYS:
                continue
            line, col = apex.position(code, m.start(2))
            problems.append(CompileProblem(name, owner, member, line, col))
    return problems
