"""The agent as a service: /metrics (names, types, values), /livez and /readyz transitions, and a
graceful stop under a running job (the run finishes within the grace, or is recorded as interrupted)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from sfops import __version__
from sfops.agent import Agent, JobResult, JobSpec, lease_name, load_agent_config, run_history
from sfops.agent.health import Health
from sfops.agent.metrics import DURATION_BUCKETS, AgentMetrics
from sfops.agent.runs import finish_run, start_run
from sfops.config import Settings
from sfops.errors import ConfigError
from sfops.incidents import records
from sfops.incidents.model import Incident, Status
from sfops.limits.model import LimitRow
from sfops.limits.snapshots import save_snapshot
from sfops.store import Store
from sfops.web.server import make_server, parse_listen, serve_in_background
from sfops.web.service import agent_endpoints

EXPECTED_TYPES = {
    "sfops_org_limit_used_ratio": "gauge",
    "sfops_org_limit_max": "gauge",
    "sfops_org_limit_snapshot_timestamp_seconds": "gauge",
    "sfops_org_api_requests_used": "gauge",
    "sfops_org_api_requests_max": "gauge",
    "sfops_agent_job_duration_seconds": "histogram",
    "sfops_agent_job_runs": "counter",
    "sfops_agent_job_failures": "counter",
    "sfops_agent_job_last_success_timestamp_seconds": "gauge",
    "sfops_agent_leader": "gauge",
    "sfops_logs_pull_lag_seconds": "gauge",
    "sfops_incidents_open": "gauge",
    "sfops_breaker_open": "gauge",
    "sfops_detector_firings": "counter",
    "sfops_build_info": "gauge",  # an Info: a gauge of 1 carrying version labels
    "sfops_metrics_store_read_seconds": "gauge",
}
# label values must be bounded: org aliases, job/limit/breaker/detector names, severities, outcomes
ALLOWED_LABELS = {"org", "agent_job", "outcome", "limit", "severity", "breaker", "detector", "le", "version", "python"}


def _agent(
    settings: Settings,
    store: Store,
    clock: Callable[[], dt.datetime],
    jobs: dict[str, JobSpec],
    holder: str = "agent-a",
) -> Agent:
    config = load_agent_config(settings, known_jobs=tuple(jobs))
    return Agent(
        config,
        store,
        settings,
        get_org=lambda alias: f"org:{alias}",
        actor="tester",
        clock=clock,
        holder=holder,
        jobs=jobs,
    )


def _jobs(gate: threading.Event | None = None, started: threading.Event | None = None) -> dict[str, JobSpec]:
    def snap(ctx) -> JobResult:
        if started is not None:
            started.set()
        if gate is not None:
            gate.wait(60)
        return JobResult("ok", "done")

    def broken(ctx) -> JobResult:
        raise RuntimeError("boom")

    return {"snap": JobSpec("snap", "snapshot", snap), "broken": JobSpec("broken", "fails", broken)}


def _samples(text: str) -> tuple[dict[str, str], dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    types, values = {}, {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for s in family.samples:
            values[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return types, values


def test_metric_names_types_labels_and_values(make_settings, store: Store, clock) -> None:
    settings = make_settings('[agent]\norgs = ["prod", "uat"]\n[agent.jobs]\nsnap = "1m"\nbroken = "5m"\n')
    agent = _agent(settings, store, clock, _jobs())
    metrics = AgentMetrics(store, agent.config.orgs, leading=agent.leading, api_usage=agent.api_usage, clock=clock)
    agent.observers.append(metrics.observe_run)
    now = clock.now
    save_snapshot(
        store,
        "prod",
        [
            LimitRow("DailyApiRequests", 15000, 12000),
            LimitRow("DataStorageMB", 0, 0),
            LimitRow("DailyApiRequests", 5000, 4000, app="Workbench"),
        ],
        now - dt.timedelta(minutes=20),
    )
    save_snapshot(store, "prod", [LimitRow("DailyApiRequests", 15000, 11250)], now - dt.timedelta(minutes=5))
    records.save_incident(
        store,
        Incident(
            id="a03000000000001AAA",
            org="prod",
            severity="P1",
            status=Status.NEW,
            summary="Checkout down for user 005xx",
            detected_at=now,
        ),
    )
    records.save_incident(
        store,
        Incident(
            id="a03000000000002AAA", org="prod", severity="P2", status=Status.RESOLVED, summary="old", detected_at=now
        ),
    )
    run = start_run(store, alias="prod", job="logs-pull", holder="x", started_at=now - dt.timedelta(seconds=90))
    finish_run(store, run, finished_at=now - dt.timedelta(seconds=60), outcome="ok")
    run = start_run(store, alias="uat", job="breaker-sync", holder="x", started_at=now)
    finish_run(store, run, finished_at=now, outcome="ok", details={"states": {"Payments": "open", "Tax": "closed"}})
    agent.renew()
    assert agent.leading() == {"prod": True, "uat": True}
    assert agent.run_job("prod", "snap", take=False).outcome == "ok"
    assert agent.run_job("prod", "broken", take=False).outcome == "failed"

    body, content_type = metrics.exposition()
    assert content_type.startswith("text/plain; version=")
    types, values = _samples(body.decode())
    assert types == EXPECTED_TYPES
    for (name, labels), _ in values.items():
        assert {k for k, _ in labels} <= ALLOWED_LABELS, (name, labels)

    def value(name: str, **labels: str) -> float:
        return values[(name, tuple(sorted(labels.items())))]

    assert value("sfops_org_limit_used_ratio", org="prod", limit="DailyApiRequests") == pytest.approx(0.25)
    assert value("sfops_org_limit_max", org="prod", limit="DailyApiRequests") == 15000
    assert ("sfops_org_limit_used_ratio", (("limit", "DataStorageMB"), ("org", "prod"))) not in values  # max 0
    newest = (now - dt.timedelta(minutes=5)).timestamp()
    assert value("sfops_org_limit_snapshot_timestamp_seconds", org="prod") == newest
    assert value("sfops_incidents_open", org="prod", severity="P1") == 1
    assert value("sfops_incidents_open", org="prod", severity="P2") == 0  # resolved
    assert value("sfops_incidents_open", org="uat", severity="P1") == 0  # zeros exist for alert rules
    assert value("sfops_logs_pull_lag_seconds", org="prod") == 90
    assert value("sfops_agent_job_last_success_timestamp_seconds", org="prod", agent_job="snap") == now.timestamp()
    assert ("sfops_agent_job_last_success_timestamp_seconds", (("agent_job", "broken"), ("org", "prod"))) not in values
    assert value("sfops_agent_leader", org="prod") == 1 and value("sfops_agent_leader", org="uat") == 1
    assert value("sfops_breaker_open", org="uat", breaker="Payments") == 1
    assert value("sfops_breaker_open", org="uat", breaker="Tax") == 0
    assert value("sfops_agent_job_duration_seconds_count", org="prod", agent_job="snap") == 1
    assert value("sfops_agent_job_duration_seconds_bucket", org="prod", agent_job="snap", le="1800.0") == 1
    assert {
        float(dict(k[1])["le"])
        for k in values
        if k[0] == "sfops_agent_job_duration_seconds_bucket" and dict(k[1])["agent_job"] == "snap"
    } == {*DURATION_BUCKETS, float("inf")}
    assert value("sfops_agent_job_failures_total", org="prod", agent_job="broken") == 1
    assert value("sfops_agent_job_runs_total", org="prod", agent_job="snap", outcome="ok") == 1
    assert (
        value(
            "sfops_build_info",
            version=__version__,
            python=dict(next(k[1] for k in values if k[0] == "sfops_build_info"))["python"],
        )
        == 1
    )
    # released leases show at the next scrape
    agent.release()
    _, values = _samples(metrics.exposition()[0].decode())
    assert value("sfops_agent_leader", org="prod") == 0


def test_a_scrape_answers_while_the_store_is_down(make_settings, tmp_path, clock) -> None:
    settings = make_settings('[agent.jobs]\nsnap = "1m"\nbroken = "off"\n')
    store = Store.open(f"sqlite:///{tmp_path / 'gone.db'}")
    agent = _agent(settings, store, clock, _jobs())
    metrics = AgentMetrics(store, agent.config.orgs, leading=agent.leading, clock=clock)
    (tmp_path / "gone.db").unlink()
    store.engine.dispose()
    (tmp_path / "gone.db").mkdir()  # a directory where the database file was: every query fails
    types, values = _samples(metrics.exposition()[0].decode())
    assert types == {
        k: v
        for k, v in EXPECTED_TYPES.items()
        if not k.startswith(("sfops_agent_job_duration", "sfops_agent_job_runs", "sfops_agent_job_f"))
    } | {
        "sfops_agent_job_duration_seconds": "histogram",
        "sfops_agent_job_runs": "counter",
        "sfops_agent_job_failures": "counter",
    }
    assert not [k for k in values if k[0] == "sfops_incidents_open"]


def test_health_transitions(make_settings, store: Store, tmp_path, clock) -> None:
    settings = make_settings('[agent]\nlease_seconds = 20\n[agent.jobs]\nsnap = "1m"\nbroken = "off"\n')
    agent = _agent(settings, store, clock, _jobs())
    broken_config = threading.Event()

    def check_config() -> None:
        if broken_config.is_set():
            raise ConfigError("[agent] in sfops.toml: workers must be an integer from 1 to 32.")

    health = Health(agent, check_config=check_config)
    assert health.live()
    first = health.ready()
    assert not first.ready and first.checks["leases"] == "not renewed yet"
    agent.renew()
    assert health.ready().ready, health.ready().checks
    clock.advance(seconds=21)  # the renewal round has not run for longer than lease_seconds
    stale = health.ready()
    assert not stale.ready and stale.checks["leases"].startswith("stale: last renewal 21 s ago")
    agent.renew()
    assert health.ready().ready
    broken_config.set()
    invalid = health.ready()
    assert not invalid.ready and invalid.checks["config"] == (
        "invalid: [agent] in sfops.toml: workers must be an integer from 1 to 32."
    )
    broken_config.clear()
    # the store goes away: renewal fails and the store check says so
    real_engine = store.engine
    (tmp_path / "nowhere").mkdir()
    (tmp_path / "nowhere" / "db").mkdir()
    store.engine = create_engine(f"sqlite:///{tmp_path / 'nowhere' / 'db'}")  # a directory: cannot open
    agent.renew()
    down = health.ready()
    assert not down.ready and down.checks["store"] == "unreachable: OperationalError"
    assert down.checks["leases"].startswith("renewal failed")
    store.engine = real_engine
    agent.renew()
    assert health.ready().ready
    agent.stopping.set()
    stopping = health.ready()
    assert not stopping.ready and stopping.checks["running"] == "stopping"


def test_endpoints_over_http(make_settings, store: Store, clock) -> None:
    settings = make_settings('[agent.jobs]\nsnap = "1m"\nbroken = "off"\n')
    agent = _agent(settings, store, clock, _jobs())
    metrics = AgentMetrics(store, agent.config.orgs, leading=agent.leading, clock=clock)
    server = make_server("127.0.0.1", 0, agent_endpoints(metrics, Health(agent)))
    serve_in_background(server)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert requests.get(f"{base}/livez", timeout=10).status_code == 200
        not_ready = requests.get(f"{base}/readyz", timeout=10)
        assert not_ready.status_code == 503 and "leases: not renewed yet" in not_ready.text
        agent.renew()
        ready = requests.get(f"{base}/readyz", timeout=10)
        assert ready.status_code == 200 and "store: ok" in ready.text
        scrape = requests.get(f"{base}/metrics", timeout=10)
        assert scrape.status_code == 200 and scrape.headers["Content-Type"].startswith("text/plain; version=")
        assert 'sfops_agent_leader{org="prod"} 1.0' in scrape.text
        assert requests.get(f"{base}/nope", timeout=10).status_code == 404
    finally:
        server.shutdown()
        server.server_close()


def test_parse_listen() -> None:
    assert parse_listen("9464") == ("127.0.0.1", 9464)
    assert parse_listen(":9464") == ("127.0.0.1", 9464)
    assert parse_listen("0.0.0.0:80") == ("0.0.0.0", 80)  # noqa: S104 -- explicit choice, not the default
    assert parse_listen("[::1]:9464") == ("::1", 9464)
    with pytest.raises(Exception, match="expected HOST:PORT"):
        parse_listen("localhost:http")


def _serve(agent: Agent, stop: threading.Event, grace: float) -> tuple[threading.Thread, list]:
    result: list = []
    thread = threading.Thread(target=lambda: result.extend(agent.serve(stop, grace=grace)))
    thread.start()
    return thread, result


def test_sigterm_lets_a_running_job_finish_within_the_grace(make_settings, store: Store) -> None:
    settings = make_settings('[agent]\nlease_seconds = 4\n[agent.jobs]\nsnap = "1h"\nbroken = "off"\n')
    gate, started = threading.Event(), threading.Event()
    agent = _agent(settings, store, lambda: dt.datetime.now(dt.UTC), _jobs(gate, started))
    health = Health(agent)
    stop = threading.Event()
    thread, left = _serve(agent, stop, grace=30)
    try:
        assert started.wait(30), "the due job did not start"
        assert health.ready().ready
        stop.set()  # what SIGTERM does in the CLI
        for _ in range(100):
            if not health.ready().ready:
                break
            threading.Event().wait(0.05)
        assert health.ready().checks["running"] == "stopping"
        assert thread.is_alive()  # waiting for the job, not gone
        gate.set()
    finally:
        gate.set()
        stop.set()
        thread.join(30)
    assert not thread.is_alive() and left == []
    runs = run_history(store, job="snap")
    assert [(r.outcome, r.summary) for r in runs] == [("ok", "done")]
    assert not agent.lease.is_live(agent.lease.info(lease_name("prod")))


def test_a_job_past_the_grace_is_recorded_as_interrupted(make_settings, store: Store) -> None:
    settings = make_settings('[agent]\nlease_seconds = 4\n[agent.jobs]\nsnap = "1h"\nbroken = "off"\n')
    gate, started = threading.Event(), threading.Event()
    agent = _agent(settings, store, lambda: dt.datetime.now(dt.UTC), _jobs(gate, started))
    stop = threading.Event()
    thread, left = _serve(agent, stop, grace=0.5)
    try:
        assert started.wait(30)
        stop.set()
        thread.join(30)
        assert not thread.is_alive()
        [run] = run_history(store, job="snap")
        assert left == [(run.id, "prod", "snap")]
        assert run.outcome == "failed" and run.error == "interrupted: the agent stopped (grace period 0.5 s ran out)"
        assert not agent.lease.is_live(agent.lease.info(lease_name("prod")))
    finally:
        gate.set()


def test_detector_firings_come_from_sfops_detect_when_it_exists(store: Store, monkeypatch) -> None:
    import sys
    import types

    from sfops.agent.metrics import detector_firings

    fake = types.ModuleType("sfops.detect")
    fake.firing_counts = lambda s: {
        ("prod", "apex-errors", "fired"): 3,
        ("prod", "apex-errors", "cleared"): 2,  # type: ignore[attr-defined]
        ("uat", "limits", "fired"): 1,
        ("other", "x", "fired"): 9,
    }
    monkeypatch.setitem(sys.modules, "sfops.detect", fake)
    assert detector_firings(store, ["prod", "uat"]) == [("prod", "apex-errors", 3), ("uat", "limits", 1)]
