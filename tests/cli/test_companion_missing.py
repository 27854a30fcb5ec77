"""An org without sfops's companion metadata: "deploy force-app first" with the command, not INVALID_TYPE."""

from __future__ import annotations

import pytest
from cli_support import run_cli
from emulator_cli_support import emulator_cli_env

from sfops.emulator.app import EmulatorSettings
from sfops.emulator.testing import running_emulator


@pytest.fixture(scope="module")
def bare_env(tmp_path_factory: pytest.TempPathFactory):
    """An emulator whose org never got the companion package (an empty force-app)."""
    root = tmp_path_factory.mktemp("bare")
    (root / "force-app").mkdir()
    with running_emulator(root / "emu", EmulatorSettings(force_app=root / "force-app")) as emu:
        yield emulator_cli_env(emu, root)


@pytest.mark.parametrize(
    ("argv", "missing"),
    [
        (["switch", "list"], "Kill_Switch__c"),
        (["breaker", "list"], "Circuit_Breaker__c"),
        (["incident", "list"], "Incident_Log__c"),
        (["incident", "raise", "--severity", "P3", "--summary", "x"], "Incident_Log__c"),
    ],
)
def test_a_missing_companion_object_says_deploy_force_app_first(
    bare_env: dict[str, str], argv: list[str], missing: str
) -> None:
    result = run_cli(argv, bare_env)
    assert result.exit_code == 1
    assert f"The org has no {missing}: deploy sfops's companion metadata (force-app) first." in result.stderr
    assert "Try: sf project deploy start --source-dir force-app" in result.stderr
    assert "INVALID_TYPE" not in result.stderr and "NOT_FOUND" not in result.stderr
    assert "Traceback" not in result.stderr
    body = run_cli([*argv, "--json"], bare_env).json
    assert body["actions"][0].startswith("sf project deploy start --source-dir force-app")


def test_a_missing_record_is_still_not_found(bare_env: dict[str, str]) -> None:
    from sfops.salesforce.faults import make_error

    error = make_error(
        "NOT_FOUND",
        "The requested resource does not exist",
        status=404,
        url="https://x.my.salesforce.com/services/data/v64.0/sobjects/Incident_Log__c/a005g0000000001",
    )
    assert "companion" not in error.message and error.actions == []
    error = make_error("INVALID_TYPE", "sObject type 'Incident_Log__c' is not supported.", status=400)
    assert error.message.startswith("The org has no Incident_Log__c") and error.error_code == "INVALID_TYPE"
