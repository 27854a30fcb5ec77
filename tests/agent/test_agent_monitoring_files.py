"""The example Prometheus rules and Grafana dashboard in docs/monitoring: they parse, and every sfops metric
and label they name is one the agent exports (checked against a real registry, not a list kept by hand)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import yaml
from paths import REPO

from sfops.agent.metrics import AgentMetrics
from sfops.store import Store

RULES = REPO / "docs" / "monitoring" / "sfops-alerts.rules.yml"
DASHBOARD = REPO / "docs" / "monitoring" / "sfops-grafana-dashboard.json"
METRIC = re.compile(r"\b(sfops_[a-z0-9_]+)")
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
MATCHER = re.compile(r"[{,]\s*([a-z_]+)\s*(?:=~|!~|!=|=)")
PROMETHEUS_LABELS = {"le", "instance", "job", "__name__"}  # `job`: the scrape job (up{job=...})


def exported(tmp_path) -> tuple[set[str], set[str]]:
    """Every series name and label name the agent's registry can export."""
    metrics = AgentMetrics(Store.open(f"sqlite:///{tmp_path / 's.db'}"), ["prod"], leading=dict)
    names, labels = set(), set()
    for family in metrics.registry.collect():
        names.add(family.name)
        names.update(
            {
                "counter": [f"{family.name}_total"],
                "info": [f"{family.name}_info"],
                "histogram": [f"{family.name}_{s}" for s in ("bucket", "sum", "count")],
            }.get(family.type, [])
        )
        for sample in family.samples:
            labels.update(sample.labels)
    for metric in (metrics.job_duration, metrics.job_runs, metrics.job_failures):
        labels.update(metric._labelnames)
    for collector_family in metrics.collector.describe():  # label names of store-backed families
        labels.update(getattr(collector_family, "_labelnames", ()))
    return names, labels


def check_expression(expr: str, names: set[str], labels: set[str]) -> list[str]:
    problems = [f"unknown metric {m}" for m in METRIC.findall(expr) if m not in names]
    used = {label.strip() for group in GROUPING.findall(expr) for label in group.split(",") if label.strip()}
    used |= set(MATCHER.findall(expr))
    problems += [f"unknown label {label}" for label in used - labels - PROMETHEUS_LABELS]
    return problems


def test_rules_parse_and_name_only_exported_metrics(tmp_path) -> None:
    names, labels = exported(tmp_path)
    doc = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    rules = [rule for group in doc["groups"] for rule in group["rules"]]
    assert len(rules) >= 10
    problems = []
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["alert"] and rule["annotations"]["summary"], rule
        problems += [f"{rule['alert']}: {p}" for p in check_expression(rule["expr"], names, labels)]
    assert problems == []
    named = {m for rule in rules for m in METRIC.findall(rule["expr"])}
    # the list: limits, API usage, durations, failures, last success, leader, lag, incidents, breakers,
    # detector firings
    assert {
        "sfops_org_limit_used_ratio",
        "sfops_org_api_requests_used",
        "sfops_agent_job_duration_seconds_bucket",
        "sfops_agent_job_failures_total",
        "sfops_agent_job_last_success_timestamp_seconds",
        "sfops_agent_leader",
        "sfops_logs_pull_lag_seconds",
        "sfops_incidents_open",
        "sfops_breaker_open",
        "sfops_detector_firings_total",
    } <= named


def test_unknown_metric_or_label_is_caught(tmp_path) -> None:
    names, labels = exported(tmp_path)
    assert check_expression('sum by (job) (sfops_agent_job_failure_total{org="x"})', names, labels) == [
        "unknown metric sfops_agent_job_failure_total"
    ]
    assert check_expression("max by (user) (sfops_agent_leader)", names, labels) == ["unknown label user"]


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed (apt-get install prometheus)")
def test_promtool_accepts_the_rules() -> None:
    proc = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


def test_grafana_dashboard_parses_and_names_only_exported_metrics(tmp_path) -> None:
    names, labels = exported(tmp_path)
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["uid"] == "sfops-agent" and dashboard["panels"]
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert variables == {"datasource", "org"}
    problems = []
    for panel in dashboard["panels"]:
        assert panel["title"] and panel["fieldConfig"]["defaults"]["unit"], panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            expr = target["expr"].replace("$__rate_interval", "5m")
            problems += [f"{panel['title']}: {p}" for p in check_expression(expr, names, labels)]
    assert problems == []
