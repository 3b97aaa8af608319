"""The hub's tables as typed SQLAlchemy 2 models (the schema itself is owned by Alembic migrations)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (SQLite has no time zones), always returned timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the hub stores only timezone-aware UTC times")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


# BIGINT on PostgreSQL, INTEGER (the rowid alias, so it autoincrements) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class Area(Base):
    """One node of the grid hierarchy: district > street > community > grid."""

    __tablename__ = "areas"
    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    geojson: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Tokens issued before this instant are refused (password changed, signed out everywhere, disabled).
    tokens_not_before: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RevokedToken(Base):
    """A signed-out bearer token (its JWT id), kept until the token would have expired anyway."""

    __tablename__ = "revoked_tokens"
    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    revoked_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Shift(Base):
    __tablename__ = "shifts"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Gateway(Base):
    __tablename__ = "gateways"
    gateway_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    mqtt_password_hash: Mapped[str | None] = mapped_column(String(256))
    auto_registered: Mapped[bool] = mapped_column(Boolean, default=False)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default="unknown")
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    config_revision: Mapped[int] = mapped_column(Integer, default=0)
    # The revision the gateway says it runs (gateways that follow the hub report it in their status).
    applied_config_revision: Mapped[int | None] = mapped_column(Integer)
    # The key its configuration secrets are sealed with (derived from its password at registration; itself
    # sealed with the hub's key): kernel/contracts/sealing.py.
    config_key_encrypted: Mapped[str | None] = mapped_column(String(256))


class Camera(Base):
    __tablename__ = "cameras"
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    gateway_id: Mapped[str] = mapped_column(ForeignKey("gateways.gateway_id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    name: Mapped[str] = mapped_column(String(200), default="")
    stream_url_encrypted: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    config: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default="unknown")
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Sensor(Base):
    __tablename__ = "sensors"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    gateway_id: Mapped[str] = mapped_column(ForeignKey("gateways.gateway_id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    kind: Mapped[str] = mapped_column(String(64), default="unknown")
    # The edge's payload profile (kernel.sensors.profiles); NULL for kinds no edge profile reads.
    vendor: Mapped[str | None] = mapped_column(String(64))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    linked_camera_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default="unknown")
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CameraStatsRow(Base):
    """The latest edge pipeline figures of one camera (upserted: one row per camera, no history)."""

    __tablename__ = "camera_stats"
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.camera_id"), primary_key=True)
    gateway_id: Mapped[str] = mapped_column(String(64))
    stats_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    window_s: Mapped[float] = mapped_column(Float)
    capture_fps: Mapped[float] = mapped_column(Float)
    detect_fps: Mapped[float] = mapped_column(Float)
    frames_captured: Mapped[int] = mapped_column(Integer)
    frames_skipped_motion: Mapped[int] = mapped_column(Integer)
    frames_skipped_budget: Mapped[int] = mapped_column(Integer)
    frames_bad: Mapped[int] = mapped_column(Integer)
    inference_p50_ms: Mapped[float | None] = mapped_column(Float)
    inference_p95_ms: Mapped[float | None] = mapped_column(Float)
    frame_age_p50_ms: Mapped[float | None] = mapped_column(Float)
    frame_age_p95_ms: Mapped[float | None] = mapped_column(Float)


class Evidence(Base):
    """A file on disk under the evidence folder, named by its content hash."""

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    relpath: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    original_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # "<source_kind>:<source_id>:<alert_type>" while open, NULL once closed or rejected: the unique index
    # makes "one open case per (device, type)" hold even with several hub replicas ingesting at once.
    open_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    source_kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(64))
    alert_type: Mapped[str] = mapped_column(String(32))
    gateway_id: Mapped[str] = mapped_column(String(64))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), index=True)
    priority: Mapped[str] = mapped_column(String(8))
    severity: Mapped[str] = mapped_column(String(16))
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    cleared: Mapped[bool] = mapped_column(Boolean, default=False)
    latest_evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    accept_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    handle_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    score: Mapped[int | None] = mapped_column(Integer)


Index("ix_cases_key_closed", Case.source_id, Case.alert_type, Case.closed_at)


class Alert(Base):
    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    episode_id: Mapped[str] = mapped_column(String(36), index=True)
    phase: Mapped[str] = mapped_column(String(8))
    gateway_id: Mapped[str] = mapped_column(String(64))
    source_kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(64))
    alert_type: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    observed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    cleared: Mapped[bool] = mapped_column(Boolean, default=False)
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)


class CaseEvent(Base):
    """Append-only audit trail: who did what to which case, when, from which state to which."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))


class FeedEvent(Base):
    """The live feed, persisted: a monotonically increasing id any replica can resume from."""

    __tablename__ = "feed_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(BigInteger)
    area_code: Mapped[str | None] = mapped_column(String(64))
    alert_type: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[str | None] = mapped_column(String(8))
    assignee_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class SignInFailure(Base):
    """Failed sign-ins of one account or one client address, for throttling (central/sign_in_throttle.py); in
    the database so every hub process and a restarted hub see the same count."""

    __tablename__ = "sign_in_failures"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # "account:<name>" or "address:<ip>"
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(UtcDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DeadLetter(Base):
    """A message the hub could not process (refused or failing on its own), acknowledged and kept here for
    inspection instead of being redelivered forever."""

    __tablename__ = "dead_letters"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    transport: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(Text)
    gateway_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(64))
    error: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    payload_bytes: Mapped[int] = mapped_column(Integer)
