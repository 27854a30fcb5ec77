"""Liveness and readiness of a running agent, for `/livez` and `/readyz` (Kubernetes probes, systemd checks).

* live: the process answers (the HTTP thread runs). Restart the agent only when this fails.
* ready: the store answers, the lease renewal round ran within `lease_seconds` without error (so
  what the agent believes about its leases is current), the configuration still loads, and the agent
  is not stopping. A standby agent that leads no org is ready: readiness is about the process, not
  about leadership (`sfops_agent_leader` says who leads).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sfops.store import agent_status

OK = "ok"


@dataclass(frozen=True)
class Readiness:
    """Overall verdict and one line per check ('ok' or why not)."""

    ready: bool
    checks: dict[str, str]

    def text(self) -> str:
        return "".join(f"{name}: {verdict}\n" for name, verdict in self.checks.items())


class Health:
    """Checks one agent; `check_config` re-reads sfops.toml and raises on an invalid one."""

    def __init__(
        self,
        agent: Any,
        *,
        check_config: Callable[[], object] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.agent = agent
        self.check_config = check_config
        self.clock = clock or agent.clock

    def live(self) -> bool:
        return True

    def ready(self) -> Readiness:
        checks = {
            "store": self._store(),
            "leases": self._leases(),
            "config": self._config(),
            "running": "stopping" if self.agent.stopping.is_set() else OK,
        }
        return Readiness(all(v == OK for v in checks.values()), checks)

    def _store(self) -> str:
        try:
            agent_status.ping(self.agent.store)
        except Exception as exc:
            return f"unreachable: {type(exc).__name__}"
        return OK

    def _leases(self) -> str:
        if self.agent.renewal_error:
            return f"renewal failed: {self.agent.renewal_error}"
        last = self.agent.last_renewal
        if last is None:
            return "not renewed yet"
        age = (self.clock() - last).total_seconds()
        if age > self.agent.config.lease_seconds:
            return f"stale: last renewal {age:.0f} s ago (lease_seconds {self.agent.config.lease_seconds})"
        return OK

    def _config(self) -> str:
        if self.check_config is None:
            return OK
        try:
            self.check_config()
        except Exception as exc:
            return f"invalid: {getattr(exc, 'message', None) or exc}"
        return OK
