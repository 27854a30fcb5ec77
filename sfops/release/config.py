"""The `[release]` section of sfops.toml, parsed and checked (docs/release.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sfops.errors import ConfigError
from sfops.release.apex import DEFAULT_GUARDS
from sfops.release.model import CHECKS

LEVELS = ("off", "warn", "fail")


@dataclass(frozen=True)
class ReleaseConfig:
    """Gate settings; every value has a default so an empty section works."""

    levels: dict[str, str] = field(default_factory=lambda: dict.fromkeys(CHECKS, "fail"))
    oncall_hours: float = 4.0
    rotation: str | None = None
    require_channels: tuple[str, ...] | None = None  # None: what the configured alert channels need
    exempt: tuple[str, ...] = ()
    guards: tuple[str, ...] = DEFAULT_GUARDS
    org_wide_coverage: float = 75.0
    class_coverage: float = 75.0
    run_tests: bool = True
    test_wait_minutes: float = 30.0
    large_object: int = 100_000
    volume_ratio: float = 100.0
    explain_concurrency: int = 8
    sandbox: str | None = None
    limit_pct: float = 80.0
    incident_severities: tuple[str, ...] = ("P1", "P2")
    rollback_dir: str = "metadata/rollbacks"


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a table (see docs/release.md).")
    return value


def _number(table: Mapping[str, Any], key: str, default: float, where: str, *, minimum: float = 0) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ConfigError(f"{where} {key} must be a number >= {minimum}, not {value!r}.")
    return float(value)


def _strings(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...] | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'{where} {key} must be a list of strings, e.g. {key} = ["..."].')
    return tuple(value)


def parse_release(section: Mapping[str, Any]) -> ReleaseConfig:
    """ReleaseConfig from `[release]`; a wrong shape or an unknown check/level is a ConfigError."""
    section = _table(section, "[release]")
    levels = dict.fromkeys(CHECKS, "fail")
    for name, level in _table(section.get("checks"), "[release.checks]").items():
        if name not in CHECKS:
            raise ConfigError(f"[release.checks] unknown check '{name}'. Checks: {', '.join(CHECKS)}.")
        if level not in LEVELS:
            raise ConfigError(f"[release.checks] {name} = {level!r}: use one of {', '.join(LEVELS)}.")
        levels[name] = level
    switches = _table(section.get("kill_switches"), "[release.kill_switches]")
    tests = _table(section.get("tests"), "[release.tests]")
    volumes = _table(section.get("data_volumes"), "[release.data_volumes]")
    people = _table(section.get("people"), "[release.people]")
    org_state = _table(section.get("org_state"), "[release.org_state]")
    run_tests = tests.get("run", True)
    if not isinstance(run_tests, bool):
        raise ConfigError("[release.tests] run must be true or false.")
    sandbox = section.get("sandbox")
    if sandbox is not None and not isinstance(sandbox, str):
        raise ConfigError("[release] sandbox must be an org alias (a string).")
    rotation = people.get("rotation")
    if rotation is not None and not isinstance(rotation, str):
        raise ConfigError("[release.people] rotation must be a rotation name.")
    return ReleaseConfig(
        levels=levels,
        oncall_hours=_number(people, "hours", 4, "[release.people]", minimum=0),
        rotation=rotation,
        require_channels=_strings(people, "require", "[release.people]"),
        exempt=_strings(switches, "exempt", "[release.kill_switches]") or (),
        guards=_strings(switches, "guards", "[release.kill_switches]") or DEFAULT_GUARDS,
        org_wide_coverage=_number(tests, "org_wide_coverage", 75, "[release.tests]"),
        class_coverage=_number(tests, "class_coverage", 75, "[release.tests]"),
        run_tests=run_tests,
        test_wait_minutes=_number(tests, "wait_minutes", 30, "[release.tests]"),
        large_object=int(_number(volumes, "large_object", 100_000, "[release.data_volumes]")),
        volume_ratio=_number(volumes, "ratio", 100, "[release.data_volumes]", minimum=1),
        explain_concurrency=int(_number(volumes, "concurrency", 8, "[release.data_volumes]", minimum=1)),
        sandbox=sandbox,
        limit_pct=_number(org_state, "limit_pct", 80, "[release.org_state]"),
        incident_severities=_strings(org_state, "severities", "[release.org_state]") or ("P1", "P2"),
        rollback_dir=str(section.get("rollback_dir", "metadata/rollbacks")),
    )
