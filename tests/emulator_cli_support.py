"""An isolated CLI environment (sfops.toml + env) pointing at the test emulator, shared by the areas'
CLI tests. A plain module with a unique name (not conftest) so that `import` works whichever test
directories pytest collects together."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def emulator_cli_env(
    emulator: Any,
    tmp_path: Path,
    *,
    aliases: Sequence[str] = ("emu",),
    production: Sequence[str] = (),
    actor: str = "alice",
    max_retries: int = 2,
    extra_toml: str = "",
) -> dict[str, str]:
    """Environment for `sfops.cli.app.invoke`: an sfops.toml in tmp_path with one password-auth org per
    alias on the emulator (the first is default_org; those in `production` get `production = true`),
    secrets in the environment, store and home in tmp_path, no .env."""
    s = emulator.settings
    tables = [
        f'[orgs.{alias}]\nauth = "password"\nlogin_url = "{emulator.url}"\ninstance_url = "{emulator.url}"\n'
        f'username = "{s.admin_username}"\nclient_id = "{s.client_id}"\nca_bundle = "{emulator.ca_bundle}"\n'
        + ("production = true\n" if alias in production else "")
        + f"max_retries = {max_retries}\n"
        for alias in aliases
    ]
    config = tmp_path / "sfops.toml"
    config.write_text(f'default_org = "{aliases[0]}"\n\n' + "\n".join(tables) + "\n" + extra_toml, encoding="utf-8")
    env = {
        "SFOPS_CONFIG": str(config),
        "SFOPS_HOME": str(tmp_path / "home"),
        "SFOPS_STORE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "SFOPS_ACTOR": actor,
        "SFOPS_DOTENV": str(tmp_path / "no.env"),
        "HOME": str(tmp_path),
        "COLUMNS": "200",
    }
    for alias in aliases:
        key = alias.upper()
        env[f"SFOPS_ORG_{key}_PASSWORD"] = s.admin_password
        env[f"SFOPS_ORG_{key}_CLIENT_SECRET"] = s.client_secret
    return env
