"""Hub settings: one validated model per concern, built once at start-up and passed down."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from central.states import Priority
from kernel.contracts.messages import AlertType, Severity
from kernel.settings import MqttSettings


class PriorityRule(BaseModel):
    """One row of the priority table: the first row matching (alert type, severity) wins; None matches any."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    alert_type: AlertType | None = Field(None, description="alert type this row applies to; None = any")
    severity: Severity | None = Field(None, description="severity this row applies to; None = any")
    priority: Priority = Field(description="resulting five-colour priority")


class SlaLimits(BaseModel):
    """Time limits of one case type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    accept_s: float = Field(900, gt=0, le=7 * 86400, description="dispatched -> accepted within this")
    handle_s: float = Field(4 * 3600, gt=0, le=30 * 86400, description="accepted -> handled within this")


_SAFETY = (AlertType.FIRE_SMOKE, AlertType.SMOKE_ALARM, AlertType.GAS_HIGH)

DEFAULT_PRIORITIES: tuple[PriorityRule, ...] = (
    *(PriorityRule(alert_type=t, priority=Priority.RED) for t in _SAFETY),
    PriorityRule(alert_type=AlertType.MANHOLE_OPEN, priority=Priority.ORANGE),
    PriorityRule(alert_type=AlertType.WATER_LEVEL_HIGH, severity=Severity.CRITICAL, priority=Priority.RED),
    PriorityRule(severity=Severity.CRITICAL, priority=Priority.RED),
    PriorityRule(severity=Severity.HIGH, priority=Priority.ORANGE),
    PriorityRule(severity=Severity.MEDIUM, priority=Priority.YELLOW),
    PriorityRule(severity=Severity.LOW, priority=Priority.BLUE),
    PriorityRule(priority=Priority.GREEN),
)

DEFAULT_SLA: dict[str, SlaLimits] = {
    "default": SlaLimits(),
    AlertType.FIRE_SMOKE.value: SlaLimits(accept_s=120, handle_s=1800),
    AlertType.SMOKE_ALARM.value: SlaLimits(accept_s=120, handle_s=1800),
    AlertType.GAS_HIGH.value: SlaLimits(accept_s=120, handle_s=1800),
    AlertType.MANHOLE_OPEN.value: SlaLimits(accept_s=600, handle_s=7200),
}


class CaseSettings(BaseModel):
    """How alerts become cases and how fast cases must move."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    priorities: tuple[PriorityRule, ...] = Field(
        DEFAULT_PRIORITIES, description="priority table, first match"
    )
    sla: dict[str, SlaLimits] = Field(
        default_factory=lambda: dict(DEFAULT_SLA),
        description="SLA per alert type; key 'default' for the rest",
    )
    reopen_window_s: float = Field(
        3600, ge=0, le=30 * 86400, description="a repeat this soon after closing re-opens the case"
    )
    auto_dispatch: frozenset[Priority] = Field(
        frozenset({Priority.RED, Priority.ORANGE, Priority.YELLOW}),
        description="priorities registered and dispatched by the hub at once; others wait for an operator",
    )
    dispatch_on_register: bool = Field(
        True,
        description="an operator's register also dispatches (one step); off: registered cases wait for an "
        "explicit dispatch, where registering (立案) and dispatching (派遣) are separate duties",
    )
    sweep_interval_s: float = Field(1.0, gt=0, le=600, description="how often SLA timers are checked")

    @model_validator(mode="after")
    def _has_default_sla(self) -> CaseSettings:
        if "default" not in self.sla:
            raise ValueError("cases.sla must have a 'default' entry")
        unknown = set(self.sla) - {"default"} - {t.value for t in AlertType}
        if unknown:
            raise ValueError(
                f"cases.sla has unknown alert types {sorted(unknown)}: expected AlertType values"
            )
        return self

    def sla_for(self, alert_type: str) -> SlaLimits:
        return self.sla.get(alert_type, self.sla["default"])

    def priority_for(self, alert_type: AlertType, severity: Severity) -> Priority:
        for rule in self.priorities:
            if rule.alert_type in (None, alert_type) and rule.severity in (None, severity):
                return rule.priority
        return Priority.GREEN


class IngestSettings(BaseModel):
    """What the hub accepts from gateways."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    auto_register: bool = Field(
        False,
        description="dev/demo: register unknown gateways and devices on first event (never in production)",
    )
    max_snapshot_bytes: int = Field(1_000_000, ge=1024, le=2 * 1024 * 1024, description="largest JPEG kept")
    batch_max: int = Field(
        2000,
        ge=1,
        le=10_000,
        description="most events written in one transaction; give the hub a broker in-flight window of about "
        "twice this (max_inflight_messages), so the next batch arrives while one is written",
    )
    batch_wait_s: float = Field(0.01, ge=0, le=5, description="how long a batch waits to fill up")
    shared_group: str | None = Field(None, description="MQTT shared-subscription group for ingest workers")
    client_id: str = Field("gridwatch-hub", description="MQTT client id (persistent session: keep stable)")
    worker_name: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="an --ingest-only worker's name: on a production broker (client id = user name) it "
        "connects as <hub user>@<name>, an account of its own holding its persistent session",
    )
    dead_letter_keep: int = Field(
        10_000, ge=1, le=10_000_000, description="newest dead letters kept (older ones are pruned)"
    )
    dead_letter_payload_bytes: int = Field(
        65_536, ge=0, le=2 * 1024 * 1024, description="payload bytes kept per dead letter (the rest is cut)"
    )
    stall_after_s: float = Field(
        60, gt=0, le=3600, description="/health reports the ingest as stalled when one batch takes this long"
    )


class SignInSettings(BaseModel):
    """How hard guessing passwords is: throttling per account and per client address, and how many password
    hashes (argon2id, ``argon2_memory_kib`` each) may run at once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account_free_failures: int = Field(5, ge=1, le=1000, description="failures of one account before it waits")
    address_free_failures: int = Field(
        30, ge=1, le=100_000, description="failures from one client address before it waits (many users may "
        "share an address behind a proxy or NAT)"
    )
    base_delay_s: float = Field(2, gt=0, le=3600, description="the first wait; it doubles with each failure")
    max_delay_s: float = Field(900, gt=0, le=86400, description="the longest wait")
    forget_after_s: float = Field(3600, gt=0, le=30 * 86400, description="failures this old no longer count")
    max_concurrent_hashes: int = Field(
        2, ge=1, le=64, description="password hashes computed at once; more callers wait (then get 429)"
    )
    hash_wait_s: float = Field(5, gt=0, le=60, description="how long a sign-in waits for a hashing slot")


class HttpLimits(BaseModel):
    """Request sizes the HTTP API accepts, enforced before a body is read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_body_bytes: int = Field(
        4 * 1024 * 1024, ge=1024, le=1024**3,
        description="largest request body (an alert with a 2 MiB snapshot is about 2.7 MiB as JSON)",
    )
    max_upload_bytes: int = Field(
        16 * 1024 * 1024, ge=1024, le=1024**3, description="largest body of an evidence upload (case feedback)"
    )


class HubSettings(BaseModel):
    """Everything `gridwatch hub` needs, validated once at start-up."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field("127.0.0.1", description="HTTP listen address")
    port: int = Field(8000, ge=1, le=65535, description="HTTP listen port")
    data_dir: Path = Field(Path("var/hub"), description="SQLite database, secrets, evidence, broker auth")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL (postgresql+psycopg://...); default SQLite <data_dir>/hub.db"
    )
    evidence_dir: Path | None = Field(None, description="evidence files; default <data_dir>/evidence")
    mqtt: MqttSettings = Field(default_factory=MqttSettings, description="broker connection")
    mqtt_enabled: bool = Field(True, description="run the MQTT consumer in this process")
    http_enabled: bool = Field(True, description="serve the HTTP API (off for --ingest-only workers)")
    jwt_secret: SecretStr | None = Field(
        None, description="token signing key; generated into data_dir if unset"
    )
    token_ttl_s: int = Field(8 * 3600, ge=60, le=30 * 86400, description="access token lifetime")
    admin_password: SecretStr | None = Field(None, description="first admin's password; generated if unset")
    argon2_time_cost: int = Field(3, ge=1, le=20, description="argon2id passes per password hash")
    argon2_memory_kib: int = Field(65536, ge=64, le=1_048_576, description="argon2id memory per hash")
    sign_in: SignInSettings = Field(default_factory=SignInSettings)
    http_limits: HttpLimits = Field(default_factory=HttpLimits)
    cases: CaseSettings = Field(default_factory=CaseSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    broker_pid_file: Path | None = Field(
        None,
        description="Mosquitto's pid_file: after rewriting the broker's password file and ACL the hub sends "
        "that process SIGHUP so a new gateway can connect at once; unset: reload the broker by hand",
    )
    metrics_public: bool = Field(False, description="serve /metrics without a token (for a scraper)")
    api_docs: bool = Field(
        True, description="serve the OpenAPI schema and /docs (public: schema only, no data); off hides both"
    )

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'hub.db'}"

    @property
    def evidence_path(self) -> Path:
        return self.evidence_dir or self.data_dir / "evidence"

    @classmethod
    def from_env(cls, **overrides: object) -> HubSettings:
        """Settings from GRIDWATCH_* environment variables, then explicit overrides (None = keep)."""
        env = {
            "host": "GRIDWATCH_HUB_HOST",
            "port": "GRIDWATCH_HUB_PORT",
            "data_dir": "GRIDWATCH_DATA_DIR",
            "database_url": "GRIDWATCH_DATABASE_URL",
            "jwt_secret": "GRIDWATCH_JWT_SECRET",
            "admin_password": "GRIDWATCH_ADMIN_PASSWORD",
            "api_docs": "GRIDWATCH_API_DOCS",
            "broker_pid_file": "GRIDWATCH_BROKER_PID_FILE",
        }
        values: dict[str, object] = {f: os.environ[n] for f, n in env.items() if n in os.environ}
        values.update({k: v for k, v in overrides.items() if v is not None})
        values.setdefault("mqtt", MqttSettings.from_env())
        return cls.model_validate(values)
