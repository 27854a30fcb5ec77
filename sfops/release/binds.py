"""Turn an Apex inline SOQL statement into one the REST API can explain.

Bind variables (`:name`, `:acc.Id`, `:ids`, `:Trigger.newMap.keySet()`) become representative
literals chosen from the compared field's type (an id of the right object for lookups, a date for
date fields, a list for IN); Apex-only clauses (`WITH USER_MODE`, `FOR UPDATE`, `ALL ROWS`...) are
dropped since they do not change the plan.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# field type -> literal used for a bind compared with a field of that type
_LITERALS = {
    "boolean": "true",
    "int": "1",
    "double": "1",
    "currency": "1",
    "percent": "1",
    "long": "1",
    "date": "2000-01-01",
    "datetime": "2000-01-01T00:00:00Z",
    "time": "00:00:00.000Z",
}
_TEXT = "'sfops'"
_APEX_ONLY = re.compile(r"\bWITH\s+(USER_MODE|SYSTEM_MODE)\b|\bFOR\s+(UPDATE|VIEW|REFERENCE)\b|\bALL\s+ROWS\b", re.I)
_FROM = re.compile(r"\bFROM\s+([A-Za-z_][A-Za-z0-9_]*)", re.I)
_OPERATOR = re.compile(
    r"([A-Za-z_][A-Za-z0-9_.]*)\s*(=|!=|<>|<=|>=|<|>|\bNOT\s+IN\b|\bIN\b|\bLIKE\b|"
    r"\bINCLUDES\b|\bEXCLUDES\b)\s*$",
    re.I,
)
_KEYWORD_BEFORE = re.compile(r"\b(LIMIT|OFFSET)\s*$", re.I)


@dataclass(frozen=True)
class FieldType:
    """What a literal for a field needs: its type and, for lookups, the target's key prefix."""

    type: str
    key_prefix: str | None = None


FieldLookup = Callable[[str, str], FieldType | None]  # (object, field path) -> type


def main_object(soql: str) -> str | None:
    """The object of the outer FROM (subqueries in the select list are skipped)."""
    depth = 0
    for m in re.finditer(r"[()]|\bFROM\s+([A-Za-z_][A-Za-z0-9_]*)", soql, re.I):
        if m.group() == "(":
            depth += 1
        elif m.group() == ")":
            depth -= 1
        elif depth == 0:
            return m.group(1)
    return None


def _bind_end(text: str, i: int) -> int:
    """End of the Apex expression that starts at i (identifiers, dots, calls, indexes)."""
    n = len(text)
    while i < n and text[i].isspace():
        i += 1
    while i < n:
        c = text[i]
        if c.isalnum() or c in "_.":
            i += 1
        elif c in "([":
            close = ")" if c == "(" else "]"
            depth = 0
            while i < n:
                depth += text[i] == c
                depth -= text[i] == close
                i += 1
                if depth == 0:
                    break
        else:
            break
    return i


def _id_literal(prefix: str | None) -> str:
    return "'" + ((prefix or "000")[:3] + "0" * 12) + "'"


def literal_for(ftype: FieldType | None, operator: str) -> str:
    """The literal standing in for a bind compared with a field of type `ftype` by `operator`."""
    op = operator.upper()
    if ftype is None:
        value = _TEXT
    elif ftype.type in ("id", "reference"):
        value = _id_literal(ftype.key_prefix)
    elif ftype.type in _LITERALS:
        value = _LITERALS[ftype.type]
    else:
        value = _TEXT
    if op == "LIKE":
        value = "'sfops%'"
    if op.endswith("IN") or op in ("INCLUDES", "EXCLUDES"):
        return f"({value})"
    return value


def prepare(soql: str, fields: FieldLookup) -> tuple[str, list[str]]:
    """(explainable SOQL, names of the binds replaced)."""
    text = " ".join(_APEX_ONLY.sub(" ", soql).split())
    obj = main_object(text) or ""
    out: list[str] = []
    binds: list[str] = []
    i = 0
    in_string = False
    while i < len(text):
        c = text[i]
        if c == "'" and (i == 0 or text[i - 1] != "\\"):
            in_string = not in_string
        if c == ":" and not in_string:
            end = _bind_end(text, i + 1)
            name = text[i + 1 : end].strip()
            before = "".join(out)
            if _KEYWORD_BEFORE.search(before):
                value = "200" if before.rstrip().upper().endswith("LIMIT") else "0"
            else:
                m = _OPERATOR.search(before)
                value = literal_for(fields(obj, m.group(1)) if m else None, m.group(2) if m else "=")
            out.append(value)
            binds.append(name)
            i = end
            continue
        out.append(c)
        i += 1
    return "".join(out), binds


def describe_lookup(describes: Mapping[str, Mapping[str, object]], prefixes: Mapping[str, str]) -> FieldLookup:
    """A FieldLookup over describes (object name lower-cased -> describe) and key prefixes."""

    def lookup(obj: str, path: str) -> FieldType | None:
        parts = path.split(".")
        current = obj
        for k, part in enumerate(parts):
            describe = describes.get(current.lower())
            if describe is None:
                return None
            fields = describe.get("fields") or []
            assert isinstance(fields, list)
            last = k == len(parts) - 1
            match = None
            for f in fields:
                name = str(f.get("name", ""))
                rel = str(f.get("relationshipName") or "")
                if (last and name.lower() == part.lower()) or (not last and rel.lower() == part.lower()):
                    match = f
                    break
            if match is None:
                if k == 0 and part.lower() == current.lower() and len(parts) > 1:
                    continue  # `Account.Name` written with the object's own name
                return None
            targets = match.get("referenceTo") or []
            if last:
                prefix = prefixes.get(str(targets[0]).lower()) if targets else describe.get("keyPrefix")
                return FieldType(str(match.get("type")), prefix if isinstance(prefix, str) else None)
            current = str(targets[0]) if targets else current
        return None

    return lookup
