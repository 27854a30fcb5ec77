"""Configuration: environment, `.env` and the `sfops.toml` file of org aliases.

Precedence (highest first): the process environment, `.env` in the working directory,
`sfops.toml`. Secrets (passwords, security tokens, client secrets, access tokens) are read
only from the environment / `.env` or from the Salesforce CLI, never from the TOML file:
a secret found there is refused with a clear error.

Per-org secrets use the variable `SFOPS_ORG_<ALIAS>_<NAME>` where <ALIAS> is the alias in
upper case with every non-alphanumeric character replaced by `_`
(e.g. `SFOPS_ORG_PROD_PASSWORD`).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from dotenv import dotenv_values

from sfops.errors import ConfigError

AuthMode = Literal["sfcli", "jwt", "password", "client_credentials", "token"]
AUTH_MODES: tuple[str, ...] = ("sfcli", "jwt", "password", "client_credentials", "token")
SECRET_NAMES: tuple[str, ...] = ("password", "security_token", "client_secret", "access_token")
DEFAULT_API_VERSION = "64.0"
DEFAULT_CONFIG_FILE = "sfops.toml"


@dataclass(frozen=True)
class OrgConfig:
    """How to reach one org. Secrets live in the `secrets` mapping, filled from env only."""

    alias: str
    auth: AuthMode = "token"
    login_url: str = "https://login.salesforce.com"
    instance_url: str | None = None
    api_version: str = DEFAULT_API_VERSION
    username: str | None = None
    client_id: str | None = None
    private_key_file: str | None = None
    sf_alias: str | None = None
    ca_bundle: str | None = None
    production: bool = False
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    max_retries: int = 4
    request_deadline: float = 600.0  # seconds for one call, retries and a trickling answer included
    max_response_mb: float = 200.0  # the largest answer held in memory
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    from_env: bool = field(default=False, compare=False)  # the "env" org of SFOPS_INSTANCE_URL/ACCESS_TOKEN

    def secret(self, name: str) -> str | None:
        """A secret by name (password, security_token, client_secret, access_token)."""
        return self.secrets.get(name)

    def secret_variable(self, name: str) -> str:
        """The environment variable that holds secret `name` for this org (what to tell the user to set)."""
        if self.from_env and name == "access_token":
            return "SFOPS_ACCESS_TOKEN"
        return env_key(self.alias, name)

    def public_dict(self) -> dict[str, Any]:
        """Everything but secrets: safe to print or write to the TOML file."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("secrets", "from_env")}
        out["secrets_set"] = sorted(self.secrets)
        return out


@dataclass(frozen=True)
class Settings:
    """The whole configuration after merging files and environment."""

    orgs: dict[str, OrgConfig]
    default_org: str | None
    config_path: Path
    home: Path
    store_url: str
    env: Mapping[str, str] = field(repr=False)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def org(self, alias: str | None) -> OrgConfig:
        """The org for an alias, or the default org; a clear error lists the known aliases."""
        name = alias or self.env.get("SFOPS_TARGET_ORG") or self.default_org
        if not name:
            raise ConfigError(
                f"No target org: pass -o/--target-org, set SFOPS_TARGET_ORG, or set default_org in {self.config_path}.",
                actions=["sfops org add ALIAS ...", "sfops org list"],
            )
        if name not in self.orgs:
            known = ", ".join(sorted(self.orgs)) or "(none)"
            raise ConfigError(f"Unknown org alias '{name}'. Known aliases: {known}.")
        return self.orgs[name]

    def section(self, name: str) -> Mapping[str, Any]:
        """A top-level TOML table (e.g. 'oncall', 'alerts', 'agent'); empty if absent."""
        value = self.raw.get(name, {})
        return value if isinstance(value, Mapping) else {}


def toml_table(value: Any, where: str, *, see: str | None = None) -> Mapping[str, Any]:
    """A TOML table of sfops.toml (absent = empty); anything else is a ConfigError naming `where`."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        hint = f" (see {see})" if see else ""
        raise ConfigError(f"{where} must be a table, not {value!r}{hint}.")
    return value


def env_key(alias: str, name: str) -> str:
    """The environment variable holding secret `name` of org `alias`."""
    return f"SFOPS_ORG_{re.sub(r'[^A-Za-z0-9]', '_', alias).upper()}_{name.upper()}"


def merged_environment(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> dict[str, str]:
    """The process environment over `.env` (python-dotenv); real variables win."""
    environ = dict(os.environ if environ is None else environ)
    dotenv_path = Path(environ.get("SFOPS_DOTENV") or (cwd or Path.cwd()) / ".env")
    merged: dict[str, str] = {}
    if dotenv_path.is_file():
        merged.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    merged.update(environ)
    # An empty variable means "not set" (a blank line copied from .env.example must not override defaults).
    return {k: v for k, v in merged.items() if v != ""}


def config_file_path(env: Mapping[str, str], config_path: str | Path | None = None, cwd: Path | None = None) -> Path:
    """The sfops.toml to use: --config, else SFOPS_CONFIG, else ./sfops.toml."""
    return Path(config_path or env.get("SFOPS_CONFIG") or (cwd or Path.cwd()) / DEFAULT_CONFIG_FILE).expanduser()


def load_settings(
    environ: Mapping[str, str] | None = None, config_path: str | Path | None = None, cwd: Path | None = None
) -> Settings:
    """Read `.env`, the environment and the TOML file into `Settings`."""
    env = merged_environment(environ, cwd)
    home = Path(env.get("SFOPS_HOME") or Path(env.get("HOME") or "~").expanduser() / ".sfops").expanduser()
    named = config_path or env.get("SFOPS_CONFIG")
    path = config_file_path(env, config_path, cwd)
    raw: dict[str, Any] = {}
    if named and not path.is_file():  # only ./sfops.toml may be absent: a file the user named must exist
        source = "--config" if config_path else "SFOPS_CONFIG"
        raise ConfigError(
            f"{source} {path}: no such file." if not path.exists() else f"{source} {path}: not a file.",
            actions=["sfops org add ALIAS ... (creates it)", "unset SFOPS_CONFIG to use ./sfops.toml"],
        )
    if path.is_file():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
        unknown = sorted(set(raw) - set(TOP_LEVEL_KEYS))
        if unknown:
            raise ConfigError(
                f"{path}: unknown top-level {'key' if len(unknown) == 1 else 'keys'} "
                f"{', '.join(unknown)}. Valid ones: {', '.join(TOP_LEVEL_KEYS)}."
            )
    orgs = {alias: _org_from_table(alias, table, env, path) for alias, table in (raw.get("orgs") or {}).items()}
    env_org = _org_from_env(env)
    if env_org and env_org.alias not in orgs:
        orgs[env_org.alias] = env_org
    file_url = _file_store_url(raw)  # checked even when the environment overrides it: the file must not hold it
    store_url = env.get("SFOPS_STORE_URL") or file_url or f"sqlite:///{home / 'sfops.db'}"
    return Settings(
        orgs=orgs,
        default_org=raw.get("default_org") or (env_org.alias if env_org else None),
        config_path=path,
        home=home,
        store_url=store_url,
        env=env,
        raw=raw,
    )


_ORG_KEYS = {f.name for f in fields(OrgConfig)} - {"alias", "secrets", "from_env"}
# What sfops.toml may hold at the top: a misspelt table ([orgz.a], [alert]) is an error, not silently
# ignored. A feature that adds a table adds its name here.
TOP_LEVEL_KEYS = (
    "default_org",
    "orgs",
    "store",
    "agent",
    "alerts",
    "console",
    "detect",
    "incidents",
    "oncall",
    "release",
    "rollback",
)


def _org_from_table(alias: str, table: Mapping[str, Any], env: Mapping[str, str], path: Path) -> OrgConfig:
    leaked = sorted(set(table) & set(SECRET_NAMES))
    if leaked:
        raise ConfigError(
            f"[orgs.{alias}] in {path} contains {', '.join(leaked)}: secrets never go in the TOML file. "
            f"Put them in the environment or .env as {', '.join(env_key(alias, n) for n in leaked)}."
        )
    unknown = sorted(set(table) - _ORG_KEYS)
    if unknown:
        raise ConfigError(
            f"[orgs.{alias}] in {path}: unknown keys {', '.join(unknown)}. Valid keys: {', '.join(sorted(_ORG_KEYS))}."
        )
    auth = table.get("auth", "token")
    if auth not in AUTH_MODES:
        raise ConfigError(f"[orgs.{alias}] auth = '{auth}' is not one of {', '.join(AUTH_MODES)}.")
    secrets = {n: env[env_key(alias, n)] for n in SECRET_NAMES if env.get(env_key(alias, n))}
    org = OrgConfig(alias=alias, secrets=secrets, **{k: table[k] for k in table})
    return _relative_paths(org, path.parent)


def _org_from_env(env: Mapping[str, str]) -> OrgConfig | None:
    """An org described entirely by SFOPS_INSTANCE_URL + SFOPS_ACCESS_TOKEN (alias 'env')."""
    url, token = env.get("SFOPS_INSTANCE_URL"), env.get("SFOPS_ACCESS_TOKEN")
    if not (url and token):
        return None
    return OrgConfig(
        alias="env",
        auth="token",
        instance_url=url,
        login_url=url,
        api_version=env.get("SFOPS_API_VERSION") or DEFAULT_API_VERSION,
        ca_bundle=env.get("SFOPS_CA_BUNDLE"),
        secrets={"access_token": token},
        from_env=True,
    )


def _relative_paths(org: OrgConfig, base: Path) -> OrgConfig:
    def absolute(value: str | None) -> str | None:
        if value and not Path(value).expanduser().is_absolute():
            return str((base / value).resolve())
        return value

    key_file, bundle = absolute(org.private_key_file), absolute(org.ca_bundle)
    if (key_file, bundle) == (org.private_key_file, org.ca_bundle):
        return org
    return replace(org, private_key_file=key_file, ca_bundle=bundle)


def _file_store_url(raw: Mapping[str, Any]) -> str | None:
    """`[store] url` from sfops.toml, refused when it carries a password (secrets never go in the file)."""
    url = raw.get("store", {}).get("url")
    if not url:
        return None
    parts = urlsplit(str(url))
    query_secret = any(k.lower() in ("password", "pass", "passwd") for k, _ in parse_qsl(parts.query))
    if parts.password or query_secret:
        raise ConfigError(
            "[store] url in sfops.toml contains a password: secrets never go in sfops.toml. Put the "
            "whole URL in SFOPS_STORE_URL (environment or .env), or leave the password out and use "
            "the database's own secret store (PostgreSQL: PGPASSWORD or ~/.pgpass)."
        )
    return str(url)
