"""The emulator's compile-time reference check (issues 10 and 13): a deploy whose Apex calls a method the
org will not have fails, in the deployed class or in an org class that depends on it; the post-destructive
step runs only after that check, so deleting the dependent class POST does not save the deploy."""

from __future__ import annotations

from md_support import Client, apex_class, failures, field, package_xml

from sfops.emulator.metadata.apexcompile import declared_members

SVC_B = (
    "public class Svc {\n    public static Boolean on() { return true; }\n"
    "    public static String why() { return ''; }\n}\n"
)
SVC_A = "public class Svc {\n    public static Boolean on() { return true; }\n}\n"
AUDIT = "public class Audit {\n    public static String d() { return Svc.why(); }\n}\n"


def at_b(client: Client) -> None:
    done = client.deploy_and_wait(
        {
            "package.xml": package_xml({"ApexClass": ["Svc", "Audit"]}),
            **apex_class("Svc", SVC_B),
            **apex_class("Audit", AUDIT),
        },
        testLevel="NoTestRun",
    )
    assert field(done, "mt:status") == "Succeeded", failures(done)


def test_a_call_to_a_method_the_class_does_not_declare_fails_to_compile(client: Client) -> None:
    at_b(client)
    caller = "public class Caller {\n    public static void go() {\n        Svc.nope();\n    }\n}\n"
    done = client.deploy_and_wait(
        {"package.xml": package_xml({"ApexClass": ["Caller"]}), **apex_class("Caller", caller)}, testLevel="NoTestRun"
    )
    assert field(done, "mt:status") == "Failed"
    [failure] = failures(done)
    assert (failure["fullName"], failure["problem"]) == (
        "Caller",
        "Method does not exist or incorrect signature: void nope() from the type Svc",
    )
    assert (failure["lineNumber"], failure["columnNumber"]) == ("3", "13")


def test_removing_a_method_an_org_class_still_calls_fails_even_with_the_caller_post_deleted(client: Client) -> None:
    at_b(client)
    files = {
        "package.xml": package_xml({"ApexClass": ["Svc"]}),
        **apex_class("Svc", SVC_A),
        "destructiveChangesPost.xml": package_xml({"ApexClass": ["Audit"]}),
    }
    done = client.deploy_and_wait(files, testLevel="NoTestRun")
    assert field(done, "mt:status") == "Failed"
    [failure] = failures(done)
    assert failure["fullName"] == "Svc"
    assert failure["problem"] == (
        "Dependent class is invalid and needs recompilation:\n Class Audit : "
        "Method does not exist or incorrect signature: void why() from the type Svc"
    )


def test_deleting_the_caller_first_lets_the_method_go(client: Client) -> None:
    at_b(client)
    files = {
        "package.xml": package_xml({"ApexClass": ["Svc"]}),
        **apex_class("Svc", SVC_A),
        "destructiveChangesPre.xml": package_xml({"ApexClass": ["Audit"]}),
    }
    done = client.deploy_and_wait(files, testLevel="NoTestRun")
    assert field(done, "mt:status") == "Succeeded", failures(done)


def test_declared_members_read_from_tokens() -> None:
    code = (
        "public class X { public static Schema.SObjectField f(String a) { return null; } "
        "private Integer n = 1; public class Inner { void go() {} } public enum Mode { ON, OFF } "
        "void run() { if (true) { Y.call(); } } }"
    )
    members = declared_members(code)
    assert {"f", "n", "inner", "go", "mode", "run"} <= members
    assert not {"if", "call", "a"} & members
