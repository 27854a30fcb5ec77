"""The reference graph used to order deletions: who refers to whom, and which symbols a revert removes.

Heuristic and conservative by design: a reference is a whole-word, case-insensitive mention in the
right context (Apex type and member names, `Object.Field` or a field name inside something scoped to
its object, `$Label.X`, `c-lwc-name`, `$Resource.X`, workflow action names...). Apex comments are
ignored. A false positive only moves a deletion to the safe side (POST) or is explained in the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from sfops.rollback.registry import ComponentKey

APEX_TYPES = frozenset({"ApexClass", "ApexTrigger"})
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_MEMBER_DECL = re.compile(
    r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|protected|global|static|final|override|virtual|"
    r"abstract|webservice|transient|with sharing|without sharing|inherited sharing)\s+)+"
    r"(?:[\w.<>,\s\[\]]+?\s+)?(\w+)\s*(?:\(|=|;|\{)", re.M | re.I)
_PICKLIST_VALUE = re.compile(r"<value>\s*<fullName>([^<]+)</fullName>", re.S)


@dataclass
class Node:
    """A component's text at one ref, with the object it is scoped to (if any)."""

    key: ComponentKey
    text: str
    scope: str | None = None
    container: ComponentKey | None = None
    lower: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.lower = self.text.casefold()


@dataclass
class RemovedSymbol:
    """Something the revert takes away although its owner stays: an Apex member or a picklist value."""

    owner: ComponentKey
    symbol: str
    kind: str  # apex member | picklist value
    matcher: Callable[[Node], bool] = field(repr=False, compare=False, default=lambda n: False)

    def describe(self) -> str:
        if self.kind == "apex member":
            return f"{self.owner.name}.{self.symbol}()"
        return f"picklist value '{self.symbol}' of {self.owner.name}"


@cache
def _word(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w$]){re.escape(name)}(?![\w])", re.I)


def strip_apex_comments(text: str) -> str:
    return _COMMENTS.sub(" ", text)


def object_scope(key: ComponentKey, container: ComponentKey | None) -> str | None:
    """The object a component belongs to (for unqualified field names)."""
    if container is not None and container.type in ("CustomObject", "Workflow", "SharingRules"):
        return container.name
    if "." in key.name and key.type not in ("CustomMetadata", "CustomLabel"):
        return key.name.split(".", 1)[0]
    if key.type in ("Layout",) and "-" in key.name:
        return key.name.split("-", 1)[0]
    if key.type in ("CustomObject", "Workflow", "SharingRules"):
        return key.name
    return None


@cache
def _needles(target: ComponentKey) -> tuple[str, ...]:
    """Cheap substrings one of which any reference to `target` must contain (a pre-filter)."""
    short = target.name.rsplit(".", 1)[-1].rsplit("/", 1)[-1].casefold()
    if target.type == "LightningComponentBundle":
        return (short, _kebab(target.name.rsplit("/", 1)[-1]))
    return (short,)


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"-\1", name).lower()


def references(referrer: Node, target: ComponentKey) -> bool:
    """Does `referrer` mention `target` in a way that breaks if `target` disappears?"""
    if referrer.key.ident == target.ident or not any(n in referrer.lower for n in _needles(target)):
        return False
    text = referrer.text
    t, name = target.type, target.name
    if t == "CustomField":
        obj, fld = name.split(".", 1)
        if re.search(rf"(?<![\w$]){re.escape(obj)}\s*\.\s*{re.escape(fld)}(?!\w)", text, re.I):
            return True
        in_scope = (referrer.scope or "").casefold() == obj.casefold() or bool(_word(obj).search(text))
        return in_scope and bool(_word(fld).search(text))
    if t == "CustomLabel":
        return bool(re.search(rf"(?:\$?Label\.|label/c\.){re.escape(name)}(?!\w)", text, re.I))
    if t == "LightningComponentBundle":
        return bool(re.search(rf"(?:c-{re.escape(_kebab(name))}(?![\w-])|c:{re.escape(name)}(?!\w)|"
                              rf"c__{re.escape(name)}(?!\w))", text, re.I))
    if t == "AuraDefinitionBundle":
        return bool(re.search(rf"c:{re.escape(name)}(?!\w)", text, re.I))
    if t == "StaticResource":
        return bool(re.search(rf"(?:\$Resource\.|resourceUrl/){re.escape(name)}(?!\w)", text, re.I))
    if t == "CustomMetadata":
        mdt, record = name.split(".", 1)
        return bool(_word(f"{mdt}__mdt").search(text)) and bool(
            re.search(rf"['>]{re.escape(record)}['<]", text))
    if target.type.startswith("Workflow") or t in ("ValidationRule", "RecordType", "ListView", "WebLink",
                                                    "CompactLayout", "FieldSet", "BusinessProcess"):
        obj, child = name.split(".", 1)
        if t.startswith("Workflow") and referrer.container and referrer.container.name.casefold() == obj.casefold():
            return bool(re.search(rf">\s*{re.escape(child)}\s*<", text))
        return bool(re.search(rf"(?<![\w$]){re.escape(obj)}\s*\.\s*{re.escape(child)}(?!\w)", text, re.I))
    return bool(_word(name).search(text))


def apex_members(source: str) -> set[str]:
    """Names of methods, properties and inner types declared in an Apex class (lower-cased)."""
    return {m.group(1).casefold() for m in _MEMBER_DECL.finditer(strip_apex_comments(source))}


def removed_apex_members(key: ComponentKey, text_a: str, text_b: str) -> list[RemovedSymbol]:
    """Members B's version of a class declares and A's does not."""
    gone = sorted(apex_members(text_b) - apex_members(text_a) - {key.name.casefold()})
    symbols = []
    for member in gone:
        qualified = re.compile(rf"(?<![\w$]){re.escape(key.name)}\s*\.\s*{re.escape(member)}(?!\w)", re.I)
        called = re.compile(rf"\.\s*{re.escape(member)}\s*\(", re.I)
        owner_word = _word(key.name)

        def match(node: Node, q: re.Pattern[str] = qualified, c: re.Pattern[str] = called,
                  o: re.Pattern[str] = owner_word) -> bool:
            return bool(q.search(node.text)) or (bool(o.search(node.text)) and bool(c.search(node.text)))

        symbols.append(RemovedSymbol(key, member, "apex member", match))
    return symbols


def removed_picklist_values(key: ComponentKey, text_a: str, text_b: str) -> list[RemovedSymbol]:
    """Picklist values B's version of a field has and A's does not."""
    values_a = {v.strip().casefold() for v in _PICKLIST_VALUE.findall(text_a)}
    gone = [v.strip() for v in _PICKLIST_VALUE.findall(text_b) if v.strip().casefold() not in values_a]
    obj, fld = key.name.split(".", 1)
    symbols = []
    for value in gone:
        literal = re.compile(rf"(?:'{re.escape(value)}'|\"{re.escape(value)}\"|>\s*{re.escape(value)}\s*<)")
        target = ComponentKey("CustomField", key.name)

        def match(node: Node, lit: re.Pattern[str] = literal, tgt: ComponentKey = target) -> bool:
            return bool(lit.search(node.text)) and references(node, tgt)

        symbols.append(RemovedSymbol(ComponentKey("CustomField", f"{obj}.{fld}"), value, "picklist value", match))
    return symbols
