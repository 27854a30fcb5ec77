"""Unit tests of the deploy side that need no org: freeze guard, test selection, zip, exit codes, JUnit."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from rollback_support import RepoFactory

from sfops.errors import ConfigError, ExitCode, UsageError
from sfops.rollback.delta import PathTraversalError
from sfops.rollback.deploy import Outcome, choose_test_level, load_package, write_junit, zip_folder
from sfops.rollback.guard import ChangeFreezeError, active_blocks, check_freeze
from sfops.rollback.package import plan_and_package

P = "force-app/main/default"
META = '<?xml version="1.0" encoding="UTF-8"?>\n<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"/>\n'
UTC = dt.UTC
FRIDAY_3PM_PARIS = dt.datetime(2026, 11, 27, 14, 0, tzinfo=UTC)  # 15:00 in Paris


def test_freeze_windows_and_risky_times() -> None:
    section = {
        "freeze": [{"start": "2026-12-20T00:00:00Z", "end": "2027-01-03T00:00:00Z", "reason": "year end"}],
        "risky": [
            {"days": ["Fri"], "from": "14:00", "to": "23:59", "tz": "Europe/Paris", "reason": "Friday afternoon"}
        ],
    }
    assert [b.reason for b in active_blocks(section, FRIDAY_3PM_PARIS)] == ["Friday afternoon"]
    assert active_blocks(section, FRIDAY_3PM_PARIS - dt.timedelta(hours=2)) == []  # 13:00 Paris
    assert [b.kind for b in active_blocks(section, dt.datetime(2026, 12, 24, 9, tzinfo=UTC))] == ["freeze"]
    with pytest.raises(ChangeFreezeError, match="Friday afternoon"):
        check_freeze(section, FRIDAY_3PM_PARIS, override=False, reason=None)
    with pytest.raises(UsageError, match="--reason"):
        check_freeze(section, FRIDAY_3PM_PARIS, override=True, reason=" ")
    assert len(check_freeze(section, FRIDAY_3PM_PARIS, override=True, reason="INC-1")) == 1
    assert check_freeze({}, FRIDAY_3PM_PARIS, override=False, reason=None) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"freeze": [{"start": "soon", "end": "2027-01-01"}]},
        {"risky": [{"tz": "Mars/Olympus"}]},
        {"risky": [{"days": ["Fryday"]}]},
        {"freeze": {"start": "2026-12-20"}},
        {"risky": ["Fri"]},
        {"risky": [{"tz": "../x"}]},
        {"risky": [{"days": "Fri"}]},
    ],
)
def test_bad_freeze_config_is_a_config_error(bad: dict) -> None:
    with pytest.raises(ConfigError):
        active_blocks(bad, FRIDAY_3PM_PARIS)


def _apex(name: str, body: str) -> dict[str, str]:
    return {f"{P}/classes/{name}.cls": body, f"{P}/classes/{name}.cls-meta.xml": META}


def test_tests_that_cover_every_reverted_class_are_chosen(make_repo: RepoFactory, tmp_path: Path) -> None:
    a = {
        **_apex("Svc", "public class Svc { }"),
        **_apex("SvcTest", "@IsTest class SvcTest { void t() { Svc s; } }"),
        **_apex("Other", "public class Other { }"),
    }
    repo = make_repo([a, {f"{P}/classes/Svc.cls": "public class Svc { Integer x; }"}])
    package = load_package(_pkg(repo, tmp_path))
    assert choose_test_level(package, package.root, None, ()) == (
        "RunSpecifiedTests",
        ["SvcTest"],
        ["RunSpecifiedTests with the tests of release A (good) that cover the reverted Apex: SvcTest"],
    )
    assert choose_test_level(package, package.root, "RunLocalTests", ["X"])[:2] == ("RunLocalTests", [])
    assert choose_test_level(package, package.root, None, ["Mine"])[:2] == ("RunSpecifiedTests", ["Mine"])


def test_uncovered_apex_falls_back_to_run_local_tests(make_repo: RepoFactory, tmp_path: Path) -> None:
    repo = make_repo(
        [_apex("Lonely", "public class Lonely { }"), {f"{P}/classes/Lonely.cls": "public class Lonely { Integer y; }"}]
    )
    package = load_package(_pkg(repo, tmp_path))
    level, tests, notes = choose_test_level(package, package.root, None, ())
    assert (level, tests) == ("RunLocalTests", []) and "Lonely" in notes[0]


def _pkg(repo: Path, tmp_path: Path) -> Path:
    out = tmp_path / "pkg"
    plan_and_package(repo, "c2", "c1", out)
    return out


def test_zip_is_deterministic_excludes_the_plan_and_refuses_links(make_repo: RepoFactory, tmp_path: Path) -> None:
    repo = make_repo([_apex("A", "public class A { }"), {f"{P}/classes/A.cls": "public class A { Integer z; }"}])
    out = _pkg(repo, tmp_path)
    first = zip_folder(out)
    assert first == zip_folder(out)
    names = zipfile.ZipFile(io.BytesIO(first)).namelist()
    assert "plan.json" not in names and {"package.xml", "destructiveChangesPre.xml", "classes/A.cls"} <= set(names)
    (out / "classes" / "evil.cls").symlink_to("/etc/hostname")
    with pytest.raises(PathTraversalError):
        zip_folder(out)


def test_not_a_package_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"no plan\.json"):
        load_package(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{bad", "is not valid JSON"),
        ("[1]", "is not a rollback plan"),
        ('{"phases": "2"}', "is not a rollback plan"),
        ('{"items": [1]}', "is not a rollback plan"),
        (b"\xff\xfe", "is not valid JSON"),
        ('{"to_sha": "--output=/tmp/x"}', "is not a rollback plan"),
    ],
)
def test_a_damaged_plan_json_is_a_usage_error(tmp_path: Path, text: str | bytes, message: str) -> None:
    (tmp_path / "plan.json").write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(UsageError, match=message):
        load_package(tmp_path)


@pytest.mark.parametrize(
    ("status", "done", "success", "code"),
    [
        ("Succeeded", True, True, ExitCode.OK),
        ("Failed", True, False, ExitCode.FAILED),
        ("Canceled", True, False, ExitCode.FAILED),
        ("SucceededPartial", True, True, ExitCode.PARTIAL),
        ("InProgress", False, False, ExitCode.STILL_RUNNING),
        ("Canceling", False, False, ExitCode.STILL_RUNNING),
    ],
)
def test_exit_codes_follow_sf(status: str, done: bool, success: bool, code: ExitCode) -> None:
    assert Outcome("deploy", "o", "0Af", status, done, success, False).exit_code == code


def test_junit_names_failures_and_counts_passes(tmp_path: Path) -> None:
    outcome = Outcome(
        "validate",
        "o",
        "0Af1",
        "Failed",
        True,
        False,
        True,
        tests_total=3,
        tests_completed=3,
        test_failures=[{"class_name": "T", "method": "m<1>", "message": 'bad "x"', "stack": "Class.T.m: line 3 ]]>"}],
    )
    text = write_junit(outcome, tmp_path / "r" / "junit.xml").read_text()
    assert 'tests="3" failures="1"' in text and 'name="m&lt;1&gt;"' in text and "2 passing" in text
    from defusedxml import ElementTree

    assert ElementTree.fromstring(text.encode()).tag == "testsuites"
