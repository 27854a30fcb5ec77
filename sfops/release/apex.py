"""Static analysis of Apex source for the release gate: entry points, kill-switch guards, SOQL.

A small tokenizer (comments and strings are understood, so a `[SELECT` inside a comment or a
guard call inside a string does not count) and a block walker that tells classes, triggers and
methods apart by the tokens that precede each `{`. It is not a compiler: it needs no other file,
tolerates code it does not understand, and reports file and line for everything it finds.

Entry points are what the platform calls directly: triggers; `@AuraEnabled`, `@InvocableMethod`
and (in a `@RestResource` class) `@HttpGet/@HttpPost/...` methods; classes implementing
`Queueable`, `Database.Batchable` or `Schedulable`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ENTRY_ANNOTATIONS = frozenset({"auraenabled", "invocablemethod"})
REST_METHOD_ANNOTATIONS = frozenset({"httpget", "httppost", "httpput", "httppatch", "httpdelete"})
ASYNC_ENTRY_METHODS = frozenset({"execute", "start"})
ASYNC_INTERFACES = {"queueable": "Queueable", "database.batchable": "Batchable", "schedulable": "Schedulable"}
NOT_METHODS = frozenset(
    {
        "if",
        "for",
        "while",
        "catch",
        "switch",
        "do",
        "try",
        "else",
        "finally",
        "when",
        "new",
        "return",
        "get",
        "set",
        "static",
    }
)
DEFAULT_GUARDS = (
    "FeatureKillSwitch.isEnabled",
    "FeatureKillSwitch.isFeatureEnabled",
    "FeatureKillSwitch.requireEnabled",
    "FeatureKillSwitch.areEnabled",
)


@dataclass(frozen=True)
class Token:
    """One lexical token: kind is ident, string, number, soql or punct."""

    kind: str
    text: str
    line: int


@dataclass(frozen=True)
class Guard:
    """A kill-switch check: the switch name (None when not a string literal) and where."""

    switch: str | None
    line: int
    call: str


@dataclass(frozen=True)
class Soql:
    """An inline SOQL statement `[SELECT ...]` (text without the brackets) and its line."""

    text: str
    line: int


@dataclass
class Block:
    """A class, trigger or method body: its name, kind, annotations and token span."""

    kind: str  # class | trigger | method
    name: str
    line: int
    start: int
    end: int = -1
    annotations: tuple[str, ...] = ()
    interfaces: tuple[str, ...] = ()
    parent: Block | None = None
    trigger_object: str | None = None


@dataclass(frozen=True)
class EntryPoint:
    """Something the platform calls: key is stable across versions (e.g. `OrderApi.submit`)."""

    key: str
    kind: str  # trigger | aura | invocable | rest | queueable | batchable | schedulable
    file: str
    line: int
    guards: tuple[Guard, ...]
    calls: tuple[tuple[str, str], ...] = ()  # (Class, method) called from its body, for delegated guards


@dataclass
class ApexFile:
    """The analysis of one .cls or .trigger file."""

    path: str
    entry_points: list[EntryPoint] = field(default_factory=list)
    soql: list[Soql] = field(default_factory=list)
    methods: dict[tuple[str, str], list[Guard]] = field(default_factory=dict)  # (class, method) -> guards
    type_names: list[str] = field(default_factory=list)


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"\d[\d.]*[A-Za-z]?")
_SOQL_START = re.compile(r"\[\s*(SELECT|FIND)\b", re.I)


def tokenize(text: str) -> list[Token]:
    """Tokens of Apex source; comments dropped; `[SELECT ...]` kept whole as one soql token."""
    tokens: list[Token] = []
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += text.count("\n", i, j)
            i = j
        elif c == "'":
            j = i + 1
            while j < n and text[j] != "'" and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            tokens.append(Token("string", text[i + 1 : j], line))
            i = j + 1
        elif c == "[" and _SOQL_START.match(text, i):
            j, depth = i, 0
            while j < n:
                ch = text[j]
                if ch == "'":
                    j += 1
                    while j < n and text[j] != "'":
                        j += 2 if text[j] == "\\" else 1
                elif ch == "[":
                    depth += 1
                elif ch == "]":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            tokens.append(Token("soql", text[i + 1 : j].strip(), line))
            line += text.count("\n", i, j)
            i = j + 1
        elif m := _IDENT.match(text, i):
            tokens.append(Token("ident", m.group(), line))
            i = m.end()
        elif m := _NUMBER.match(text, i):
            tokens.append(Token("number", m.group(), line))
            i = m.end()
        else:
            tokens.append(Token("punct", c, line))
            i += 1
    return tokens


def _header_start(tokens: list[Token], brace: int) -> int:
    """Index of the first token of the declaration that the `{` at `brace` opens."""
    j = brace - 1
    depth = 0
    while j >= 0:
        t = tokens[j]
        if t.kind == "punct":
            if t.text == ")":
                depth += 1
            elif t.text == "(":
                depth -= 1
            elif depth == 0 and t.text in (";", "{", "}"):
                break
        j -= 1
    return j + 1


def _annotations(header: list[Token]) -> tuple[str, ...]:
    return tuple(
        header[k + 1].text.lower()
        for k in range(len(header) - 1)
        if header[k].text == "@" and header[k + 1].kind == "ident"
    )


def _strip_parens(header: list[Token]) -> list[Token]:
    """The header without annotation arguments `@AuraEnabled(cacheable=true)` and generics."""
    out: list[Token] = []
    k = 0
    while k < len(header):
        t = header[k]
        if t.text == "@" and k + 1 < len(header):
            k += 2
            if k < len(header) and header[k].text == "(":
                depth = 0
                while k < len(header):
                    depth += header[k].text == "("
                    depth -= header[k].text == ")"
                    k += 1
                    if depth == 0:
                        break
            continue
        out.append(t)
        k += 1
    return out


def _interfaces(header: list[Token]) -> tuple[str, ...]:
    names: list[str] = []
    words = [t.text for t in header]
    lowered = [w.lower() for w in words]
    if "implements" not in lowered:
        return ()
    k = lowered.index("implements") + 1
    current, depth = "", 0
    while k < len(words):
        w = words[k]
        if w == "<":
            depth += 1
        elif w == ">":
            depth -= 1
        elif depth == 0 and w == ",":
            names.append(current)
            current = ""
        elif depth == 0 and lowered[k] == "extends":
            break
        elif depth == 0:
            current += w
        k += 1
    if current:
        names.append(current)
    return tuple(n.lower() for n in names)


def _classify(tokens: list[Token], brace: int, parent: Block | None) -> Block | None:
    start = _header_start(tokens, brace)
    raw = tokens[start:brace]
    if not raw:
        return None
    header = _strip_parens(raw)
    words = [t.text.lower() for t in header]
    line = (header[0] if header else raw[0]).line
    for k, w in enumerate(words):
        if w in ("class", "interface", "enum") and (k == 0 or words[k - 1] != ".") and k + 1 < len(header):
            return Block(
                "class",
                header[k + 1].text,
                line,
                brace,
                annotations=_annotations(raw),
                interfaces=_interfaces(header),
                parent=parent,
            )
    if words and words[0] == "trigger" and len(header) >= 4 and words[2] == "on":
        return Block("trigger", header[1].text, line, brace, trigger_object=header[3].text, parent=parent)
    if parent is not None and parent.kind == "class" and header and header[-1].text == ")":
        depth, k = 0, len(header) - 1
        while k >= 0:
            depth += header[k].text == ")"
            depth -= header[k].text == "("
            if depth == 0:
                break
            k -= 1
        name_tok = header[k - 1] if k >= 1 else None
        if (
            name_tok is not None
            and name_tok.kind == "ident"
            and name_tok.text.lower() not in NOT_METHODS
            and "=" not in words[:k]
        ):
            return Block("method", name_tok.text, name_tok.line, brace, annotations=_annotations(raw), parent=parent)
    return None


def _guards(tokens: list[Token], start: int, end: int, guard_calls: tuple[str, ...]) -> list[Guard]:
    wanted = {g.lower() for g in guard_calls}
    found = []
    for k in range(start, min(end, len(tokens) - 3)):
        t = tokens[k]
        if t.kind != "ident" or tokens[k + 1].text != "." or tokens[k + 2].kind != "ident" or tokens[k + 3].text != "(":
            continue
        call = f"{t.text}.{tokens[k + 2].text}"
        if call.lower() not in wanted:
            continue
        arg = tokens[k + 4] if k + 4 < len(tokens) else None
        closes = k + 5 < len(tokens) and tokens[k + 5].text == ")"
        name = arg.text if arg is not None and arg.kind == "string" and closes else None
        found.append(Guard(name, t.line, call))
    return found


def _calls(tokens: list[Token], start: int, end: int) -> list[tuple[str, str]]:
    """(Class, method) of `Class.method(` and `new Class(...).method(` calls in a token span."""
    out = []
    stop = min(end, len(tokens) - 3)
    for k in range(start, stop):
        t = tokens[k]
        if (
            t.kind == "ident"
            and tokens[k + 1].text == "."
            and tokens[k + 2].kind == "ident"
            and tokens[k + 3].text == "("
            and t.text[:1].isupper()
        ):
            out.append((t.text, tokens[k + 2].text))
        elif t.text.lower() == "new" and tokens[k + 1].kind == "ident" and tokens[k + 2].text == "(":
            j, depth = k + 2, 0
            while j < stop:
                depth += tokens[j].text == "("
                depth -= tokens[j].text == ")"
                j += 1
                if depth == 0:
                    break
            if (
                j + 2 < len(tokens)
                and tokens[j].text == "."
                and tokens[j + 1].kind == "ident"
                and tokens[j + 2].text == "("
            ):
                out.append((tokens[k + 1].text, tokens[j + 1].text))
    return out


def analyse(path: str, text: str, guard_calls: tuple[str, ...] = DEFAULT_GUARDS) -> ApexFile:
    """Entry points (with the guards inside them), SOQL statements and methods of one Apex file."""
    tokens = tokenize(text)
    result = ApexFile(path)
    result.soql = [Soql(t.text, t.line) for t in tokens if t.kind == "soql"]
    stack: list[Block | None] = []
    blocks: list[Block] = []
    for k, t in enumerate(tokens):
        if t.kind != "punct" or t.text not in "{}":
            continue
        if t.text == "{":
            parent = next((b for b in reversed(stack) if b is not None), None)
            block = _classify(tokens, k, parent)
            stack.append(block)
            if block is not None:
                blocks.append(block)
        elif stack:
            block = stack.pop()
            if block is not None:
                block.end = k
    for block in blocks:
        if block.end < 0:
            block.end = len(tokens)
    for block in blocks:
        if block.kind == "class" and (block.parent is None):
            result.type_names.append(block.name)
        if block.kind == "trigger":
            result.type_names.append(block.name)
        spans = [(block.start, block.end)]
        if block.kind == "class":  # an async class is entered through execute() (and start() for batches)
            spans = [
                (m.start, m.end)
                for m in blocks
                if m.parent is block and m.kind == "method" and m.name.lower() in ASYNC_ENTRY_METHODS
            ]
        guards = tuple(g for a, b in spans for g in _guards(tokens, a, b, guard_calls))
        calls = tuple(c for a, b in spans for c in _calls(tokens, a, b))
        owner = block.parent
        if block.kind == "method" and owner is not None:
            result.methods.setdefault((owner.name.lower(), block.name.lower()), []).extend(guards)
        entry = _entry_kind(block)
        if entry is None:
            continue
        key = block.name if block.kind != "method" or owner is None else f"{_qualified(owner)}.{block.name}"
        if block.kind == "class":
            key = _qualified(block)
        result.entry_points.append(EntryPoint(key, entry, path, block.line, guards, calls))
    return result


def _qualified(block: Block) -> str:
    names = []
    b: Block | None = block
    while b is not None:
        names.append(b.name)
        b = b.parent
    return ".".join(reversed(names))


def _entry_kind(block: Block) -> str | None:
    if block.kind == "trigger":
        return "trigger"
    if block.kind == "class":
        for iface in block.interfaces:
            base = iface.split("<", 1)[0]
            if base in ASYNC_INTERFACES:
                return ASYNC_INTERFACES[base].lower()
        return None
    if block.kind != "method":
        return None
    if "auraenabled" in block.annotations:
        return "aura"
    if "invocablemethod" in block.annotations:
        return "invocable"
    owner = block.parent
    if owner is not None and "restresource" in owner.annotations and REST_METHOD_ANNOTATIONS & set(block.annotations):
        return "rest"
    return None
