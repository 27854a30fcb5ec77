"""Helpers for the kill-switch and breaker tests (a uniquely named module: `from conftest import`
breaks when several test directories are collected together)."""

from __future__ import annotations

from typing import Any

from sfops.emulator.testing import RunningEmulator


def rest_calls(emu: RunningEmulator, since: int) -> list[dict[str, Any]]:
    """Counted API calls (REST/Tooling, not logins or control calls) after journal position `since`."""
    return [e for e in emu.requests_journal()[since:] if e["counted"]]


def journal_len(emu: RunningEmulator) -> int:
    """The current length of the emulator's request journal (a position for `rest_calls`)."""
    return len(emu.requests_journal())
