"""Static checks on the companion Apex: tests exist and assert, sharing is declared, no SOQL/DML in loops."""

import re

import pytest
from companion_sfdx import CLASSES, cross_class_references, soql_dml_in_loops, strip_comments_and_strings

ALL = sorted(CLASSES.glob("*.cls"))
TESTS = [p for p in ALL if re.search(r"^@IsTest", p.read_text(), re.M | re.I)]
PRODUCTION = [p for p in ALL if p not in TESTS]


def test_the_four_companion_classes_exist():
    assert {p.stem for p in PRODUCTION} == {"FeatureKillSwitch", "CircuitBreaker", "IncidentAlert", "ErrorLogger"}


@pytest.mark.parametrize("path", PRODUCTION, ids=lambda p: p.stem)
def test_every_class_has_a_test_class(path):
    test_class = CLASSES / f"{path.stem}Test.cls"
    assert test_class in TESTS, f"{path.stem} has no @IsTest class {test_class.name}"
    assert re.search(rf"\b{path.stem}\.", test_class.read_text()), f"{test_class.name} never calls {path.stem}"


@pytest.mark.parametrize("path", TESTS, ids=lambda p: p.stem)
def test_test_classes_are_honest(path):
    source = path.read_text()
    assert not re.search(r"SeeAllData\s*=\s*true", source, re.I), "tests create their own data"
    methods = re.findall(r"@IsTest\s+static\s+void\s+(\w+)", source)
    assert len(methods) >= 3, f"{path.stem}: only {methods}"
    assert source.count("Test.startTest()") >= len(methods) - 2
    assert source.count("Test.stopTest()") == source.count("Test.startTest()")
    assert len(re.findall(r"\bAssert\.\w+\(", source)) >= 2 * len(methods), "meaningful asserts"


@pytest.mark.parametrize("path", PRODUCTION, ids=lambda p: p.stem)
def test_sharing_is_declared_and_explained(path):
    source = path.read_text()
    declared = re.search(r"\bpublic\s+(with|without|inherited)\s+sharing\s+class\s+" + path.stem, source)
    assert declared, f"{path.stem} must declare with/without/inherited sharing"
    assert re.search(r"Sharing:\s+" + declared.group(1) + r" sharing", source), "say why in the class comment"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_no_soql_or_dml_inside_loops(path):
    assert soql_dml_in_loops(path.read_text()) == []


@pytest.mark.parametrize("path", PRODUCTION, ids=lambda p: p.stem)
def test_no_hard_coded_ids_or_addresses(path):
    code = strip_comments_and_strings(path.read_text())
    literals = re.findall(r"'((?:\\.|[^'\\])*)'", path.read_text())
    assert not [s for s in literals if re.fullmatch(r"[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?", s) and re.search(r"\d", s)]
    assert not [s for s in literals if re.fullmatch(r"[^@\s]+@[^@\s]+\.\w+", s)], "recipients come from settings"
    assert "System.assert" not in code


def test_the_loop_check_finds_violations():
    bad = """public class Bad {
        void m(List<Account> accounts) {
            for (Account a : accounts) {
                update a;
            }
            for (Integer i = 0; i < 3; i++) insert new Account(Name = 'x');
            while (accounts.isEmpty()) { accounts = [SELECT Id FROM Account LIMIT 1]; }
            do { Database.insert(accounts, false); } while (false);
            for (Account a : [SELECT Id FROM Account]) { a.Name = 'update me'; } // query in the header is fine
            for (Account a : accounts) { a.Description = 'insert'; /* delete a; */ }
        }
    }"""
    assert [line for line, _ in soql_dml_in_loops(bad)] == [4, 6, 7, 8]


def test_cross_class_references_are_declared_and_visible():
    sources = {p.stem: p.read_text() for p in ALL}
    assert cross_class_references(sources, {p.stem for p in TESTS}) == []


def test_the_reference_check_finds_unknown_and_private_members():
    owner = """public class Owner {
        public static void ok() {}
        private static void hidden() {}
        @TestVisible private static Integer peek;
    }"""
    user = "public class User { void m() { Owner.ok(); Owner.hidden(); Owner.missing(); Owner.peek = 1; } }"
    test = "@IsTest private class UserTest { static void t() { Owner.peek = 2; Owner.hidden(); } }"
    problems = cross_class_references({"Owner": owner, "User": user, "UserTest": test}, {"UserTest"})
    assert problems == [
        "User: Owner.hidden is private",
        "User: Owner.missing is not declared",
        "User: Owner.peek is private",
        "UserTest: Owner.hidden is private",
    ]
