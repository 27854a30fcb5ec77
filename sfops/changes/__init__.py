"""What changed in an org before it broke: deployments (DeployRequest), Setup Audit Trail entries, the Apex
named in a failure's stack with its last modification, and sfops's own rollbacks, flips and breaker changes.

Public API: `collect_changes(org, store, alias)` (copy new DeployRequest/SetupAuditTrail rows into the store),
`list_changes(store, alias, since=, until=, stack_classes=)` (ranked), `attach_to_incident(...)`,
`apex_in_stack(text)`, `send_change_events(...)` (PagerDuty Change Events).
"""

from sfops.changes.collect import CollectResult, collect_changes
from sfops.changes.pagerduty import send_change_events
from sfops.changes.rank import Change, apex_in_stack, attach_to_incident, list_changes, stack_apex_changes

__all__ = [
    "Change",
    "CollectResult",
    "apex_in_stack",
    "attach_to_incident",
    "collect_changes",
    "list_changes",
    "send_change_events",
    "stack_apex_changes",
]
