"""Small traps: output files behave the same everywhere, a draft is not overwritten, and the token hint names
the variable the environment-defined org really reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import run_cli
from emulator_cli_support import emulator_cli_env

from sfops.config import load_settings
from sfops.emulator.testing import RunningEmulator


@pytest.fixture
def env(emu: RunningEmulator, tmp_path: Path) -> dict[str, str]:
    return emulator_cli_env(emu, tmp_path)


def test_postmortem_out_refuses_to_overwrite_a_draft_without_force(env: dict[str, str], tmp_path: Path) -> None:
    ref = run_cli(["incident", "raise", "-s", "P3", "-m", "Slow", "--json"], env).json["result"]["incident"]["name"]
    draft = tmp_path / "pm.md"
    assert run_cli(["incident", "postmortem", ref, "--out", str(draft)], env).exit_code == 0
    draft.write_text("edited by people", encoding="utf-8")
    result = run_cli(["incident", "postmortem", ref, "--out", str(draft)], env)
    assert result.exit_code == 2 and "the file exists; pass --force" in result.stderr
    assert draft.read_text(encoding="utf-8") == "edited by people"
    assert run_cli(["incident", "postmortem", ref, "--out", str(draft), "--force"], env).exit_code == 0
    assert draft.read_text(encoding="utf-8").startswith("#")


@pytest.mark.parametrize(
    "argv",
    [
        ["dashboard", "--out", "{missing}/x.html"],
        ["incident", "postmortem", "INC-00001", "--out", "{missing}/pm.md"],
        ["oncall", "export", "--ics", "{missing}/on.ics"],
        ["rollback", "status", "--job-id", "0Af5g000000001iCAA", "--junit", "{missing}/j.xml"],
        ["limits", "report", "--parquet", "{missing}/l.parquet"],
        ["logs", "report", "--parquet", "{missing}/l.parquet"],
    ],
)
def test_a_missing_output_folder_is_an_error_never_created(
    env: dict[str, str], tmp_path: Path, argv: list[str]
) -> None:
    missing = tmp_path / "nonexistent"
    result = run_cli([a.format(missing=missing) for a in argv], env)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert f"folder {missing} does not exist" in result.stderr and "Traceback" not in result.stderr
    assert not missing.exists()


def test_the_token_hint_names_the_variable_of_the_environment_org(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "HOME": str(tmp_path),
            "SFOPS_INSTANCE_URL": "https://acme.my.salesforce.com",
            "SFOPS_ACCESS_TOKEN": "00Dx!tok",
        },
        None,
        cwd=tmp_path,
    )
    org = settings.org("env")
    assert org.secret_variable("access_token") == "SFOPS_ACCESS_TOKEN"
    config = tmp_path / "sfops.toml"
    config.write_text('[orgs.adhoc]\nauth = "token"\ninstance_url = "https://acme.my.salesforce.com"\n')
    result = run_cli(
        ["org", "check", "-o", "adhoc"],
        {"HOME": str(tmp_path), "SFOPS_CONFIG": str(config), "SFOPS_DOTENV": str(tmp_path / "no.env")},
    )
    assert result.exit_code == 2 and "SFOPS_ORG_ADHOC_ACCESS_TOKEN" in result.stderr


def test_a_rejected_env_token_says_set_sfops_access_token(tmp_path: Path) -> None:
    import responses

    env = {
        "HOME": str(tmp_path),
        "SFOPS_INSTANCE_URL": "https://acme.my.salesforce.com",
        "SFOPS_ACCESS_TOKEN": "00Dx!expired",
        "SFOPS_DOTENV": str(tmp_path / "no.env"),
    }
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(
            responses.GET,
            "https://acme.my.salesforce.com/services/oauth2/userinfo",
            status=401,
            json=[{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}],
        )
        rsps.add(
            responses.GET,
            "https://acme.my.salesforce.com/services/data/v64.0/limits/",
            status=401,
            json=[{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}],
        )
        result = run_cli(["org", "check", "-o", "env"], env)
    assert result.exit_code != 0
    assert "SFOPS_ACCESS_TOKEN" in result.stderr and "SFOPS_ORG_ENV_ACCESS_TOKEN" not in result.stderr
