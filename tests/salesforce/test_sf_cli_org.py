"""`sfops org list|check|add` run in-process."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from cli_support import run_cli
from sf_fixtures import API, INSTANCE, TOKEN, wire_bytes


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "sfops.toml").touch()  # a file SFOPS_CONFIG names must exist
    return {
        "HOME": str(tmp_path),
        "SFOPS_CONFIG": str(tmp_path / "sfops.toml"),
        "SFOPS_DOTENV": str(tmp_path / "no.env"),
        "COLUMNS": "250",
    }


def _config(env: dict[str, str]) -> dict:
    return tomllib.loads(Path(env["SFOPS_CONFIG"]).read_text())


def test_add_writes_the_alias_without_secrets_and_keeps_the_file(env: dict[str, str], tmp_path: Path) -> None:
    Path(env["SFOPS_CONFIG"]).write_text('# my orgs\n[orgs.dev]\nauth = "sfcli"\n')
    key = tmp_path / "server.key"
    key.write_text("k")
    result = run_cli(
        [
            "org",
            "add",
            "prod",
            "--auth",
            "jwt",
            "--login-url",
            "https://acme.my.salesforce.com",
            "--username",
            "ops@acme.com",
            "--client-id",
            "3MVG",
            "--private-key-file",
            str(key),
            "--production",
            "--set-default",
        ],
        env,
    )
    assert result.exit_code == 0, result.stderr
    text = Path(env["SFOPS_CONFIG"]).read_text()
    assert text.startswith('default_org = "prod"\n# my orgs\n')
    config = _config(env)
    assert config["orgs"]["dev"] == {"auth": "sfcli"}
    assert config["orgs"]["prod"] == {
        "auth": "jwt",
        "login_url": "https://acme.my.salesforce.com",
        "username": "ops@acme.com",
        "client_id": "3MVG",
        "private_key_file": str(key),
        "production": True,
    }
    assert "sfops org check -o prod" in result.stdout


def test_add_tells_which_env_vars_to_set(env: dict[str, str]) -> None:
    result = run_cli(
        [
            "org",
            "add",
            "my-org.uat",
            "--auth",
            "password",
            "--username",
            "u@x.com",
            "--login-url",
            "https://test.salesforce.com",
            "--json",
        ],
        env,
    )
    assert result.exit_code == 0
    data = result.json["result"]
    assert data["set_env"] == ["SFOPS_ORG_MY_ORG_UAT_PASSWORD"]
    assert data["optional_env"] == ["SFOPS_ORG_MY_ORG_UAT_SECURITY_TOKEN"]
    assert _config(env)["orgs"]["my-org.uat"]["username"] == "u@x.com"


@pytest.mark.parametrize("option", ["--password", "--security-token", "--client-secret", "--access-token"])
def test_add_refuses_secret_options(env: dict[str, str], option: str) -> None:
    result = run_cli(["org", "add", "prod", "--auth", "token", "--instance-url", INSTANCE, option, "s3cret"], env)
    assert result.exit_code == 2
    assert "secrets never go in sfops.toml" in result.stderr
    assert f"SFOPS_ORG_PROD_{option[2:].replace('-', '_').upper()}" in result.stderr
    assert "s3cret" not in result.stderr
    assert Path(env["SFOPS_CONFIG"]).read_text() == ""  # nothing written


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--auth", "token"], "needs --instance-url"),
        (["--auth", "jwt", "--username", "u"], "needs --client-id, --private-key-file"),
        (["--auth", "token", "--instance-url", "http://127.0.0.1:8443"], "must be an https:// URL"),
    ],
)
def test_add_validates_per_auth_mode(env: dict[str, str], args: list[str], message: str) -> None:
    result = run_cli(["org", "add", "x", *args], env)
    assert result.exit_code == 2 and message in result.stderr


def test_add_refuses_a_duplicate_alias(env: dict[str, str]) -> None:
    args = ["org", "add", "dev", "--auth", "sfcli"]
    assert run_cli(args, env).exit_code == 0
    result = run_cli(args, env)
    assert result.exit_code == 2 and "already exists" in result.stderr


def test_list_shows_secret_names_not_values(env: dict[str, str]) -> None:
    Path(env["SFOPS_CONFIG"]).write_text(
        'default_org = "prod"\n[orgs.prod]\nauth = "password"\nusername = "u@x.com"\nproduction = true\n'
        '[orgs.cc]\nauth = "client_credentials"\nclient_id = "k"\nlogin_url = "https://acme.my.salesforce.com"\n'
    )
    env = {**env, "SFOPS_ORG_PROD_PASSWORD": "hunter2", "SFOPS_ORG_PROD_SECURITY_TOKEN": "tok"}
    result = run_cli(["org", "list", "--json"], env)
    assert result.exit_code == 0 and "hunter2" not in result.stdout and 'tok"' not in result.stdout
    rows = {r["alias"]: r for r in result.json["result"]}
    assert rows["prod"]["secrets_set"] == "password, security_token"
    assert rows["prod"]["default"] is True and rows["prod"]["production"] is True
    assert rows["cc"]["secrets_missing"] == "SFOPS_ORG_CC_CLIENT_SECRET"
    result = run_cli(["org", "list"], env)
    assert result.exit_code == 0 and "prod" in result.stdout and "hunter2" not in result.stdout


def test_check_reports_identity_and_api_usage(env: dict[str, str], rsps) -> None:
    env = {**env, "SFOPS_INSTANCE_URL": INSTANCE, "SFOPS_ACCESS_TOKEN": TOKEN, "SFOPS_API_VERSION": "64.0"}
    rsps.get(
        f"{INSTANCE}/services/oauth2/userinfo",
        json={
            "user_id": "005U0000000EApcIAG",
            "organization_id": "00DU0000000AlbhMAC",
            "preferred_username": "ops@acme.com",
        },
    )
    rsps.get(
        f"{API}/limits/",
        body=wire_bytes("limits.json"),
        content_type="application/json",
        headers={"Sforce-Limit-Info": "api-usage=1500/15000"},
    )
    result = run_cli(["org", "check", "-o", "env", "--json"], env)
    assert result.exit_code == 0, result.stderr
    data = result.json["result"]
    assert data["org_id"] == "00DU0000000AlbhMAC" and data["username"] == "ops@acme.com"
    assert data["api_usage"] == "1500/15000" and data["api_usage_percent"] == 10.0
    assert data["instance_url"] == INSTANCE and data["api_version"] == "64.0"
    assert TOKEN.split("!")[1] not in result.stdout


def test_check_fails_clearly_on_auth_errors(env: dict[str, str], rsps) -> None:
    env = {**env, "SFOPS_INSTANCE_URL": INSTANCE, "SFOPS_ACCESS_TOKEN": TOKEN}
    rsps.get(
        f"{INSTANCE}/services/oauth2/userinfo",
        body=wire_bytes("error-invalid-session-id.json"),
        status=401,
        content_type="application/json",
    )
    result = run_cli(["org", "check"], env)
    assert result.exit_code == 1
    assert "Error (SessionExpiredError)" in result.stderr and "cannot refresh" in result.stderr
    assert "Traceback" not in result.stderr
