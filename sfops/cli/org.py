"""`sfops org ...`: the org aliases sfops knows, and whether it can reach them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from sfops.cli.common import output_command, pass_app, target_org_option
from sfops.cli.context import AppContext
from sfops.cli.output import Result
from sfops.config import AUTH_MODES, env_key
from sfops.errors import UsageError
from sfops.salesforce.admin import add_org, check_org, list_orgs

LIST_COLUMNS = [
    "alias",
    "default",
    "auth",
    "login_url",
    "instance_url",
    "api_version",
    "production",
    "secrets_set",
    "secrets_missing",
]


@click.group("org")
def org() -> None:
    """Org aliases: list them, check a connection, add one to sfops.toml."""


@org.command("list")
@output_command
@pass_app
def list_cmd(app: AppContext) -> Result:
    """List org aliases with auth mode, URLs, API version and which secrets are set (never values)."""
    rows = list_orgs(app.settings)
    message = None if rows else f"No orgs configured. Add one with `sfops org add` (file: {app.settings.config_path})."
    return Result(
        data=rows,
        rows=rows,
        columns=LIST_COLUMNS,
        title="Orgs",
        message=message,
        optional=["login_url", "secrets_missing", "api_version", "secrets_set"],
    )


@org.command("check")
@target_org_option
@output_command
@pass_app
def check_cmd(app: AppContext, target_org: str | None) -> Result:
    """Connect to an org: org id, user, instance, API version and API usage now."""
    info = check_org(app.org(target_org))
    shown = {k: v for k, v in info.items() if k not in ("api_used", "api_max", "api_usage_percent")}
    if info.get("api_usage_percent") is not None:
        shown["api_usage"] = f"{info['api_usage']} ({info['api_usage_percent']} %)"
    rows = [{"field": k, "value": v} for k, v in shown.items()]  # the JSON keeps every field
    return Result(
        data=info,
        rows=rows,
        columns=["field", "value"],
        title=f"Org {info['alias']}",
        message=f"Connected to {info['alias']} as {info['username']}.",
    )


def _refuse_secret(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        alias = ctx.params.get("alias", "ALIAS")
        raise UsageError(
            f"--{param.name.replace('_', '-')} is refused: secrets never go in sfops.toml. "
            f"Set {env_key(alias, param.name)} in the environment or .env instead."
        )


def _secret_option(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        f"--{name.replace('_', '-')}",
        name,
        hidden=True,
        expose_value=False,
        is_eager=False,
        callback=_refuse_secret,
        help="Refused: secrets come from the environment.",
    )


@org.command("add")
@click.argument("alias", is_eager=True)
@click.option("--auth", "auth", required=True, type=click.Choice(AUTH_MODES), help="How to authenticate.")
@click.option(
    "--login-url",
    help="Login URL: https://login.salesforce.com, https://test.salesforce.com, My Domain, or any https URL.",
)
@click.option("--instance-url", help="Instance URL (required for --auth token).")
@click.option("--username", help="Username (jwt, password).")
@click.option("--client-id", help="Connected app consumer key (jwt, client_credentials).")
@click.option("--private-key-file", type=click.Path(dir_okay=False), help="RSA private key for jwt.")
@click.option("--sf-alias", help="Alias or username known to the Salesforce CLI (sfcli; default: ALIAS).")
@click.option("--ca-bundle", type=click.Path(dir_okay=False), help="CA bundle to trust for this org's TLS.")
@click.option("--api-version", help="API version, e.g. 64.0.")
@click.option("--production", is_flag=True, help="Mark as production: mutating commands ask to confirm.")
@click.option("--set-default", is_flag=True, help="Also make it default_org.")
@_secret_option("password")
@_secret_option("security_token")
@_secret_option("client_secret")
@_secret_option("access_token")
@output_command
@pass_app
def add_cmd(app: AppContext, alias: str, set_default: bool, **values: object) -> Result:
    """Add an org alias to sfops.toml (no secrets: it says which environment variables to set)."""
    for name in ("private_key_file", "ca_bundle"):
        if values.get(name):
            values[name] = str(Path(str(values[name])).expanduser().resolve())
    from sfops.config import config_file_path, merged_environment

    # the one command that may name a file that does not exist yet: it creates it
    path = config_file_path(merged_environment(app.env, app.cwd), app.config_path, app.cwd)
    result = add_org(path, alias, values, make_default=set_default)
    lines = [f"Added org '{alias}' to {result['path']}."]
    if result["set_env"]:
        lines.append("Set in the environment or .env: " + ", ".join(result["set_env"]) + ".")
    if result["optional_env"]:
        lines.append("Optional: " + ", ".join(result["optional_env"]) + ".")
    lines.append(f"Then: sfops org check -o {alias}")
    return Result(data=result, message="\n".join(lines), warnings=result["warnings"])
