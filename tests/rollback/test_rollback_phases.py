"""Phases (issue 10): as many as the references need, test classes with the classes they test, re-added
components no later than their users, references read from Apex tokens rather than lines."""

from __future__ import annotations

from pathlib import Path

from rollback_support import RepoFactory

from sfops.rollback.package import plan_and_package
from sfops.rollback.refs import Node, apex_members, references
from sfops.rollback.registry import ComponentKey
from sfops.rollback.xmlutil import parse, text_of

P = "force-app/main/default/classes"
META = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">'
    "<apiVersion>62.0</apiVersion><status>Active</status></ApexClass>\n"
)


def cls(name: str, body: str) -> dict[str, str]:
    return {f"{P}/{name}.cls": body, f"{P}/{name}.cls-meta.xml": META}


def members(xml_file: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for types in parse(xml_file.read_bytes()):
        name = text_of(types, "name")
        if name:
            out[name] = [m.text or "" for m in types if m.tag.endswith("members")]
    return out


def placed(plan) -> dict[str, tuple[int, str]]:  # type: ignore[no-untyped-def]
    return {i.member: (i.phase, i.placement) for i in plan.items}


def chain_history(make_repo: RepoFactory) -> Path:
    """B: Ctl1 -> Audit1 -> Svc1.why1(); Svc1 -> Audit2 -> Svc3.why3(). A has none of the B-only parts."""
    return make_repo(
        [
            {
                **cls("Svc1", "public class Svc1 { public static Boolean on() { return true; } }"),
                **cls("Svc3", "public class Svc3 { public static Boolean on() { return true; } }"),
                **cls("Ctl1", "public class Ctl1 { public static Boolean x() { return Svc1.on(); } }"),
            },
            {
                **cls(
                    "Svc1",
                    "public class Svc1 { public static Boolean on() { return Audit2.e(); } "
                    "public static String why1() { return 'b'; } }",
                ),
                **cls(
                    "Svc3",
                    "public class Svc3 { public static Boolean on() { return true; } "
                    "public static Boolean why3() { return true; } }",
                ),
                **cls("Audit1", "public class Audit1 { public static String d() { return Svc1.why1(); } }"),
                **cls("Audit2", "public class Audit2 { public static Boolean e() { return Svc3.why3(); } }"),
                **cls("Ctl1", "public class Ctl1 { public static String x() { return Audit1.d(); } }"),
            },
        ]
    )


def test_a_chain_of_three_needs_three_phases(make_repo: RepoFactory, tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    plan = plan_and_package(chain_history(make_repo), "c2", "c1", out)
    assert plan.phases == 3
    assert placed(plan) == {
        "Ctl1": (1, "deploy"),
        "Audit1": (1, "post"),
        "Svc1": (2, "deploy"),
        "Audit2": (2, "post"),
        "Svc3": (3, "deploy"),
    }
    assert members(out / "phase-1/package.xml") == {"ApexClass": ["Ctl1"]}
    assert members(out / "phase-1/destructiveChangesPost.xml") == {"ApexClass": ["Audit1"]}
    assert members(out / "phase-2/package.xml") == {"ApexClass": ["Svc1"]}
    assert members(out / "phase-2/destructiveChangesPost.xml") == {"ApexClass": ["Audit2"]}
    assert members(out / "phase-3/package.xml") == {"ApexClass": ["Svc3"]}
    assert members(out / "phase-3/destructiveChangesPost.xml") == {}
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.cls")) == [
        "phase-1/classes/Ctl1.cls",
        "phase-2/classes/Svc1.cls",
        "phase-3/classes/Svc3.cls",
    ]
    svc3 = next(i for i in plan.items if i.member == "Svc3")
    assert any("phase 3: waits for ApexClass:Audit2" in r for r in svc3.reasons)
    assert any(w.startswith("3 phases needed") for w in plan.warnings)


def test_a_test_class_only_in_b_leaves_with_the_class_it_tests(make_repo: RepoFactory, tmp_path: Path) -> None:
    repo = make_repo(
        [
            {
                **cls("Svc", "public class Svc { public static Boolean on() { return true; } }"),
                **cls("Ctl", "public class Ctl { public static Boolean x() { return Svc.on(); } }"),
            },
            {
                **cls(
                    "Svc",
                    "public class Svc { public static Boolean on() { return true; } "
                    "public static String why() { return ''; } }",
                ),
                **cls("Audit", "public class Audit { public static String d() { return Svc.why(); } }"),
                **cls(
                    "AuditTest",
                    "@IsTest private class AuditTest { @IsTest static void t() { "
                    "System.assertEquals('', Audit.d()); } }",
                ),
                **cls("Ctl", "public class Ctl { public static String x() { return Audit.d(); } }"),
            },
        ]
    )
    out = tmp_path / "pkg"
    plan = plan_and_package(repo, "c2", "c1", out)
    where = placed(plan)
    assert plan.phases == 2
    assert where["Audit"] == (1, "post") and where["Svc"] == (2, "deploy") and where["Ctl"] == (1, "deploy")
    assert where["AuditTest"][0] == 1  # with (or before) Audit, never in a later phase
    assert members(out / "phase-1/destructiveChangesPost.xml") == {"ApexClass": ["Audit", "AuditTest"]}
    assert members(out / "phase-2/destructiveChangesPre.xml") == {}


def test_a_re_added_class_is_deployed_no_later_than_its_user(make_repo: RepoFactory, tmp_path: Path) -> None:
    repo = make_repo(
        [
            {
                **cls("Helper", "public class Helper { public static Integer n() { return 1; } }"),
                **cls("Svc", "public class Svc { public static Integer on() { return Helper.n(); } }"),
                **cls("Ctl", "public class Ctl { public static Integer x() { return Svc.on(); } }"),
            },
            {
                f"{P}/Helper.cls": None,
                f"{P}/Helper.cls-meta.xml": None,
                **cls(
                    "Svc",
                    "public class Svc { public static Integer on() { return 2; } "
                    "public static String why() { return ''; } }",
                ),
                **cls("Audit", "public class Audit { public static String d() { return Svc.why(); } }"),
                **cls("Ctl", "public class Ctl { public static String x() { return Audit.d(); } }"),
            },
        ]
    )
    out = tmp_path / "pkg"
    plan = plan_and_package(repo, "c2", "c1", out)
    where = placed(plan)
    assert where["Svc"] == (2, "deploy") and where["Helper"][1] == "deploy"
    assert where["Helper"][0] <= where["Svc"][0]
    assert (out / f"phase-{where['Helper'][0]}/classes/Helper.cls").is_file()


def test_declarations_come_from_tokens_not_lines() -> None:
    one_line = "public class Svc { public static String why() { return ''; } private Integer n = 1; }"
    assert {"why", "n"} <= apex_members(one_line)
    inner = "public class Outer {\n  class Inner extends Base { void go() {} }\n  enum Mode { A, B }\n}"
    assert {"inner", "mode", "go"} <= apex_members(inner)
    calls = "public class C { void f() { if (x) { Svc.run(); } return; } }"
    assert "run" not in apex_members(calls) and "if" not in apex_members(calls)


def test_comments_strings_and_non_code_are_not_references() -> None:
    gone = ComponentKey("ApexClass", "Gone")
    assert not references(Node(ComponentKey("ApexClass", "X"), "// Gone.run();\nString s = 'Gone';"), gone)
    assert not references(Node(ComponentKey("ApexClass", "X"), "/* Gone */ Integer i;"), gone)
    assert references(Node(ComponentKey("ApexClass", "X"), "public class X { Gone g; }"), gone)
    assert not references(Node(ComponentKey("StaticResource", "lib"), "Gone.run()"), gone)


def test_a_test_class_named_like_a_standard_object_is_only_referenced_by_tests() -> None:
    account_test = ComponentKey("ApexClass", "Account")
    service = Node(ComponentKey("ApexClass", "Svc"), "public class Svc { Account a = new Account(); }")
    other_test = Node(ComponentKey("ApexClass", "T"), "@IsTest class T { static void t() { Account.make(); } }")
    assert not references(service, account_test, target_is_test=True)
    assert references(other_test, account_test, target_is_test=True)


def test_a_cycle_no_order_satisfies_is_named_and_stays_bounded(make_repo: RepoFactory, tmp_path: Path) -> None:
    repo = make_repo(
        [
            {**cls("Svc", "public class Svc { public static Boolean on() { return true; } }")},
            {
                **cls(
                    "Svc",
                    "public class Svc { public static Boolean on() { return Audit.ok(); } "
                    "public static Boolean why() { return true; } }",
                ),
                **cls("Audit", "public class Audit { public static Boolean ok() { return Svc.why(); } }"),
            },
        ]
    )
    plan = plan_and_package(repo, "c2", "c1", tmp_path / "pkg")
    # Svc's B version calls Audit (so Audit goes after Svc's deploy), Audit calls Svc.why() (so before it)
    assert plan.phases == 1
    assert placed(plan) == {"Svc": (1, "deploy"), "Audit": (1, "post")}
    [warning] = [w for w in plan.warnings if w.startswith("Circular references")]
    assert "ApexClass:Audit" in warning and "ApexClass:Svc" in warning
