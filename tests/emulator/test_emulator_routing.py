"""The emulator's route tables: pattern syntax, first match wins, journal kinds per route."""

from __future__ import annotations

import pytest

from sfops.emulator import rest
from sfops.emulator.app import ROUTES
from sfops.emulator.routing import RouteTable, compile_pattern


def test_placeholders_and_converters() -> None:
    assert compile_pattern("sobjects/{sobject}").match("sobjects/Account").groupdict() == {"sobject": "Account"}
    assert compile_pattern("sobjects/{sobject}").match("sobjects/Account/x") is None
    rid = compile_pattern("x/{rid:id}/Body")
    assert rid.match("x/001000000000001AAA/Body") and rid.match("x/001000000000001/Body")
    assert rid.match("x/not-an-id/Body") is None
    version = compile_pattern("/services/data/{version:version}")
    assert version.match("/services/data/v64.0").group("version") == "64.0"
    assert version.match("/services/data/64.0") is None
    rest_of = compile_pattern("metadata/{rest:path}")
    assert rest_of.match("metadata").group("rest") is None
    assert rest_of.match("metadata/deployRequest/0Af").group("rest") == "deployRequest/0Af"
    with pytest.raises(ValueError, match="unknown converter"):
        compile_pattern("{x:nope}")


def test_first_match_wins_and_methods_filter() -> None:
    table = RouteTable()
    table.add("a/{x}", lambda: "post", kind="post", methods=("POST",))
    table.add("a/special", lambda: "special", kind="special")
    table.add("a/{x}", lambda: "any", kind="any")
    assert table.match("a/special", "GET").route.kind == "special"
    assert table.match("a/special", "POST").route.kind == "post"
    assert table.match("a/other", "GET").params == {"x": "other"}
    assert table.match("b", "GET") is None
    assert table.allowed("a/zz") == ["POST"]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/services/data/v64.0/sobjects", "rest.describeGlobal"),
        ("/services/data/v64.0/sobjects/Account/describe", "rest.describe"),
        ("/services/data/v64.0/sobjects/ApexLog/07L000000000001AAA/Body", "rest.sobject.body"),
        ("/services/data/v64.0/sobjects/Account/External__c/abc", "rest.sobject"),
        ("/services/data/v64.0/tooling/query", "tooling.query"),
        ("/services/data/v64.0/tooling/executeAnonymous", "tooling.executeAnonymous"),
        ("/services/data/v64.0/composite/sobjects/Account/Ext__c", "rest.composite.sobjects"),
        ("/services/data/v64.0/metadata/deployRequest", "rest.metadata"),
        ("/services/data/v64.0/nothing/here", "unknown"),
        ("/services/Soap/m/64.0", "soap.metadata"),
        ("/id/00D000000000001AAA/005000000000001AAA", "auth.identity"),
    ],
)
def test_every_path_has_one_route_and_kind(path: str, kind: str) -> None:
    match = ROUTES.match(path, "GET")
    assert match is not None and match.route.kind == kind


def test_rest_tables_are_mounted_in_full() -> None:
    kinds = {r.kind for r in ROUTES.routes}
    assert {f"rest.{r.kind}" for r in rest.DATA.routes if r.kind} <= kinds
    assert {f"tooling.{r.kind}" for r in rest.TOOLING.routes if r.kind} <= kinds
