"""The sample history (v1.1 = B deployed, v1.0 = A good) against the stored reference outputs:
the hand-derived plan (README), sgd's manifests and `sf project convert source` outputs."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from cli_support import run_cli
from rollback_support import EXPECTED

from sfops.rollback.convert import convert
from sfops.rollback.delta import compute_delta
from sfops.rollback.gitio import EMPTY_TREE
from sfops.rollback.package import plan_and_package
from sfops.rollback.plan import Plan, build_plan
from sfops.rollback.registry import load_registry
from sfops.rollback.xmlutil import normalised, parse, text_of

SGD_RB = EXPECTED / "sgd" / "rollback-v1.1-to-v1.0"
SGD_FWD = EXPECTED / "sgd" / "forward-v1.0-to-v1.1"
SF = EXPECTED / "sf"


def manifest(path: Path) -> set[tuple[str, str]]:
    """(type, member) pairs of a package.xml / destructiveChanges.xml."""
    root = parse(path.read_bytes(), str(path))
    pairs = set()
    for types in root:
        if types.tag.endswith("types"):
            name = text_of(types, "name")
            pairs |= {(name, (m.text or "").strip()) for m in types if m.tag.endswith("members")}
    return pairs


def pairs(plan: Plan, placement: str) -> set[tuple[str, str]]:
    return {(t, m) for t, members in plan.members(placement).items() for m in members}


@pytest.fixture(scope="module")
def rollback(sample_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Path]:
    out = tmp_path_factory.mktemp("pkg") / "v1.1-to-v1.0"
    plan = plan_and_package(sample_repo, "v1.1", "v1.0", out)
    return plan, out


def test_sample_shas_match_the_reference_history(rollback: tuple[Plan, Path]) -> None:
    plan, _ = rollback
    assert plan.from_sha == "1fcd1f7f6f56d415624d61422485b5befda2db8e"
    assert plan.to_sha == "8e6c93063370d588c1e60b93dce3af763fa0a96e"


def test_plan_matches_the_hand_derived_plan(rollback: tuple[Plan, Path]) -> None:
    plan, _ = rollback
    assert pairs(plan, "pre") == {("ApexClass", "KillSwitchAudit")}
    must_be_post = {
        ("ApexClass", "CircuitBreaker"),
        ("ApexClass", "StringUtils"),
        ("CustomField", "Kill_Switch__c.Disabled_Reason__c"),
        ("CustomField", "Incident__c.Breaker_State__c"),
    }
    either = {
        ("ApexClass", "CircuitBreakerTest"),
        ("CustomField", "Incident_Event__e.Breaker_State__c"),
        ("CustomLabel", "Breaker_Open"),
        ("CustomMetadata", "Integration_Breaker.Billing"),
        ("LightningComponentBundle", "breakerStatus"),
        ("ValidationRule", "Incident__c.Require_Root_Cause"),
        ("WorkflowFieldUpdate", "Incident__c.Set_Breaker_Closed"),
    }
    # sfops puts "either phase" deletions in POST (safe default) and says so
    assert pairs(plan, "post") == must_be_post | either
    assert plan.phases == 1
    assert not [i for i in plan.items if i.placement == "skip"]


def test_every_placement_carries_its_reason(rollback: tuple[Plan, Path]) -> None:
    plan, _ = rollback
    why = {i.member: " ".join(i.reasons) for i in plan.items}
    assert all(i.reasons for i in plan.items)
    assert "KillSwitchService.reason()" in why["KillSwitchAudit"]
    assert "IncidentService" in why["CircuitBreaker"]
    assert "IncidentTrigger" in why["StringUtils"]
    assert "KillSwitchService" in why["Kill_Switch__c.Disabled_Reason__c"]
    breaker = why["Incident__c.Breaker_State__c"]
    assert "Layout:Incident__c-Incident Layout" in breaker and "ApexClass:CircuitBreaker" in breaker
    assert "Set_Breaker_Closed" in breaker
    assert "safe default" in why["Breaker_Open"]


def test_deploy_set_equals_sgd_package_plus_the_labels_container(rollback: tuple[Plan, Path]) -> None:
    plan, _ = rollback
    # sfops, like `sf project convert source`, also lists the CustomLabels container
    assert pairs(plan, "deploy") == manifest(SGD_RB / "package" / "package.xml") | {("CustomLabels", "CustomLabels")}


def test_pre_plus_post_equals_sgds_single_destructive_manifest(rollback: tuple[Plan, Path]) -> None:
    plan, _ = rollback
    sgd = manifest(SGD_RB / "destructiveChanges" / "destructiveChanges.xml")
    assert pairs(plan, "pre") | pairs(plan, "post") == sgd
    assert not pairs(plan, "pre") & pairs(plan, "post")


def test_package_files_match_sf_convert_of_the_delta_folder(rollback: tuple[Plan, Path]) -> None:
    _, out = rollback
    expected_dir = SF / "convert-rollback-delta-folder"
    expected = {
        p.relative_to(expected_dir).as_posix()
        for p in expected_dir.rglob("*")
        if p.is_file() and not p.name.endswith(".entries.txt")
    }
    ours = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert ours == expected | {"destructiveChangesPre.xml", "destructiveChangesPost.xml", "plan.json"}
    _assert_same_content(expected_dir, out, expected)


def _assert_same_content(expected_dir: Path, out: Path, names: set[str]) -> None:
    for rel in sorted(names):
        want, got = (expected_dir / rel).read_bytes(), (out / rel).read_bytes()
        if rel.endswith(".resource") and got.startswith(b"PK"):
            entries = zipfile.ZipFile(io.BytesIO(got)).namelist()
            assert entries == (expected_dir / f"{rel}.entries.txt").read_text().split(), rel
        elif want.lstrip().startswith(b"<?xml"):
            assert normalised(got) == normalised(want), rel
        else:
            assert got == want, rel


def test_destructive_files_are_split_and_versioned(rollback: tuple[Plan, Path]) -> None:
    _, out = rollback
    pre = manifest(out / "destructiveChangesPre.xml")
    post = manifest(out / "destructiveChangesPost.xml")
    assert pre == {("ApexClass", "KillSwitchAudit")}
    assert ("ApexClass", "CircuitBreaker") in post
    assert text_of(parse((out / "destructiveChangesPost.xml").read_bytes()), "version") == "62.0"
    saved = json.loads((out / "plan.json").read_text())
    assert saved["from_sha"].startswith("1fcd1f7") and len(saved["items"]) == 32


def test_forward_delta_matches_sgd_forward(sample_repo: Path) -> None:
    """Reverse of the rollback: B's release as sgd saw it (v1.0 -> v1.1)."""
    plan = build_plan(compute_delta(sample_repo, "v1.0", "v1.1", allow_forward=True))
    deploy = pairs(plan, "deploy") - {("CustomLabels", "CustomLabels")}
    assert deploy == manifest(SGD_FWD / "package" / "package.xml")
    destructive = manifest(SGD_FWD / "destructiveChanges" / "destructiveChanges.xml")
    assert pairs(plan, "pre") | pairs(plan, "post") == destructive


@pytest.mark.parametrize("tag", ["v1.0", "v1.1"])
def test_full_conversion_matches_sf_convert_source(sample_repo: Path, tmp_path: Path, tag: str) -> None:
    registry = load_registry()
    delta = compute_delta(sample_repo, EMPTY_TREE, tag, registry)
    converted = convert(delta, delta.changes, registry)
    expected_dir = SF / f"convert-full-{tag}"
    expected = {
        p.relative_to(expected_dir).as_posix()
        for p in expected_dir.rglob("*")
        if p.is_file() and not p.name.endswith(".entries.txt")
    }
    assert set(converted.files) | {"package.xml"} == expected
    for rel, data in converted.files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    _assert_same_content(expected_dir, tmp_path, expected - {"package.xml"})
    members = {(t, m) for t, ms in converted.members.items() for m in ms}
    assert members == manifest(expected_dir / "package.xml")


def test_cli_plan_json_and_table(sample_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    result = run_cli(
        [
            "rollback",
            "plan",
            "--from",
            "v1.1",
            "--to",
            "v1.0",
            "--repo",
            str(sample_repo),
            "--output",
            str(out),
            "--json",
        ],
        env={"HOME": str(tmp_path)},
    )
    assert result.exit_code == 0
    body = result.json
    assert body["status"] == 0
    assert {i["member"] for i in body["result"]["items"] if i["placement"] == "pre"} == {"KillSwitchAudit"}
    assert any("Flip the kill switches first" in w for w in body["warnings"])
    assert (out / "package.xml").is_file()

    result = run_cli(
        ["rollback", "plan", "--from", "v1.1", "--to", "v1.0", "--repo", str(sample_repo), "--dry-run"],
        env={"HOME": str(tmp_path), "COLUMNS": "250"},
    )
    assert result.exit_code == 0
    assert "KillSwitchAudit" in result.stdout and "Warning: Data loss" in result.stdout
    assert not (sample_repo / "metadata").exists()


def test_cli_output_that_cannot_be_a_folder_is_a_usage_error(sample_repo: Path, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    result = run_cli(
        [
            "rollback",
            "plan",
            "--from",
            "v1.1",
            "--to",
            "v1.0",
            "--repo",
            str(sample_repo),
            "--output",
            str(tmp_path / "afile" / "pkg"),
            "--json",
        ],
        env={"HOME": str(tmp_path)},
    )
    assert result.exit_code == 2
    assert "Cannot write the rollback package" in result.json["message"]


def test_cli_unknown_ref_is_a_usage_error(sample_repo: Path, tmp_path: Path) -> None:
    result = run_cli(
        ["rollback", "plan", "--from", "v1.1", "--to", "v9", "--repo", str(sample_repo), "--json"],
        env={"HOME": str(tmp_path)},
    )
    assert result.exit_code == 2
    assert "Unknown git ref 'v9'" in result.json["message"]
