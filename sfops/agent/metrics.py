"""Prometheus metrics of a running agent (`/metrics`), with the official `prometheus_client`.

Two kinds, both in one registry per agent:

* what this process measures as it runs jobs: the run-duration histogram and run/failure counters;
* what the store says, read at scrape time by `StoreCollector` (a handful of GROUP BY queries, so a
  scrape costs the same for 1 or 30 orgs): limit usage, open incidents, last success per org and job,
  log-pull lag, breaker states, leadership, detector firings.

Naming follows the Prometheus conventions: base units (seconds, ratios 0-1), `_total` for counters,
and labels only with bounded values (org aliases from sfops.toml, job names, limit names, severities,
breaker names) -- never ids, user names or messages. The job label is `agent_job`: `job` and `instance`
belong to Prometheus (the scrape target), which would rename ours to `exported_job`.
docs/agent.md lists every metric.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import platform
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, Info, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from sfops import __version__
from sfops.store import Store, agent_status

log = logging.getLogger("sfops.agent")
# Jobs take from about a second (a switch restore) to many minutes (a first log pull of a busy org).
DURATION_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0)
OPEN_STATUSES = ("New", "Triaged", "Investigating", "Mitigated")
SEVERITIES = ("P1", "P2", "P3", "P4")
SUCCESS = ("ok",)
PULLED = ("ok", "partial")
Clock = Callable[[], dt.datetime]


def detector_firings(store: Store, orgs: Sequence[str]) -> list[tuple[str, str, int]]:
    """(org, detector rule, times it fired) for `sfops_detector_firings_total`.

    HOOK: sfops.detect (the detection issue) is being built in parallel and is not on main yet. Its
    branch records every firing in `detect_firing` and offers `sfops.detect.firing_counts(store)` ->
    {(org, rule, kind): count}, kind one of fired | updated | cleared | damped; the counter is the
    "fired" ones. Until the package exists the family is exported without samples, so dashboards and
    alert rules can already name it.
    """
    try:
        detect = importlib.import_module("sfops.detect")  # by name: the package is not on main yet
    except ImportError:
        return []
    counts = getattr(detect, "firing_counts", None)
    if counts is None:
        return []
    wanted = set(orgs)
    return sorted(
        (org, str(rule), int(n)) for (org, rule, kind), n in counts(store).items() if kind == "fired" and org in wanted
    )


class AgentMetrics:
    """The registry of one agent process; `observe_run` is called by the agent after every run."""

    def __init__(
        self,
        store: Store,
        orgs: Sequence[str],
        *,
        leading: Callable[[], dict[str, bool]],
        api_usage: Callable[[], dict[str, Any]] | None = None,
        clock: Clock | None = None,
    ) -> None:
        disable_created_metrics()  # no *_created gauges: Prometheus has no use for them in the text format
        self.registry = CollectorRegistry(auto_describe=True)
        self.job_duration = Histogram(
            "sfops_agent_job_duration_seconds",
            "Wall time of agent job runs in this process.",
            ["org", "agent_job"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.job_runs = Counter(
            "sfops_agent_job_runs",
            "Agent job runs in this process by outcome.",
            ["org", "agent_job", "outcome"],
            registry=self.registry,
        )
        self.job_failures = Counter(
            "sfops_agent_job_failures",
            "Agent job runs in this process that failed.",
            ["org", "agent_job"],
            registry=self.registry,
        )
        build = Info("sfops_build", "Version of sfops and Python serving these metrics.", registry=self.registry)
        build.info({"version": __version__, "python": platform.python_version()})
        self.collector = StoreCollector(
            store, orgs, leading=leading, api_usage=api_usage or dict, clock=clock or (lambda: dt.datetime.now(dt.UTC))
        )
        self.registry.register(self.collector)

    def observe_run(self, org: str, job: str, outcome: str, seconds: float) -> None:
        """Count and time one finished run."""
        self.job_duration.labels(org, job).observe(max(0.0, seconds))
        self.job_runs.labels(org, job, outcome).inc()
        if outcome == "failed":
            self.job_failures.labels(org, job).inc()

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition format and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class StoreCollector(Collector):
    """Metrics read from the store at each scrape (so every replica reports the same org state)."""

    def __init__(
        self,
        store: Store,
        orgs: Sequence[str],
        *,
        leading: Callable[[], dict[str, bool]],
        api_usage: Callable[[], dict[str, Any]],
        clock: Clock,
    ) -> None:
        self.store, self.orgs = store, list(orgs)
        self.leading, self.api_usage, self.clock = leading, api_usage, clock

    def describe(self) -> Iterator[Metric]:
        # Families without reading the store (registration must not need a database).
        yield from self._families()

    def _families(self) -> list[Metric]:
        return [
            GaugeMetricFamily(
                "sfops_org_limit_used_ratio",
                "Used / max of each org limit in the newest snapshot (0-1).",
                labels=["org", "limit"],
            ),
            GaugeMetricFamily(
                "sfops_org_limit_max", "Max of each org limit in the newest snapshot.", labels=["org", "limit"]
            ),
            GaugeMetricFamily(
                "sfops_org_limit_snapshot_timestamp_seconds",
                "When the newest limits snapshot was taken (Unix time).",
                labels=["org"],
            ),
            GaugeMetricFamily(
                "sfops_org_api_requests_used",
                "Daily API requests used, from the Sforce-Limit-Info header of the agent's last call.",
                labels=["org"],
            ),
            GaugeMetricFamily(
                "sfops_org_api_requests_max", "Daily API requests allowed, from the same header.", labels=["org"]
            ),
            GaugeMetricFamily(
                "sfops_agent_job_last_success_timestamp_seconds",
                "When a job last finished ok for an org, by any agent on this store (Unix time).",
                labels=["org", "agent_job"],
            ),
            GaugeMetricFamily("sfops_agent_leader", "1 when this agent process leads the org, else 0.", labels=["org"]),
            GaugeMetricFamily(
                "sfops_logs_pull_lag_seconds",
                "Seconds since the start of the newest log pull that completed (ok or partial).",
                labels=["org"],
            ),
            GaugeMetricFamily(
                "sfops_incidents_open", "Open incidents (New to Mitigated) by severity.", labels=["org", "severity"]
            ),
            GaugeMetricFamily(
                "sfops_breaker_open",
                "1 when the circuit breaker was open at the last breaker sync, else 0.",
                labels=["org", "breaker"],
            ),
            CounterMetricFamily(
                "sfops_detector_firings", "Detector firings recorded in the store.", labels=["org", "detector"]
            ),
            GaugeMetricFamily("sfops_metrics_store_read_seconds", "Time this scrape spent reading the store."),
        ]

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        families: dict[str, Any] = {f.name: f for f in self._families()}
        try:
            self._fill(self.clock(), families)
        except Exception as exc:  # a scrape must answer even when the store does not; /readyz says why
            log.warning("metrics: reading the store failed: %s", exc)
            families = {f.name: f for f in self._families()}
        for org, usage in self.api_usage().items():
            if usage is not None:
                families["sfops_org_api_requests_used"].add_metric([org], usage.used)
                families["sfops_org_api_requests_max"].add_metric([org], usage.max)
        leads = self.leading()
        for org in self.orgs:
            families["sfops_agent_leader"].add_metric([org], 1.0 if leads.get(org) else 0.0)
        families["sfops_metrics_store_read_seconds"].add_metric([], time.perf_counter() - started)
        yield from families.values()

    def _fill(self, now: dt.datetime, families: dict[str, Any]) -> None:
        seen: set[str] = set()
        for org, name, maximum, remaining, taken_at in agent_status.latest_limits(self.store, self.orgs):
            if maximum > 0:
                families["sfops_org_limit_used_ratio"].add_metric([org, name], (maximum - remaining) / maximum)
            families["sfops_org_limit_max"].add_metric([org, name], maximum)
            if org not in seen:
                seen.add(org)
                families["sfops_org_limit_snapshot_timestamp_seconds"].add_metric([org], taken_at.timestamp())
        for org, job, finished in agent_status.last_finished(self.store, self.orgs, SUCCESS):
            families["sfops_agent_job_last_success_timestamp_seconds"].add_metric([org, job], finished.timestamp())
        for org, started in agent_status.last_started(self.store, self.orgs, "logs-pull", PULLED):
            families["sfops_logs_pull_lag_seconds"].add_metric([org], max(0.0, (now - started).total_seconds()))
        counts = {
            (org, sev): n for org, sev, n in agent_status.open_incident_counts(self.store, self.orgs, OPEN_STATUSES)
        }
        for org in self.orgs:  # every severity, zeros included: alert rules need the series to exist
            for sev in SEVERITIES:
                families["sfops_incidents_open"].add_metric([org, sev], counts.get((org, sev), 0))
        for org, details in agent_status.latest_details(self.store, self.orgs, "breaker-sync").items():
            states = details.get("states") if isinstance(details, dict) else None
            for name, state in sorted((states or {}).items()):
                families["sfops_breaker_open"].add_metric([org, str(name)], 1.0 if state == "open" else 0.0)
        for org, detector, total in detector_firings(self.store, self.orgs):
            families["sfops_detector_firings"].add_metric([org, detector], total)
