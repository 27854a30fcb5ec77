"""Detection and response: rules over stored signals raise, update and clear incidents, and run opt-in actions.

Public API: `load_config(section)`, `default_rules()`, `run_detection(...)` (one tick), `replay(...)`
(`sfops detect test`), `firings(store, org=...)` / `firing_counts(store)` (what fired, for metrics),
`undo(...)`, `actions_log(...)`, `collect_async_failures(...)`. See docs/detection.md.
"""

from sfops.detect.actions import actions_log, undo
from sfops.detect.asyncjobs import collect_async_failures
from sfops.detect.detector import DetectResult, firing_counts, firings, run_detection
from sfops.detect.model import Action, DetectConfig, Rule
from sfops.detect.replay import ReplayResult, replay
from sfops.detect.rules import DEFAULT_RULES, default_rules, load_config

__all__ = [
    "DEFAULT_RULES",
    "Action",
    "DetectConfig",
    "DetectResult",
    "ReplayResult",
    "Rule",
    "actions_log",
    "collect_async_failures",
    "default_rules",
    "firing_counts",
    "firings",
    "load_config",
    "replay",
    "run_detection",
    "undo",
]
