"""Table definitions of the local store (SQLAlchemy Core). Migrations create them."""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Integer, LargeBinary, MetaData, String, Table, Text

metadata = MetaData()

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True),
    Column("description", String(200), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", String(200), nullable=False),
    Column("org", String(200), nullable=False, index=True),
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
    "state", metadata,
    Column("key", String(300), primary_key=True),
    Column("value", JSON),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Pulled Apex debug logs (sfops.logs.pull): ApexLog metadata, the zlib-compressed body, and the parsed summary.
apex_log = Table(
    "apex_log", metadata,
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
)
