"""Table definitions of the local store (SQLAlchemy Core). Migrations create them."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Integer, LargeBinary, MetaData, String, Table, Text

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("description", String(200), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", String(200), nullable=False),
    Column("org", String(200), nullable=False, index=True),  # the org id (the alias until it is known)
    Column("alias", String(200)),  # the alias it was made through, for display (migration 8)
    Column("action", String(100), nullable=False, index=True),
    Column("target", String(500), nullable=False),
    Column("before", JSON),
    Column("after", JSON),
    Column("reason", Text),
    Column("incident_id", String(40), index=True),
    Column("outcome", String(40), nullable=False, default="done"),
    Column("details", JSON),
)

state = Table(
    "state",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("value", JSON),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Pulled Apex debug logs (sfops.logs.pull): ApexLog metadata, the zlib-compressed body, and the parsed summary.
apex_log = Table(
    "apex_log",
    metadata,
    Column("org", String(200), primary_key=True),
    Column("id", String(18), primary_key=True),
    Column("start_time", DateTime(timezone=True), nullable=False, index=True),
    Column("log_user_id", String(18)),
    Column("operation", String(255)),
    Column("request", String(40)),
    Column("application", String(255)),
    Column("status", Text),
    Column("duration_ms", Integer),
    Column("log_length", Integer),
    Column("location", String(40)),
    Column("body", LargeBinary, nullable=False),
    Column("body_bytes", Integer, nullable=False),
    Column("pulled_at", DateTime(timezone=True), nullable=False),
    Column("summary", JSON),
    # an org's recent logs (the console's failures of the last 24 h) without scanning the others (migration 7)
    Index("ix_apex_log_org_start", "org", "start_time"),
)

# Incidents (sfops.incidents): the local mirror of Incident_Log__c (the org record is the truth),
# the timeline, the notification outbox (nothing is lost silently) and on-call overrides.
incident = Table(
    "incident",
    metadata,
    Column("org", String(200), primary_key=True),  # the org id (the alias until it is known)
    Column("id", String(18), primary_key=True),
    Column("alias", String(200)),  # the alias it was last mirrored through, for display (migration 8)
    Column("name", String(80), index=True),
    Column("severity", String(2), nullable=False),
    Column("status", String(40), nullable=False, index=True),
    Column("summary", Text),
    Column("context", Text),
    Column("category", String(80)),
    Column("source", String(255)),
    Column("release", String(100)),
    Column("dedup_key", String(255), index=True),
    Column("occurrence_count", Integer, nullable=False, default=1),
    Column("detected_at", DateTime(timezone=True), index=True),
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("mitigated_at", DateTime(timezone=True)),
    Column("resolved_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("last_seen_at", DateTime(timezone=True)),
    Column("resolution", Text),
    Column("root_cause", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

incident_event = Table(
    "incident_event",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("org", String(200), nullable=False),
    Column("alias", String(200)),  # migration 8
    Column("incident_id", String(18), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("status_from", String(40)),
    Column("status_to", String(40)),
    Column("note", Text),
    Column("details", JSON),
)

notification = Table(
    "notification",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("org", String(200), nullable=False),
    Column("alias", String(200)),  # migration 8
    Column("incident_id", String(18), index=True),
    Column("channel", String(100), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("phase", String(40), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("sent_at", DateTime(timezone=True)),
)

oncall_override = Table(
    "oncall_override",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rotation", String(100), nullable=False, index=True),
    Column("person", String(200), nullable=False),
    Column("start", DateTime(timezone=True), nullable=False),
    Column("end", DateTime(timezone=True), nullable=False),
    Column("reason", Text),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("cancelled_at", DateTime(timezone=True)),
)

# Governor limit snapshots (sfops.limits): one row per limit (and per connected app for nested entries,
# app = "" for the top-level entry) per snapshot; a snapshot is all rows sharing (org, taken_at).
limit_snapshot = Table(
    "limit_snapshot",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("org", String(200), nullable=False, index=True),  # the org id (the alias until it is known)
    Column("alias", String(200)),  # migration 8
    Column("taken_at", DateTime(timezone=True), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("app", String(255), nullable=False, default=""),
    Column("max", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    # the newest snapshot of an org (agent /metrics, console) in O(log n) (migration 7)
    Index("ix_limit_snapshot_org_taken", "org", "taken_at"),
)

# The scheduled agent (sfops.agent): leader leases (one row per lock name) and a record of every job run.
agent_lease = Table(
    "agent_lease",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("holder", String(300), nullable=False),
    Column("acquired_at", DateTime(timezone=True), nullable=False),
    Column("renewed_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    # Fencing token: +1 each time the lease changes hands (or is taken again after lapsing). A run is
    # claimed only while the claimant's generation is still the row's (migration 7).
    Column("generation", BigInteger, nullable=False, default=0, server_default="0"),
)

agent_run = Table(
    "agent_run",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("org", String(200), nullable=False, index=True),
    Column("job", String(100), nullable=False, index=True),
    Column("holder", String(300), nullable=False),
    Column("scheduled_at", DateTime(timezone=True)),
    Column("started_at", DateTime(timezone=True), nullable=False, index=True),
    Column("finished_at", DateTime(timezone=True)),
    Column("outcome", String(20), nullable=False),
    Column("summary", Text),
    Column("error", Text),
    Column("details", JSON),
    Column("lease_generation", BigInteger),  # the lease generation that claimed the run (migration 7)
    # At most one run per org, job and schedule tick, whichever agent claims it (forced runs: tick NULL).
    Index("ux_agent_run_tick", "org", "job", "scheduled_at", unique=True),
)

# Agents sharing a store (migration 7): each one heartbeats its row, so the others know how many are
# alive and how many orgs each should lead (see sfops.agent.spread).
agent_member = Table(
    "agent_member",
    metadata,
    Column("holder", String(300), primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

# Error history imported by `sfops logs pull --errors/--event-logs`: Error_Log__c rows and EventLogFile
# ApexUnexpectedException CSV rows, one row per error, classified like parsed debug logs.
error_event = Table(
    "error_event",
    metadata,
    Column("org", String(200), primary_key=True),
    Column("source", String(40), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False, index=True),
    Column("exception_type", String(255)),
    Column("message", Text),
    Column("stack", Text),
    Column("category", String(40), index=True),
    Column("fingerprint", String(64), index=True),
    Column("entry_point", String(255)),
    Column("user_id", String(18)),
    Column("request_id", String(64)),
    Column("details", JSON),
)

# Detection (sfops.detect): one row per (org, rule, dedup key) with the alert's state machine, the log of
# every firing/update/clear (what the agent's metrics count), and the failure fingerprints already seen.
detect_alert = Table(
    "detect_alert",
    metadata,
    Column("org", String(200), primary_key=True),
    Column("rule", String(200), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("state", String(20), nullable=False),  # pending | firing | inactive
    Column("pending_since", DateTime(timezone=True)),
    Column("fired_at", DateTime(timezone=True)),
    Column("last_true_at", DateTime(timezone=True)),
    Column("cleared_at", DateTime(timezone=True)),
    Column("incident_id", String(18)),
    Column("value", String(100)),
    Column("flips", JSON),  # recent fire/clear times, for flapping damping
    Column("details", JSON),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

detect_firing = Table(
    "detect_firing",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("org", String(200), nullable=False, index=True),
    Column("rule", String(200), nullable=False, index=True),
    Column("key", String(255), nullable=False),
    Column("kind", String(20), nullable=False),  # fired | updated | cleared | damped
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("severity", String(2)),
    Column("incident_id", String(18)),
    Column("value", String(100)),
    Column("details", JSON),
)

detect_fingerprint = Table(
    "detect_fingerprint",
    metadata,
    Column("org", String(200), primary_key=True),
    Column("fingerprint", String(64), primary_key=True),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("source", String(40)),
)

# Org changes (sfops.changes): DeployRequest and SetupAuditTrail rows copied from the org, one row per
# (org, source, id), so investigation works offline and ranks them against an incident.
change_event = Table(
    "change_event",
    metadata,
    Column("org", String(200), primary_key=True),
    Column("source", String(40), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("kind", String(80)),
    Column("status", String(40)),
    Column("who", String(200)),
    Column("summary", Text),
    Column("components", JSON),
    Column("details", JSON),
)
