"""API usage from the `Sforce-Limit-Info` header Salesforce puts on every REST response."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_API_USAGE_RE = re.compile(r"(?:^|[;,\s])api-usage=(\d+)/(\d+)")
_PER_APP_RE = re.compile(r"per-app-api-usage=(\d+)/(\d+)\(appName=([^)]*)\)")


@dataclass(frozen=True)
class ApiUsage:
    """Daily API requests used and allowed, as of the last response (per-app quotas keyed by app)."""

    used: int
    max: int
    per_app: Mapping[str, tuple[int, int]] = field(default_factory=dict, compare=False)

    @property
    def ratio(self) -> float:
        """Used / max (0.0 when max is 0)."""
        return self.used / self.max if self.max else 0.0

    def __str__(self) -> str:
        return f"{self.used}/{self.max}"


def parse_limit_info(header: str | None) -> ApiUsage | None:
    """Parse `api-usage=N/M[; per-app-api-usage=N/M(appName=x)]`, in either order; None if absent."""
    if not header:
        return None
    match = _API_USAGE_RE.search(header)
    if not match:
        return None
    per_app = {name: (int(used), int(total)) for used, total, name in _PER_APP_RE.findall(header)}
    return ApiUsage(int(match.group(1)), int(match.group(2)), per_app)
