"""On-call traps: an override for someone unreachable and in no rotation, people without contact details,
an export with no shifts, and dates without an offset read in the rotation's time zone."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import run_cli

ONCALL = """
[oncall]
default_rotation = "primary"
[oncall.people.alice]
email = "alice@example.com"
[oncall.people.dave]
phone = "+33 6 00 00 00 00"
[oncall.rotations.primary]
time_zone = "Europe/Paris"
start = "2026-03-23"
handoff_time = "09:00"
length = "daily"
participants = ["alice", "bob"]
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "sfops.toml"
    config.write_text(ONCALL, encoding="utf-8")
    return {
        "HOME": str(tmp_path),
        "SFOPS_CONFIG": str(config),
        "SFOPS_DOTENV": str(tmp_path / "no.env"),
        "SFOPS_STORE_URL": f"sqlite:///{tmp_path / 's.db'}",
        "COLUMNS": "80",
        "SFOPS_ACTOR": "t",
    }


def test_an_override_for_someone_unreachable_in_no_rotation_is_refused(env: dict[str, str]) -> None:
    result = run_cli(
        ["oncall", "override", "add", "--person", "carl", "--from", "2026-03-24T12:00", "--to", "2026-03-24T14:00"], env
    )
    assert result.exit_code == 2 and "'carl' is in no rotation and has no contact details" in result.stderr
    assert "alice, bob, dave" in result.stderr
    for person in ("bob", "dave"):  # in a rotation / reachable
        ok = run_cli(
            ["oncall", "override", "add", "--person", person, "--from", "2026-03-24T12:00", "--to", "2026-03-24T14:00"],
            env,
        )
        assert ok.exit_code == 0, ok.stderr


def test_dates_without_an_offset_are_in_the_rotations_time_zone(env: dict[str, str]) -> None:
    added = run_cli(
        [
            "oncall",
            "override",
            "add",
            "--person",
            "dave",
            "--from",
            "2026-03-24T12:00",
            "--to",
            "2026-03-24T14:00",
            "--json",
        ],
        env,
    ).json["result"]
    assert (added["start"], added["end"]) == ("2026-03-24T11:00:00+00:00", "2026-03-24T13:00:00+00:00")  # CET
    now = run_cli(["oncall", "now", "--at", "2026-03-24T13:30", "--json"], env).json["result"]
    assert now["person"]["name"] == "dave"  # 13:30 Paris = 12:30 UTC, inside the override
    assert (
        run_cli(["oncall", "now", "--at", "2026-03-24T14:30", "--json"], env).json["result"]["person"]["name"] != "dave"
    )
    utc = run_cli(["oncall", "now", "--at", "2026-03-24T13:30+00:00", "--json"], env).json["result"]
    assert utc["person"]["name"] != "dave"  # an explicit offset wins


def test_someone_on_call_without_contact_details_is_flagged(env: dict[str, str]) -> None:
    # bob is a participant with no [oncall.people.bob]: on call on the second day of the daily rotation
    result = run_cli(["oncall", "now", "--at", "2026-03-24T12:00"], env)
    assert result.exit_code == 0 and "bob" in result.stdout
    text = " ".join(result.stdout.split())
    assert "Warning: bob has no contact details" in text and "(none!)" in text
    alice = run_cli(["oncall", "now", "--at", "2026-03-23T12:00"], env)
    assert "alice@example.com" in alice.stdout and "no contact details" not in alice.stdout


def test_an_export_with_no_shifts_says_why_once(env: dict[str, str], tmp_path: Path) -> None:
    result = run_cli(
        [
            "oncall",
            "export",
            "--ics",
            str(tmp_path / "x.ics"),
            "--from",
            "2026-03-23",
            "--to",
            "2026-04-05",
            "--person",
            "nobody-here",
            "--json",
        ],
        env,
    )
    assert result.exit_code == 0
    warnings = result.json["warnings"]
    assert len(warnings) == 1 and warnings[0].startswith("No shifts to export: nobody-here has no shift")
    before = run_cli(["oncall", "export", "--ics", "-", "--from", "2020-01-01", "--to", "2020-03-31", "--json"], env)
    assert len(before.json["warnings"]) == 1 and before.json["result"]["events"] == 0
