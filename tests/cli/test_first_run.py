"""First run: the config file a user names, top-level tables, and the emulator's snippet as a whole file."""

from __future__ import annotations

from pathlib import Path

from cli_support import run_cli

from sfops.emulator import runner


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "HOME": str(tmp_path),
        "SFOPS_HOME": str(tmp_path / "home"),
        "SFOPS_DOTENV": str(tmp_path / "no.env"),
        "COLUMNS": "80",
        **extra,
    }


def test_a_config_file_named_with_the_option_or_the_variable_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    result = run_cli(["--config", str(missing), "org", "list"], _env(tmp_path))
    assert result.exit_code != 0 and f"--config {missing}: no such file." in result.stderr
    assert "Traceback" not in result.stderr
    result = run_cli(["org", "list"], _env(tmp_path, SFOPS_CONFIG=str(missing)))
    assert result.exit_code != 0 and f"SFOPS_CONFIG {missing}: no such file." in result.stderr
    result = run_cli(["org", "list", "--json"], _env(tmp_path, SFOPS_CONFIG=str(missing)))
    assert result.json["name"] == "ConfigError"


def test_without_a_named_file_a_missing_sfops_toml_is_still_fine(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli(["org", "list"], _env(tmp_path))
    assert result.exit_code == 0 and "No orgs configured" in result.stdout


def test_org_add_creates_the_file_it_was_pointed_at(tmp_path: Path) -> None:
    config = tmp_path / "new.toml"
    result = run_cli(
        [
            "--config",
            str(config),
            "org",
            "add",
            "uat",
            "--auth",
            "token",
            "--instance-url",
            "https://acme--uat.sandbox.my.salesforce.com",
        ],
        _env(tmp_path),
    )
    assert result.exit_code == 0, result.stderr
    assert "[orgs.uat]" in config.read_text()


def test_an_unknown_top_level_table_is_an_error_naming_the_valid_ones(tmp_path: Path) -> None:
    config = tmp_path / "sfops.toml"
    config.write_text('[orgz.a]\nauth = "token"\n', encoding="utf-8")
    result = run_cli(["org", "list"], _env(tmp_path, SFOPS_CONFIG=str(config)))
    assert result.exit_code != 0
    line = result.stderr.strip()
    assert "unknown top-level key orgz" in line
    for valid in ("default_org", "orgs", "alerts", "oncall", "rollback", "agent", "store"):
        assert valid in line
    config.write_text(
        'default_org = "a"\n[orgs.a]\nauth = "token"\ninstance_url = "https://x.my.salesforce.com"\n'
        "[alerts]\n[oncall]\n[agent]\n[rollback]\n[console]\n[incidents]\n[store]\n",
        encoding="utf-8",
    )
    assert run_cli(["org", "list"], _env(tmp_path, SFOPS_CONFIG=str(config))).exit_code == 0


def test_the_emulators_snippet_is_a_whole_file_so_org_check_needs_nothing_else(emu, tmp_path: Path) -> None:
    instance = runner.Instance(
        url=emu.url,
        ca_cert=emu.ca_bundle,
        pid=0,
        data_dir=str(tmp_path),
        memory=True,
        org_id="",
        admin_username=emu.settings.admin_username,
        client_id=emu.settings.client_id,
    )
    assert instance.toml_snippet(default=True).startswith('default_org = "emulator"\n')
    config = tmp_path / "sfops.toml"
    config.write_text(instance.toml_snippet(default=True) + "\n", encoding="utf-8")
    env = _env(
        tmp_path,
        SFOPS_CONFIG=str(config),
        SFOPS_STORE_URL=f"sqlite:///{tmp_path / 's.db'}",
        **{k: v for k, v in instance.secret_env({}).items()},
    )
    result = run_cli(["org", "check"], env)
    assert result.exit_code == 0, result.stderr
    assert "Connected to emulator" in result.stdout
