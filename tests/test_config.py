"""Configuration: TOML aliases, env and .env precedence, secrets only from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfops.config import env_key, load_settings
from sfops.errors import ConfigError

TOML = """
default_org = "prod"

[orgs.prod]
auth = "jwt"
login_url = "https://acme.my.salesforce.com"
username = "ops@acme.com"
client_id = "3MVG9"
private_key_file = "keys/server.key"
production = true

[orgs.uat-1]
auth = "password"
login_url = "https://test.salesforce.com"
username = "ops@acme.com.uat"
"""


def write(tmp_path: Path, text: str = TOML) -> Path:
    path = tmp_path / "sfops.toml"
    path.write_text(text)
    return path


def test_aliases_defaults_and_relative_key_path(tmp_path: Path) -> None:
    settings = load_settings({"HOME": str(tmp_path)}, write(tmp_path), cwd=tmp_path)
    prod = settings.org(None)
    assert prod.alias == "prod" and prod.auth == "jwt" and prod.production
    assert prod.private_key_file == str(tmp_path / "keys" / "server.key")
    assert settings.org("uat-1").login_url == "https://test.salesforce.com"
    assert settings.store_url == f"sqlite:///{tmp_path / '.sfops' / 'sfops.db'}"


def test_secrets_come_from_env_and_dotenv_with_env_winning(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"{env_key('uat-1', 'password')}=from-dotenv\n{env_key('uat-1', 'security_token')}=tok-dotenv\n"
    )
    env = {"HOME": str(tmp_path), env_key("uat-1", "password"): "from-env"}
    org = load_settings(env, write(tmp_path), cwd=tmp_path).org("uat-1")
    assert env_key("uat-1", "password") == "SFOPS_ORG_UAT_1_PASSWORD"
    assert org.secret("password") == "from-env"
    assert org.secret("security_token") == "tok-dotenv"
    assert "from-env" not in repr(org) and "from-env" not in str(org.public_dict())


def test_secret_in_toml_is_refused_with_the_env_var_to_use(tmp_path: Path) -> None:
    path = write(tmp_path, '[orgs.x]\nauth = "password"\npassword = "hunter2"\n')
    with pytest.raises(ConfigError) as info:
        load_settings({"HOME": str(tmp_path)}, path, cwd=tmp_path)
    assert "SFOPS_ORG_X_PASSWORD" in info.value.message and "hunter2" not in info.value.message


def test_unknown_alias_lists_known_ones(tmp_path: Path) -> None:
    settings = load_settings({"HOME": str(tmp_path)}, write(tmp_path), cwd=tmp_path)
    with pytest.raises(ConfigError, match=r"Known aliases: prod, uat-1"):
        settings.org("nope")


def test_target_org_env_overrides_default(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "SFOPS_TARGET_ORG": "uat-1"}
    assert load_settings(env, write(tmp_path), cwd=tmp_path).org(None).alias == "uat-1"


def test_bad_auth_mode_and_unknown_keys_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="auth = 'oauth9'"):
        load_settings({"HOME": str(tmp_path)}, write(tmp_path, '[orgs.a]\nauth = "oauth9"\n'), cwd=tmp_path)
    with pytest.raises(ConfigError, match="unknown keys colour"):
        load_settings({"HOME": str(tmp_path)}, write(tmp_path, '[orgs.a]\ncolour = "red"\n'), cwd=tmp_path)


def test_env_only_org(tmp_path: Path) -> None:
    env = {
        "HOME": str(tmp_path),
        "SFOPS_INSTANCE_URL": "https://x.my.salesforce.com",
        "SFOPS_ACCESS_TOKEN": "00Dxx!abc",
    }
    org = load_settings(env, None, cwd=tmp_path).org(None)  # no sfops.toml at all
    assert org.alias == "env" and org.auth == "token" and org.secret("access_token") == "00Dxx!abc"


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings({"HOME": str(tmp_path)}, write(tmp_path, "[orgs.a\n"), cwd=tmp_path)


def test_empty_values_mean_unset(tmp_path: Path) -> None:
    env = {
        "HOME": str(tmp_path),
        "SFOPS_HOME": "",
        "SFOPS_TARGET_ORG": "",
        "SFOPS_INSTANCE_URL": "https://x.test",
        "SFOPS_ACCESS_TOKEN": "t",
        "SFOPS_API_VERSION": "",
    }
    settings = load_settings(env, write(tmp_path), cwd=tmp_path)
    assert settings.home == tmp_path / ".sfops"
    assert settings.org(None).alias == "prod"
    assert settings.org("env").api_version == "64.0"


def test_toml_table_is_empty_when_absent_and_a_config_error_when_not_a_table() -> None:
    from sfops.config import toml_table

    assert toml_table(None, "[alerts]") == {}
    assert toml_table({"a": 1}, "[alerts]") == {"a": 1}
    expected = r"^\[oncall\.people\.alice\] must be a table, not 'x' \(see docs/oncall\.md\)\.$"
    with pytest.raises(ConfigError, match=expected):
        toml_table("x", "[oncall.people.alice]", see="docs/oncall.md")
