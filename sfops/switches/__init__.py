"""Kill switches: the Kill_Switch__c hierarchy custom setting, read and flipped with an audit trail.

Public API (all take an `Org` and a `Store`, return dataclasses, print nothing):
`list_switches`, `show_switches`, `flip`, `restore_due`, `pending_restores`, `history`.
"""

from sfops.switches.catalog import SwitchContext, load_context, load_switches, switches_from_describe
from sfops.switches.hierarchy import resolve
from sfops.switches.model import (
    SETTING_OBJECT,
    Change,
    FlipResult,
    HistoryEntry,
    Level,
    PendingRestore,
    Resolution,
    RestoreOutcome,
    Scope,
    SettingRecord,
    ShowResult,
    Switch,
    SwitchRow,
)
from sfops.switches.scope import parse_assignments, parse_duration, parse_scope, parse_value
from sfops.switches.service import flip, history, list_switches, pending_restores, restore_due, show_switches

__all__ = [
    "SETTING_OBJECT",
    "Change",
    "FlipResult",
    "HistoryEntry",
    "Level",
    "PendingRestore",
    "Resolution",
    "RestoreOutcome",
    "Scope",
    "SettingRecord",
    "ShowResult",
    "Switch",
    "SwitchContext",
    "SwitchRow",
    "flip",
    "history",
    "list_switches",
    "load_context",
    "load_switches",
    "parse_assignments",
    "parse_duration",
    "parse_scope",
    "parse_value",
    "pending_restores",
    "resolve",
    "restore_due",
    "show_switches",
    "switches_from_describe",
]
