"""Secrets have no place in sfops.toml: not in `[store] url`, and a typo in an alert channel is not
silently ignored (issue 15 item 17)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fault_proxy import assert_one_error_line

from sfops.cli.app import invoke


def env_with(tmp_path: Path, toml: str) -> dict[str, str]:
    config = tmp_path / "sfops.toml"
    config.write_text(toml, encoding="utf-8")
    return {
        "SFOPS_CONFIG": str(config),
        "HOME": str(tmp_path),
        "SFOPS_DOTENV": str(tmp_path / "no.env"),
        "SFOPS_HOME": str(tmp_path / "home"),
    }


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://ops:S3cretPw@db.example.com/sfops",
        "postgresql+psycopg://ops@db.example.com/sfops?password=S3cretPw",
    ],
)
def test_a_password_in_the_store_url_is_refused(tmp_path: Path, url: str) -> None:
    env = env_with(tmp_path, f'[store]\nurl = "{url}"\n')
    code, out, err = invoke(["switch", "history"], env)
    line = assert_one_error_line(code, out, err)
    assert "[store] url in sfops.toml contains a password" in line and "S3cretPw" not in out + err
    assert not (tmp_path / "home").exists() or not list((tmp_path / "home").iterdir())  # nothing opened


def test_the_url_with_its_password_belongs_in_the_environment(tmp_path: Path) -> None:
    from sfops.config import load_settings
    from sfops.errors import ConfigError

    secret_url = "postgresql+psycopg://ops:S3cretPw@db.example.com/sfops"
    env = {**env_with(tmp_path, "[store]\n"), "SFOPS_STORE_URL": secret_url}
    assert load_settings(env).store_url == secret_url
    env_with(tmp_path, f'[store]\nurl = "{secret_url}"\n')  # the environment overriding it does not make it ok
    with pytest.raises(ConfigError, match="contains a password"):
        load_settings(env)


def test_an_unknown_key_in_an_alert_channel_is_an_error() -> None:
    from sfops.errors import ConfigError
    from sfops.incidents.channels import parse_channel

    with pytest.raises(ConfigError, match=r"unknown key\(s\) time_out for a slack channel"):
        parse_channel("slack", {"type": "slack", "time_out": 3}, {})
    with pytest.raises(ConfigError, match="unknown key"):
        parse_channel("mail", {"type": "email", "smtp_host": "smtp.example.com", "smtp_prot": 587}, {})
    assert parse_channel("pd", {"type": "pagerduty", "source": "sfops", "timeout": 2}, {}).timeout == 2
