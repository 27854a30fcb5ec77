"""Detection rules: the shipped default set and `[detect]` / `[[detect.rules]]` from sfops.toml.

A rule in sfops.toml with the name of a default rule replaces it; `enabled = false` switches one off;
`[detect] defaults = false` drops the default set. Every mistake is a ConfigError naming the rule and key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sfops.detect.model import (
    ACTIONS,
    CONDITIONS,
    MODES,
    SEVERITIES,
    SIGNALS,
    Action,
    DetectConfig,
    Rule,
    parse_duration,
)
from sfops.errors import ConfigError

# The default rule set (docs/detection.md explains each one and why).
DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "name": "limit-exception",
        "signal": "failures",
        "condition": "threshold",
        "threshold": 1,
        "window": "15m",
        "match": {"category": "governor_limit"},
        "severity": "P2",
        "category": "Governor Limit",
        "production_only": True,
        "summary": "{exception} in {entry_point} ({count} in {window})",
        "description": "A governor limit ended a transaction on a production org (debug logs, Error_Log__c).",
    },
    {
        "name": "limit-exception-event",
        "signal": "exceptions",
        "condition": "threshold",
        "threshold": 1,
        "window": "1h",
        "match": {"exception_category": "LimitException*"},
        "severity": "P2",
        "category": "Governor Limit",
        "production_only": True,
        "summary": "{exception_category} in {entry_point} ({count} in {window})",
        "description": "ApexUnexpectedException events with a LimitException category (EventLogFile).",
    },
    {
        "name": "exception-burst",
        "signal": "exceptions",
        "condition": "rate",
        "rate": 1,
        "window": "15m",
        "severity": "P2",
        "summary": "{exception} in {entry_point}: {count} in {window}",
        "description": "One unhandled exception repeating at least once a minute over 15 minutes.",
    },
    {
        "name": "new-failure",
        "signal": "failures",
        "condition": "new_fingerprint",
        "window": "1h",
        "severity": "P3",
        "summary": "New failure: {exception} in {entry_point}",
        "description": "A failure fingerprint the detector has never seen in this org (new code path breaking).",
    },
    {
        "name": "api-requests-forecast",
        "signal": "limits",
        "condition": "forecast",
        "within": "6h",
        "match": {"name": "DailyApiRequests"},
        "severity": "P2",
        "summary": "{name} runs out within {within} ({used_pct}% used)",
        "description": "DailyApiRequests will run out within 6 hours at the rate of the last 24 h.",
    },
    {
        "name": "api-requests-high",
        "signal": "limits",
        "condition": "threshold",
        "threshold": 95,
        "match": {"name": "DailyApiRequests"},
        "severity": "P1",
        "clear_after": "30m",
        "summary": "{name} at {used_pct}% of the daily allowance",
        "description": "DailyApiRequests above 95 %: integrations start failing with REQUEST_LIMIT_EXCEEDED.",
    },
    {
        "name": "storage-high",
        "signal": "limits",
        "condition": "threshold",
        "threshold": 90,
        "match": {"name": ["DataStorageMB", "FileStorageMB"]},
        "severity": "P3",
        "clear_after": "1h",
        "summary": "{name} at {used_pct}%",
        "description": "Data or file storage above 90 %: inserts fail with STORAGE_LIMIT_EXCEEDED when full.",
    },
    {
        "name": "long-running-apex-limit",
        "signal": "long_running",
        "condition": "threshold",
        "threshold": 1,
        "window": "15m",
        "severity": "P2",
        "category": "Governor Limit",
        "summary": "Concurrent long-running Apex limit hit: {request_uri} denied ({count} in {window})",
        "description": "Salesforce denied Apex requests because the org already ran its limit of concurrent "
        "long-running (over 5 s) synchronous requests: every user of those pages is failing.",
    },
    {
        "name": "async-job-failed",
        "signal": "async_jobs",
        "condition": "threshold",
        "threshold": 1,
        "window": "1h",
        "severity": "P3",
        "summary": "{job_type} {apex_class} {status}: {message}",
        "description": "A batch, queueable, future or scheduled Apex job ended Failed or Aborted.",
    },
    {
        "name": "breaker-open",
        "signal": "breakers",
        "condition": "threshold",
        "threshold": 1,
        "window": "15m",
        "severity": "P2",
        "category": "Integration",
        "summary": "Circuit breaker {name} opened",
        "description": "A circuit breaker opened: the integration behind it is failing.",
    },
    {
        "name": "integration-failure-rate",
        "signal": "integrations",
        "condition": "failure_rate",
        "threshold": 50,
        "min_calls": 20,
        "window": "15m",
        "severity": "P3",
        "category": "Integration",
        "summary": "Integration {name}: {value}% of {calls} calls failed in {window}",
        "description": "Half the calls behind a circuit breaker failed over 15 minutes (at least 20 calls): the "
        "integration is failing even if the breaker has not opened (yet, or at all).",
    },
    {
        "name": "deploy-failed",
        "signal": "deploys",
        "condition": "threshold",
        "threshold": 1,
        "window": "1h",
        "severity": "P4",
        "category": "Deployment",
        "mitigate_on_clear": False,
        "summary": "Deployment {id} {status} ({who})",
        "description": "A deployment failed or partly succeeded: the org may run a mix of two releases.",
    },
]

_RULE_KEYS = {
    "name",
    "signal",
    "condition",
    "severity",
    "description",
    "match",
    "threshold",
    "rate",
    "window",
    "within",
    "for",
    "clear_after",
    "flap_window",
    "flap_max",
    "group_by",
    "dedup_key",
    "summary",
    "category",
    "production_only",
    "mitigate_on_clear",
    "actions",
    "enabled",
    "min_calls",
}
_DETECT_KEYS = {"mode", "max_actions_per_hour", "quiet", "defaults", "lookback", "rules", "enabled"}
_ACTION_KEYS = {"type", "switch", "breaker", "user", "scope", "minutes"}


def _num(raw: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}: {key} must be a number >= 0 (got {value!r}).")
    return float(value)


def _action(raw: Any, where: str) -> Action:
    if not isinstance(raw, Mapping):
        raise ConfigError(f'{where}: each action is a table like {{ type = "switch_off", switch = "X__c" }}.')
    unknown = sorted(set(raw) - _ACTION_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; valid: {', '.join(sorted(_ACTION_KEYS))}.")
    kind = raw.get("type")
    if kind not in ACTIONS:
        raise ConfigError(f"{where}: type must be one of {', '.join(ACTIONS)} (got {kind!r}).")
    target_key = {"switch_off": "switch", "breaker_open": "breaker", "trace": "user"}[kind]
    target = raw.get(target_key)
    if not isinstance(target, str) or not target.strip():
        raise ConfigError(f"{where}: a {kind} action names its {target_key}.")
    if kind != "trace" and ("{" in target or "*" in target):
        # guard rail: an action may only touch the switch or breaker the rule names, never a computed one
        raise ConfigError(f"{where}: {target_key} must be a literal name (no templates or wildcards).")
    minutes = raw.get("minutes", 30)
    if kind == "trace" and (isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 1440):
        raise ConfigError(f"{where}: minutes must be 1..1440 (a trace flag lasts at most 24 hours).")
    return Action(type=kind, target=target.strip(), scope=raw.get("scope"), minutes=int(minutes))


def parse_rule(raw: Mapping[str, Any], where: str, *, builtin: bool = False) -> Rule:
    """One `[[detect.rules]]` table as a Rule (ConfigError on any mistake)."""
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; valid: {', '.join(sorted(_RULE_KEYS))}.")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: every rule needs a name.")
    where = f"{where} ({name})"
    signal, condition, severity = raw.get("signal"), raw.get("condition", "threshold"), raw.get("severity")
    if signal not in SIGNALS:
        raise ConfigError(f"{where}: signal must be one of {', '.join(SIGNALS)} (got {signal!r}).")
    if condition not in CONDITIONS:
        raise ConfigError(f"{where}: condition must be one of {', '.join(CONDITIONS)} (got {condition!r}).")
    if condition == "forecast" and signal != "limits":
        raise ConfigError(f"{where}: condition forecast needs signal limits.")
    if condition == "new_fingerprint" and signal not in ("failures", "exceptions"):
        raise ConfigError(f"{where}: condition new_fingerprint needs signal failures or exceptions.")
    if (condition == "failure_rate") != (signal == "integrations"):
        raise ConfigError(f"{where}: condition failure_rate goes with signal integrations (and only it).")
    if severity not in SEVERITIES:
        raise ConfigError(f"{where}: severity must be one of {', '.join(SEVERITIES)} (got {severity!r}).")
    if condition == "rate" and "rate" not in raw:
        raise ConfigError(f"{where}: condition rate needs rate = <events per minute>.")
    match = raw.get("match", {})
    if not isinstance(match, Mapping):
        raise ConfigError(f"{where}: match is a table of field = value (or [values]).")
    group_by = raw.get("group_by", [])
    if isinstance(group_by, str):
        group_by = [group_by]
    actions = raw.get("actions", [])
    if not isinstance(actions, list):
        raise ConfigError(f"{where}: actions is a list of tables.")
    flap_max = int(_num(raw, "flap_max", 3, where))
    if flap_max < 1:
        raise ConfigError(f"{where}: flap_max must be at least 1.")
    return Rule(
        name=name.strip(),
        signal=signal,
        condition=condition,
        severity=severity,
        description=str(raw.get("description", "")),
        match=dict(match),
        threshold=_num(raw, "threshold", 1, where),
        min_calls=int(_num(raw, "min_calls", 10, where)),
        rate=_num(raw, "rate", 0, where) if "rate" in raw else None,
        window=parse_duration(raw.get("window", "15m"), f"{where}.window"),
        within=parse_duration(raw.get("within", "6h"), f"{where}.within"),
        for_=parse_duration(raw.get("for", 0), f"{where}.for"),
        clear_after=parse_duration(raw.get("clear_after", "15m"), f"{where}.clear_after"),
        flap_window=parse_duration(raw.get("flap_window", "1h"), f"{where}.flap_window"),
        flap_max=flap_max,
        group_by=tuple(str(g) for g in group_by),
        dedup_key=str(raw.get("dedup_key", "sfops:{org}:{rule}:{group}")),
        summary=str(raw.get("summary", "{rule}: {count} in {window} ({group})")),
        category=raw.get("category"),
        production_only=bool(raw.get("production_only", False)),
        mitigate_on_clear=bool(raw.get("mitigate_on_clear", True)),
        actions=tuple(_action(a, f"{where}.actions[{i}]") for i, a in enumerate(actions)),
        builtin=builtin,
    )


def default_rules() -> list[Rule]:
    """The shipped rule set."""
    return [parse_rule(raw, f"default rule {i}", builtin=True) for i, raw in enumerate(DEFAULT_RULES)]


def load_config(section: Mapping[str, Any]) -> DetectConfig:
    """`[detect]` (with its `[[detect.rules]]`) over the defaults."""
    unknown = sorted(set(section) - _DETECT_KEYS)
    if unknown:
        raise ConfigError(f"[detect]: unknown key(s) {', '.join(unknown)}; valid: {', '.join(sorted(_DETECT_KEYS))}.")
    mode = section.get("mode", "act")
    if mode not in MODES:
        raise ConfigError(f"[detect] mode must be one of {', '.join(MODES)} (got {mode!r}).")
    rules = {r.name: r for r in default_rules()} if section.get("defaults", True) else {}
    raw_rules = section.get("rules", [])
    if not isinstance(raw_rules, list):
        raise ConfigError("[detect] rules: use [[detect.rules]] tables.")
    seen: set[str] = set()
    for i, raw in enumerate(raw_rules):
        if not isinstance(raw, Mapping):
            raise ConfigError(f"[[detect.rules]] #{i + 1}: expected a table.")
        name = str(raw.get("name", ""))
        if name in seen:
            raise ConfigError(f"[[detect.rules]] #{i + 1}: rule '{name}' is defined twice.")
        seen.add(name)
        if raw.get("enabled", True) is False:
            rules.pop(name, None)
            continue
        base = next((d for d in DEFAULT_RULES if d["name"] == name), None)
        merged = {**base, **raw} if base is not None and "signal" not in raw else dict(raw)
        merged.pop("enabled", None)
        rules[name] = parse_rule(merged, f"[[detect.rules]] #{i + 1}")
    quiet = section.get("quiet", [])
    if not isinstance(quiet, list):
        raise ConfigError('[detect] quiet: a list of { start = "22:00", end = "06:00", time_zone = "..." }.')
    for i, window in enumerate(quiet):
        _check_quiet(window, f"[detect] quiet[{i}]")
    max_actions = section.get("max_actions_per_hour", 3)
    if isinstance(max_actions, bool) or not isinstance(max_actions, int) or max_actions < 0:
        raise ConfigError("[detect] max_actions_per_hour must be a whole number >= 0.")
    return DetectConfig(
        rules=list(rules.values()),
        mode=mode,
        max_actions_per_hour=max_actions,
        quiet=list(quiet),
        lookback=parse_duration(section.get("lookback", "24h"), "[detect] lookback"),
        enabled=bool(section.get("enabled", True)),
    )


def _check_quiet(window: Any, where: str) -> None:
    if not isinstance(window, Mapping) or "start" not in window or "end" not in window:
        raise ConfigError(f"{where}: needs start and end (HH:MM daily, or ISO date-times).")
    try:
        in_quiet_window([window], dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    except (ValueError, KeyError) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def in_quiet_window(windows: Sequence[Mapping[str, Any]], now: dt.datetime) -> Mapping[str, Any] | None:
    """The quiet window containing `now` (daily HH:MM ranges in a time zone, or ISO date-time ranges)."""
    from zoneinfo import ZoneInfo

    for window in windows:
        start, end = str(window["start"]), str(window["end"])
        if len(start) <= 5 and len(end) <= 5:
            zone = ZoneInfo(str(window.get("time_zone", "UTC")))
            local = now.astimezone(zone).time()
            s, e = dt.time.fromisoformat(start), dt.time.fromisoformat(end)
            inside = s <= local < e if s <= e else (local >= s or local < e)
        else:
            s_at, e_at = dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end)
            s_at = s_at if s_at.tzinfo else s_at.replace(tzinfo=dt.UTC)
            e_at = e_at if e_at.tzinfo else e_at.replace(tzinfo=dt.UTC)
            inside = s_at <= now < e_at
        if inside:
            return window
    return None
