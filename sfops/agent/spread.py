"""Which org leases an agent should hold when N agents share M orgs on one store.

Each agent heartbeats a row in `agent_member`; the live rows give N. An agent holds at most
ceil(M / N) leases: it renews the ones it has, takes free (missing or lapsed) ones while it is under
that share, and gives back the surplus (orgs with no job running first) when more agents join. So with
all agents healthy no agent leads more than ceil(M / N) orgs, and when one dies (its heartbeat and
leases lapse) the survivors' share grows and they take its orgs over.

Agents try free orgs starting at an offset derived from their own name, so several agents starting
together mostly reach for different orgs instead of racing for the same ones.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LeasePlan:
    """What one renewal round does: renew `keep`, take `take` (in order, while under the share), give back
    `release`."""

    share: int
    keep: tuple[str, ...]
    take: tuple[str, ...]
    release: tuple[str, ...]


def fair_share(orgs: int, agents: int) -> int:
    """ceil(orgs / agents): the most leases one of `agents` healthy agents should hold."""
    return math.ceil(orgs / max(1, agents))


def rotated(items: Sequence[str], holder: str) -> list[str]:
    """`items` starting at an offset that depends only on `holder` (spreads first attempts)."""
    if not items:
        return []
    offset = int(hashlib.sha256(holder.encode()).hexdigest(), 16) % len(items)
    return [*items[offset:], *items[:offset]]


def plan(
    orgs: Sequence[str],
    held: Collection[str],
    free: Collection[str],
    agents: int,
    *,
    holder: str,
    busy: Collection[str] = (),
) -> LeasePlan:
    """The lease plan of `holder`, holding `held`, seeing `free` orgs and `agents` live agents."""
    share = fair_share(len(orgs), agents)
    keep = [o for o in orgs if o in held]
    release: list[str] = []
    if len(keep) > share:
        surplus = len(keep) - share
        idle_first = [o for o in reversed(keep) if o not in busy] + [o for o in reversed(keep) if o in busy]
        release = idle_first[:surplus]
        keep = [o for o in keep if o not in release]
    room = max(0, share - len(keep))
    take = [o for o in rotated([o for o in orgs if o in free], holder)][:room]
    return LeasePlan(share=share, keep=tuple(keep), take=tuple(take), release=tuple(release))
