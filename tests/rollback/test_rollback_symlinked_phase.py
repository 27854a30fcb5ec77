"""A symlinked phase-* folder of a rollback package must not get files from outside the package
zipped and deployed (issue 15 item 16)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from emulator_cli_support import emulator_cli_env
from fault_proxy import assert_one_error_line

from sfops.cli.app import invoke
from sfops.rollback.delta import PathTraversalError
from sfops.rollback.deploy import load_package

PACKAGE_XML = (
    '<?xml version="1.0" encoding="UTF-8"?><Package xmlns="http://soap.sforce.com/2006/04/metadata">'
    "<version>64.0</version></Package>"
)


def write_phase(folder: Path) -> None:
    """An empty phase as `rollback plan` writes it (load_package checks each file against plan.json)."""
    folder.mkdir()
    for name in ("package.xml", "destructiveChangesPre.xml", "destructiveChangesPost.xml"):
        (folder / name).write_text(PACKAGE_XML, encoding="utf-8")


def two_phase_package(tmp_path: Path) -> tuple[Path, Path]:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "plan.json").write_text(
        json.dumps({"phases": 2, "items": [], "from_sha": "a" * 40, "to_sha": "b" * 40}), encoding="utf-8"
    )
    write_phase(package / "phase-1")
    outside = tmp_path / "elsewhere"
    (outside / "classes").mkdir(parents=True)
    (outside / "package.xml").write_text(PACKAGE_XML, encoding="utf-8")
    (outside / "classes" / "Secret.cls").write_text("public class Secret {}", encoding="utf-8")
    (package / "phase-2").symlink_to(outside, target_is_directory=True)
    return package, outside


def test_a_symlinked_phase_folder_is_refused(tmp_path: Path) -> None:
    package, _ = two_phase_package(tmp_path)
    with pytest.raises(PathTraversalError, match="phase-2"):
        load_package(package)
    (package / "phase-2").unlink()
    write_phase(package / "phase-2")
    assert [p.name for p in load_package(package).phases] == ["phase-1", "phase-2"]


@pytest.mark.integration
def test_rollback_validate_refuses_it_with_one_line_and_sends_nothing(emu, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    package, _ = two_phase_package(tmp_path)
    env = emulator_cli_env(emu, tmp_path)
    emu.control("DELETE", "requests")
    code, out, err = invoke(["rollback", "validate", "--package", str(package), "--reason", "r"], env)
    line = assert_one_error_line(code, out, err, expected_code=2)
    assert "phase-2" in line and "outside the package" in line
    assert [e for e in emu.requests_journal() if "Soap/m" in e["path"]] == []  # nothing was deployed


def test_a_zip_bomb_in_a_retrieve_is_refused_before_it_is_inflated() -> None:
    import io
    import zipfile

    from sfops.errors import SalesforceError
    from sfops.rollback.deploy import unzip_bounded

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("unpackaged/classes/A.cls", "public class A {}")
        zf.writestr("unpackaged/bomb.txt", b"\0" * (4 * 1024 * 1024))  # 4 MB of zeros: a few KB compressed
    bomb = buf.getvalue()
    assert len(bomb) < 64 * 1024
    with pytest.raises(SalesforceError, match="would inflate to"):
        unzip_bounded(bomb, limit=1024 * 1024)
    assert unzip_bounded(bomb)["unpackaged/classes/A.cls"] == b"public class A {}"
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../etc/passwd", "x")
    with pytest.raises(PathTraversalError):
        unzip_bounded(evil.getvalue())
