"""The per-invocation context every command receives: settings, console, store, org."""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console

from sfops.config import OrgConfig, Settings, load_settings
from sfops.errors import Aborted

if TYPE_CHECKING:
    from sfops.salesforce import Org
    from sfops.store import Store


@dataclass
class AppContext:
    """Holds what a command needs; everything is created lazily and only once."""

    env: Mapping[str, str]
    stdout: TextIO
    stderr: TextIO
    stdin: TextIO
    config_path: str | None = None
    cwd: Path | None = None
    _orgs: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.env, self.config_path, self.cwd)

    @cached_property
    def console(self) -> Console:
        return Console(file=self.stdout, soft_wrap=False, width=_width(self.env))

    @cached_property
    def err_console(self) -> Console:
        return Console(file=self.stderr, soft_wrap=True, width=_width(self.env))

    @cached_property
    def store(self) -> Store:
        from sfops.store import Store

        return Store.open(self.settings.store_url)

    @property
    def actor(self) -> str:
        """Who runs this command, for audit records."""
        return self.settings.env.get("SFOPS_ACTOR") or _login_name()

    def org_config(self, alias: str | None) -> OrgConfig:
        return self.settings.org(alias)

    def org(self, alias: str | None) -> Org:
        """A connected `Org` for the alias (or the default org)."""
        from sfops.salesforce import connect

        config = self.org_config(alias)
        if config.alias not in self._orgs:
            self._orgs[config.alias] = connect(config, env=self.settings.env)
        return self._orgs[config.alias]

    def confirm_production(self, config: OrgConfig, action: str, *, yes: bool) -> None:
        """Ask before a mutating action on a production org, unless --yes was given."""
        if yes or not config.production:
            return
        if not self.stdin.isatty():
            raise Aborted(
                f"'{config.alias}' is a production org: {action.rstrip('.')}. Re-run with --yes to confirm "
                "(no terminal to ask on)."
            )
        self.err_console.print(f"[bold]{config.alias}[/bold] is a production org. {action}")
        self.err_console.print("Type the org alias to continue: ", end="")
        answer = self.stdin.readline().strip()
        if answer != config.alias:
            raise Aborted("Not confirmed; nothing was changed.")


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _width(env: Mapping[str, str]) -> int | None:
    value = env.get("COLUMNS")
    return int(value) if value and value.isdigit() else None
