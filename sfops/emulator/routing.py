"""Route tables: a path pattern -> one handler, in the style of moto's url maps.

A pattern is a path of literal segments and `{name}` placeholders; `{name:conv}` picks a converter
(`seg` one segment, the default; `id` a 15/18-character Salesforce id; `version` `vNN.0` with its number
captured as `NN.0`; `path` the rest of the path, possibly empty). The first route that matches wins, so
put the specific pattern before the general one. Each route names its journal kind, so an error raised
by a handler is still journalled under the route that served it.

Adding a resource is one line in a table plus one handler:

    REST.add("sobjects/{sobject}/describe", describe, kind="describe", methods=("GET",))
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

CONVERTERS = {
    "seg": r"[^/]+",
    "id": r"[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?",
    "version": r"v(?P<{name}>\d+\.0)",
    "path": r".*",
}
_PLACEHOLDER = re.compile(r"\{(\w+)(?::(\w+))?\}")


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A route pattern ("sobjects/{sobject}/{record_id:id}") as an anchored regular expression."""
    out, pos = [], 0
    for m in _PLACEHOLDER.finditer(pattern):
        literal = pattern[pos : m.start()]
        name, conv = m.group(1), m.group(2) or "seg"
        if conv not in CONVERTERS:
            raise ValueError(f"unknown converter {conv!r} in route {pattern!r}")
        regex = CONVERTERS[conv]
        if conv == "path" and literal.endswith("/"):
            # "x/{rest:path}" also matches "x" alone (rest absent)
            out.append(re.escape(literal[:-1]) + f"(?:/(?P<{name}>.*))?")
        else:
            out.append(re.escape(literal))
            out.append(regex.format(name=name) if "{name}" in regex else f"(?P<{name}>{regex})")
        pos = m.end()
    out.append(re.escape(pattern[pos:]))
    return re.compile("^" + "".join(out) + "$")


Handler = Callable[..., Any]


@dataclass(frozen=True)
class Route:
    """One line of a route table."""

    pattern: str
    handler: Handler
    kind: str
    methods: tuple[str, ...] | None = None  # None: every method (the handler answers 405 itself)
    regex: re.Pattern[str] = field(compare=False, default=re.compile(""))


@dataclass(frozen=True)
class Match:
    """A route and the values of its placeholders."""

    route: Route
    params: dict[str, str]


class RouteTable:
    """An ordered list of routes; `match` returns the first that fits the path (and method)."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, pattern: str, handler: Handler, *, kind: str, methods: Iterable[str] | None = None) -> None:
        """Register `handler` for `pattern`; `kind` is what the request journal records."""
        self.routes.append(
            Route(pattern, handler, kind, tuple(methods) if methods is not None else None, compile_pattern(pattern))
        )

    def match(self, path: str, method: str | None = None) -> Match | None:
        """The first route whose pattern matches `path`. A route whose pattern fits but not its
        methods is returned anyway when nothing else fits (so the handler or caller can answer 405)."""
        fallback: Match | None = None
        for route in self.routes:
            m = route.regex.match(path)
            if m is None:
                continue
            found = Match(route, {k: v for k, v in m.groupdict().items() if v is not None})
            if route.methods is None or method is None or method in route.methods:
                return found
            fallback = fallback or found
        return fallback

    def allowed(self, path: str) -> list[str]:
        """Every method some route accepts for `path` (for a 405's Allow list)."""
        out: list[str] = []
        for route in self.routes:
            if route.methods and route.regex.match(path):
                out.extend(m for m in route.methods if m not in out)
        return out
