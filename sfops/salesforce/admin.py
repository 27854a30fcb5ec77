"""Org aliases as the `sfops org` commands see them: list, check, add (to sfops.toml, never secrets)."""

from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sfops.config import AUTH_MODES, SECRET_NAMES, OrgConfig, Settings, env_key
from sfops.errors import ConfigError, UsageError

if TYPE_CHECKING:  # only a type here; importing it loads simple-salesforce (slow for `sfops org --help`)
    from sfops.salesforce.org import Org

REQUIRED_SECRETS: dict[str, tuple[str, ...]] = {
    "token": ("access_token",),
    "password": ("password",),
    "client_credentials": ("client_secret",),
    "jwt": (),
    "sfcli": (),
}
OPTIONAL_SECRETS: dict[str, tuple[str, ...]] = {"password": ("security_token",)}
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "token": ("instance_url",),
    "password": ("username",),
    "client_credentials": ("client_id",),
    "jwt": ("client_id", "username", "private_key_file"),
    "sfcli": (),
}
_ALIAS_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_WRITABLE = (
    "auth",
    "login_url",
    "instance_url",
    "api_version",
    "username",
    "client_id",
    "private_key_file",
    "sf_alias",
    "ca_bundle",
    "production",
)


def list_orgs(settings: Settings) -> list[dict[str, Any]]:
    """One row per alias: how it authenticates and which secrets are set (names only, never values)."""
    rows = []
    for alias in sorted(settings.orgs):
        config = settings.orgs[alias]
        missing = [n for n in REQUIRED_SECRETS.get(config.auth, ()) if not config.secret(n)]
        rows.append(
            {
                "alias": alias,
                "default": alias == settings.default_org,
                "auth": config.auth,
                "login_url": config.login_url,
                "instance_url": config.instance_url,
                "api_version": config.api_version,
                "production": config.production,
                "secrets_set": ", ".join(sorted(config.secrets)),
                "secrets_missing": ", ".join(config.secret_variable(n) for n in missing),
            }
        )
    return rows


def check_org(org: Org) -> dict[str, Any]:
    """Authenticate, ask who we are, and read API usage now (one /limits call)."""
    identity = org.identity
    limits = org.limits()
    usage = org.api_usage
    daily = limits.get("DailyApiRequests") or {}
    used = usage.used if usage else (daily.get("Max", 0) - daily.get("Remaining", 0)) if daily else None
    total = usage.max if usage else daily.get("Max")
    return {
        "alias": org.config.alias,
        "auth": org.config.auth,
        "org_id": identity.org_id,
        "user_id": identity.user_id,
        "username": identity.username,
        "instance_url": identity.instance_url,
        "api_version": identity.api_version,
        "production": org.config.production,
        "api_usage": f"{used}/{total}" if used is not None and total else None,
        "api_used": used,
        "api_max": total,
        "api_usage_percent": round(100.0 * used / total, 2) if used is not None and total else None,
    }


def secret_env_vars(alias: str, auth: str) -> tuple[list[str], list[str]]:
    """(required, optional) environment variables holding the secrets of an alias."""
    return (
        [env_key(alias, n) for n in REQUIRED_SECRETS.get(auth, ())],
        [env_key(alias, n) for n in OPTIONAL_SECRETS.get(auth, ())],
    )


def validate_new_org(alias: str, table: Mapping[str, Any]) -> list[str]:
    """Check an alias definition; returns warnings, raises UsageError for what cannot work."""
    if not _ALIAS_RE.match(alias):
        raise UsageError(f"Alias {alias!r}: use letters, digits, '.', '_' or '-' (starting with a letter or digit).")
    auth = table.get("auth")
    if auth not in AUTH_MODES:
        raise UsageError(f"--auth must be one of {', '.join(AUTH_MODES)}.")
    for name in ("login_url", "instance_url"):
        value = table.get(name)
        if value is not None:
            parts = urlsplit(str(value))
            if parts.scheme != "https" or not parts.netloc:
                raise UsageError(f"--{name.replace('_', '-')} must be an https:// URL (got {value!r}).")
    missing = [n for n in REQUIRED_FIELDS[str(auth)] if not table.get(n)]
    if missing:
        raise UsageError(f"auth = {auth} needs {', '.join('--' + m.replace('_', '-') for m in missing)}.")
    warnings = []
    host = urlsplit(str(table.get("login_url") or "https://login.salesforce.com")).netloc
    if auth == "client_credentials" and host in ("login.salesforce.com", "test.salesforce.com"):
        warnings.append(
            "The client credentials flow needs the org's My Domain login URL "
            "(https://<domain>.my.salesforce.com), not login/test.salesforce.com."
        )
    for name in ("private_key_file", "ca_bundle"):
        if table.get(name) and not Path(str(table[name])).expanduser().is_file():
            warnings.append(f"{name} {table[name]} does not exist (yet).")
    return warnings


def add_org(path: Path, alias: str, values: Mapping[str, Any], *, make_default: bool = False) -> dict[str, Any]:
    """Append `[orgs.<alias>]` to the TOML file (created if absent) without any secret.

    Comments and the rest of the file are kept: the new table is appended as text, and
    `default_org` is set or replaced at the top level when asked.
    """
    leaked = sorted(set(values) & set(SECRET_NAMES))
    if leaked:
        raise UsageError(
            "Secrets never go in the TOML file; set "
            + ", ".join(env_key(alias, n) for n in leaked)
            + " in the environment or .env."
        )
    table = {k: values[k] for k in _WRITABLE if values.get(k) not in (None, "", False)}
    warnings = validate_new_org(alias, table)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    try:
        current = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    if alias in (current.get("orgs") or {}):
        raise UsageError(f"Org alias '{alias}' already exists in {path}; edit the file or choose another alias.")
    block = f"\n[orgs.{_toml_key(alias)}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in table.items())
    new_text = (text.rstrip("\n") + "\n" if text.strip() else "") + block
    if make_default:
        new_text = _set_default(new_text, alias)
    if tomllib.loads(new_text)["orgs"][alias] != table:  # our own output must read back exactly
        raise ConfigError(f"Could not write [orgs.{alias}] to {path} faithfully; nothing was changed.")
    OrgConfig(alias=alias, **table)  # and be a valid org definition
    _write_atomically(path, new_text)
    required, optional = secret_env_vars(alias, str(table["auth"]))
    return {
        "alias": alias,
        "path": str(path),
        "table": table,
        "default": make_default,
        "set_env": required,
        "optional_env": optional,
        "warnings": warnings,
    }


def _set_default(text: str, alias: str) -> str:
    line = f"default_org = {_toml_value(alias)}"
    first_table = re.search(r"^\s*\[", text, flags=re.MULTILINE)
    top = text[: first_table.start()] if first_table else text
    if re.search(r"^default_org\s*=", top, flags=re.MULTILINE):
        top = re.sub(r"^default_org\s*=.*$", line, top, count=1, flags=re.MULTILINE)
    else:
        top = line + "\n" + top
    return top + (text[first_table.start() :] if first_table else "")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    # JSON string escapes (\" \\ \n \t \uXXXX ...) are all valid TOML basic-string escapes
    return json.dumps(str(value))


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
