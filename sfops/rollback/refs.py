"""The reference graph used to order deletions: who refers to whom, and which symbols a revert removes.

Heuristic and conservative by design: a reference is a whole-word, case-insensitive mention in the
right context (Apex type and member names, `Object.Field` or a field name inside something scoped to
its object, `$Label.X`, `c-lwc-name`, `$Resource.X`, workflow action names...). Apex is tokenised:
comments and string literals are not references, and declarations are read from tokens (one-line
bodies, inner `class X extends Y {`), not lines. Each node's identifiers are indexed once, so a
reference check is a set lookup before any regex runs. Non-code files (static resources, documents)
are never referrers, and a test class can only be referenced by another test class.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache

from sfops.rollback.registry import ComponentKey

APEX_TYPES = frozenset({"ApexClass", "ApexTrigger"})
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_WORDS = re.compile(r"[A-Za-z_$][\w$]*")
_IS_TEST = re.compile(r"@\s*isTest\b", re.I)
APEX_CALLERS = APEX_TYPES | {"ApexPage", "ApexComponent", "LightningComponentBundle", "AuraDefinitionBundle"}
NOT_REFERRERS = frozenset({"StaticResource", "Document", "ContentAsset"})
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
_PICKLIST_VALUE = re.compile(r"<value>\s*<fullName>([^<]+)</fullName>", re.S)


_APEX_LEX_FLAT = re.compile(r"//[^\n]*|/\*.*?\*/|'(?:\\.|[^'\\\n])*'|[A-Za-z_$][\w$]*|\S", re.S)


def apex_tokens(source: str) -> list[str]:
    """Apex code as tokens: identifiers and punctuation; comments dropped, each string literal one `''`."""
    return [
        "''" if t[0] == "'" else t
        for t in _APEX_LEX_FLAT.findall(source)
        if not (t[0] == "/" and len(t) > 1 and t[1] in "/*")
    ]


_COMMENT_OR_STRING = re.compile(r"//[^\n]*|/\*.*?\*/|'(?:\\.|[^'\\\n])*'", re.S)


def blank_apex(source: str) -> str:
    """Apex with comments blanked and every string literal reduced to `''` (layout otherwise kept)."""
    return _COMMENT_OR_STRING.sub(lambda m: "''" if m.group(0).startswith("'") else " ", source)


@dataclass
class Node:
    """A component's text at one ref, with the object it is scoped to (if any).

    `code` is what references are searched in (Apex: comments and strings blanked); `tokens` its
    identifiers, lower-cased, computed once."""

    key: ComponentKey
    text: str
    scope: str | None = None
    container: ComponentKey | None = None
    lower: str = field(init=False, repr=False)
    code: str = field(init=False, repr=False)
    tokens: frozenset[str] = field(init=False, repr=False)
    is_test: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.key.type in APEX_TYPES:
            self.code = blank_apex(self.text)
            self.is_test = bool(_IS_TEST.search(self.code))
        else:
            self.code = self.text
            self.is_test = False
        self.lower = self.code.casefold()
        self.tokens = frozenset(w.casefold() for w in _WORDS.findall(self.code))


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
def _dotted(member: str) -> re.Pattern[str]:
    return re.compile(rf"\.\s*{re.escape(member)}(?![\w$])")


@cache
def _needles(target: ComponentKey) -> tuple[str, ...]:
    """Cheap substrings one of which any reference to `target` must contain (a pre-filter)."""
    short = target.name.rsplit(".", 1)[-1].rsplit("/", 1)[-1].casefold()
    if target.type == "LightningComponentBundle":
        return (short, _kebab(target.name.rsplit("/", 1)[-1]))
    return (short,)


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"-\1", name).lower()


def _mentions(referrer: Node, needle: str) -> bool:
    if _WORDS.fullmatch(needle):
        return needle in referrer.tokens
    return needle in referrer.lower


def references(referrer: Node, target: ComponentKey, target_is_test: bool = False) -> bool:
    """Does `referrer` mention `target` in a way that breaks if `target` disappears?"""
    if (
        referrer.key.ident == target.ident
        or referrer.key.type in NOT_REFERRERS
        or not any(_mentions(referrer, n) for n in _needles(target))
    ):
        return False
    if target_is_test and not referrer.is_test:
        return False  # only test code can use a test class (Apex refuses it elsewhere)
    if target.type in ("ApexClass", "ApexTrigger", "ApexPage", "ApexComponent") and referrer.key.type in APEX_TYPES:
        return True  # the token check above is exact for Apex
    text = referrer.code
    t, name = target.type, target.name
    if t == "CustomField":  # Obj.Field, or the field's name inside something scoped to (or naming) its object
        obj, fld = name.casefold().split(".", 1)
        return fld in referrer.tokens and ((referrer.scope or "").casefold() == obj or obj in referrer.tokens)
    if t == "CustomLabel":
        return bool(re.search(rf"(?:\$?Label\.|label/c\.){re.escape(name)}(?!\w)", text, re.I))
    if t == "LightningComponentBundle":
        return bool(
            re.search(
                rf"(?:c-{re.escape(_kebab(name))}(?![\w-])|c:{re.escape(name)}(?!\w)|"
                rf"c__{re.escape(name)}(?!\w))",
                text,
                re.I,
            )
        )
    if t == "AuraDefinitionBundle":
        return bool(re.search(rf"c:{re.escape(name)}(?!\w)", text, re.I))
    if t == "StaticResource":
        return bool(re.search(rf"(?:\$Resource\.|resourceUrl/){re.escape(name)}(?!\w)", text, re.I))
    if t == "CustomMetadata":
        mdt, record = name.split(".", 1)
        return bool(_word(f"{mdt}__mdt").search(text)) and bool(re.search(rf"['>]{re.escape(record)}['<]", text))
    if target.type.startswith("Workflow") or t in (
        "ValidationRule",
        "RecordType",
        "ListView",
        "WebLink",
        "CompactLayout",
        "FieldSet",
        "BusinessProcess",
    ):
        obj, child = name.split(".", 1)
        if t.startswith("Workflow") and referrer.container and referrer.container.name.casefold() == obj.casefold():
            return bool(re.search(rf">\s*{re.escape(child)}\s*<", text))
        return bool(re.search(rf"(?<![\w$]){re.escape(obj)}\s*\.\s*{re.escape(child)}(?!\w)", text, re.I))
    if _WORDS.fullmatch(name):
        return name.casefold() in referrer.tokens
    return bool(_word(name).search(text))


class RefIndex:
    """Nodes indexed by identifier once, so that finding who references a target looks at the few nodes
    that mention its name instead of running a regex over every node (planning stays near-linear)."""

    def __init__(self, nodes: Iterable[Node]) -> None:
        self.nodes = list(nodes)
        self.by_token: dict[str, list[Node]] = {}
        for node in self.nodes:
            for token in node.tokens:
                self.by_token.setdefault(token, []).append(node)

    def candidates(self, words: Iterable[str]) -> list[Node]:
        """Nodes that mention any of `words` (all nodes when a word is not an identifier)."""
        seen: dict[int, Node] = {}
        for word in words:
            if not _WORDS.fullmatch(word):
                return self.nodes
            for node in self.by_token.get(word.casefold(), ()):
                seen[id(node)] = node
        return list(seen.values())

    def referrers(self, target: ComponentKey, target_is_test: bool = False) -> list[Node]:
        """Every node that references `target`."""
        return [n for n in self.candidates(_needles(target)) if references(n, target, target_is_test)]

    def users(self, symbol: RemovedSymbol) -> list[Node]:
        """Every node that uses a removed (or added) symbol; an Apex member only from code (Apex, pages,
        Lightning bundles): a description or a custom-metadata value naming it is not a call."""
        if symbol.kind == "apex member":
            return [n for n in self.candidates([symbol.symbol]) if n.key.type in APEX_CALLERS and symbol.matcher(n)]
        return [n for n in self.candidates([symbol.owner.name.rsplit(".", 1)[-1]]) if symbol.matcher(n)]


@lru_cache(maxsize=8192)
def apex_members(source: str) -> frozenset[str]:
    """Names of methods, properties, fields and inner types declared in an Apex class (lower-cased),
    read from tokens at the class body's brace depth (and one level deeper for inner types)."""
    toks = apex_tokens(source)
    names: set[str] = set()
    depth = 0
    paren = 0
    for i, tok in enumerate(toks):
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
        elif tok == "(":
            paren += 1
        elif tok == ")":
            paren -= 1
        if paren or depth not in (1, 2) or not _WORDS.fullmatch(tok):
            continue
        prev = toks[i - 1] if i else ""
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        declared_type = prev.casefold() in ("class", "interface", "enum")
        declared_member = (
            nxt in ("(", "=", ";", "{", ",")
            and (_WORDS.fullmatch(prev) or prev in (">", "]"))
            and prev.casefold() not in _NOT_DECL
            and tok.casefold() not in _NOT_DECL
        )
        if declared_type or declared_member:
            names.add(tok.casefold())
    return frozenset(names)


def removed_apex_members(key: ComponentKey, text_a: str, text_b: str) -> list[RemovedSymbol]:
    """Members B's version of a class declares and A's does not."""
    gone = sorted(apex_members(text_b) - apex_members(text_a) - {key.name.casefold()})
    symbols = []
    for member in gone:

        def match(node: Node, m: str = member, owner: str = key.name.casefold()) -> bool:
            # both names are tokens of the node; then `.member` (Owner.member, or a call on an Owner value)
            if m not in node.tokens or owner not in node.tokens:
                return False
            return f".{m}" in node.lower and bool(_dotted(m).search(node.lower))

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
