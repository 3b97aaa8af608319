"""Payload schemas of every MQTT message, as frozen pydantic models that edge and hub both import.

Every payload carries ``schema`` (name/version), timestamps are UTC ISO 8601 with milliseconds
(``2026-11-28T03:04:05.123Z``), units are part of field names (``tilt_deg``, ``battery_pct``), and every
alert has a globally unique ``event_id`` that the hub uses as its idempotency key.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from kernel.errors import ContractError

M = TypeVar("M", bound=BaseModel)

MAX_PAYLOAD_BYTES = 2 * 1024 * 1024
"""The largest payload any gridwatch consumer accepts (a snapshot-bearing event included)."""


# -- time and ids ----------------------------------------------------------------------------------------

EARLIEST_TS = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TS = datetime(2100, 1, 1, tzinfo=UTC)
"""Timestamps outside [EARLIEST_TS, LATEST_TS) are refused: ISO 8601 admits year 9999 with a -14:00 offset,
which is past the end of Python's datetime once turned into UTC (OverflowError), and a time that far off is a
broken clock or a hostile sender anyway; it would also poison every window and deadline computed from it."""


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must carry a UTC offset, e.g. 2026-11-28T03:04:05.123Z")
    # Compare before converting: converting an out-of-range value to UTC is what overflows.
    offset = value.utcoffset()
    naive_utc_lo = EARLIEST_TS.replace(tzinfo=None) + offset
    naive_utc_hi = LATEST_TS.replace(tzinfo=None) + offset
    if not naive_utc_lo <= value.replace(tzinfo=None) < naive_utc_hi:
        raise ValueError(
            f"timestamp {value.isoformat()} is out of range: expected from {format_ts(EARLIEST_TS)} "
            f"up to (not including) {format_ts(LATEST_TS)}"
        )
    value = value.astimezone(UTC)
    return value.replace(microsecond=(value.microsecond // 1000) * 1000)


def format_ts(value: datetime) -> str:
    """UTC ISO 8601 with milliseconds and a ``Z`` suffix."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


UtcTimestamp = Annotated[
    datetime,
    AfterValidator(_require_utc),
    PlainSerializer(format_ts, return_type=str, when_used="json"),
]


def utc_now() -> datetime:
    """Now, in UTC, truncated to milliseconds."""
    return _require_utc(datetime.now(UTC))


def new_event_id() -> str:
    """A UUIDv7-style id: 48-bit ms timestamp then 74 random bits, so ids sort by creation time.

    Globally unique without coordination (random part), and time-ordered, which keeps database indexes
    and outbox files in emission order.
    """
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62  # RFC 4122 variant
    value |= rand & ((1 << 62) - 1)
    hexed = f"{value:032x}"
    return f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}"


Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


_NUL_ESCAPE = "\\u0000"
_NUL_ESCAPE_BYTES = _NUL_ESCAPE.encode()
_NUL_FREE: dict[str, bool] = {"nul_free": True}  # validation context: the JSON text was scanned already


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **kwargs: Any) -> Any:  # type: ignore[override]
        """As pydantic's, but a JSON text with no ``\\u0000`` escape (the only way JSON can carry a NUL) skips
        the per-field NUL walk below: the walk cost sensor parsing about a fifth of its throughput."""
        if kwargs.get("context") is None:
            escape = _NUL_ESCAPE if isinstance(json_data, str) else _NUL_ESCAPE_BYTES
            if escape not in json_data:
                kwargs["context"] = _NUL_FREE
        return super().model_validate_json(json_data, **kwargs)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_in_text(cls, value: Any, info: ValidationInfo) -> Any:
        """No NUL character in any text, nested keys and values included: PostgreSQL cannot store one, so a
        single such alert would fail its whole batch there (on SQLite it would be silently truncated by
        some readers)."""
        if info.context is _NUL_FREE:
            return value
        kind = type(value)
        if kind is str:  # the common cases first: this runs for every field of every message
            if "\x00" not in value:
                return value
        elif kind is not dict and kind is not list and kind is not tuple:
            return value
        path = _nul_path(value)
        if path is not None:
            raise ValueError(f"text{path} contains a NUL character (\\u0000): not allowed in any text field")
        return value


def _nul_path(value: Any) -> str | None:
    """Where in ``value`` (a str, or dicts, lists and tuples of them) a NUL character sits; None if nowhere.
    The path is built only on the way back from a NUL found, never for the clean values walked past."""
    if isinstance(value, str):
        return "" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and "\x00" in key:
                return f"[{key!r}]"
            found = _nul_path(item)
            if found is not None:
                return f"[{key!r}]{found}"
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _nul_path(item)
            if found is not None:
                return f"[{index}]{found}"
    return None


# -- closed sets -------------------------------------------------------------------------------------------

class Severity(StrEnum):
    """How urgent an alert is; the hub maps (alert type, severity) onto the five-colour case priority."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class SourceKind(StrEnum):
    CAMERA = "camera"
    SENSOR = "sensor"
    GATEWAY = "gateway"


class Phase(StrEnum):
    """Where in its episode an alert message is: an episode starts once, may update, and ends once."""

    START = "start"
    UPDATE = "update"
    END = "end"


class Availability(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class AlertType(StrEnum):
    """Every alert type the edge may raise. Camera rules, sensor alarms and health alerts share one list."""

    INTRUSION = "intrusion"
    LOITERING = "loitering"
    ILLEGAL_PARKING = "illegal_parking"
    CROWDING = "crowding"
    LINE_CROSSING = "line_crossing"
    PRESENCE = "presence"
    FIRE_SMOKE = "fire_smoke"
    EXPOSED_GARBAGE = "exposed_garbage"
    MOTION = "motion"
    CAMERA_OFFLINE = "camera_offline"
    SMOKE_ALARM = "smoke_alarm"
    MANHOLE_OPEN = "manhole_open"
    MANHOLE_TILT = "manhole_tilt"
    WATER_LEVEL_HIGH = "water_level_high"
    GAS_HIGH = "gas_high"
    BATTERY_LOW = "battery_low"
    TAMPER = "tamper"
    SENSOR_FAULT = "sensor_fault"
    SENSOR_OFFLINE = "sensor_offline"
    GATEWAY_OFFLINE = "gateway_offline"


# -- status ---------------------------------------------------------------------------------------------

class GatewayStatus(_Message):
    """Retained on ``gridwatch/<gw>/status``; the offline form is also registered as the last will."""

    schema_: Literal["gateway-status/1"] = Field("gateway-status/1", alias="schema")
    gateway_id: Identifier
    state: Availability
    ts: UtcTimestamp
    software_version: str | None = None
    reason: str | None = Field(None, description="why the state changed, e.g. 'last will' or 'shutdown'")
    config_revision: int | None = Field(
        None, ge=0, description="the hub config revision this gateway runs (gateways that follow the hub)"
    )


class CameraStatus(_Message):
    """Retained on ``gridwatch/<gw>/cameras/<camera_id>/status``, published only on change."""

    schema_: Literal["camera-status/1"] = Field("camera-status/1", alias="schema")
    gateway_id: Identifier
    camera_id: Identifier
    state: Availability
    ts: UtcTimestamp
    reason: str | None = None


class SensorStatus(_Message):
    """Device availability on ``gridwatch/<gw>/sensors/<device_id>/status``."""

    schema_: Literal["sensor-status/1"] = Field("sensor-status/1", alias="schema")
    device_id: Identifier
    state: Availability
    ts: UtcTimestamp


# -- alerts --------------------------------------------------------------------------------------------

class Snapshot(_Message):
    """JPEG evidence carried inside an event; ``sha256`` lets the hub check and deduplicate it."""

    content_type: Literal["image/jpeg"] = "image/jpeg"
    width_px: int = Field(ge=1, le=8192)
    height_px: int = Field(ge=1, le=8192)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    data_b64: str = Field(description="the JPEG bytes, base64")

    @classmethod
    def from_jpeg(cls, jpeg: bytes, width_px: int, height_px: int) -> Snapshot:
        return cls(
            width_px=width_px,
            height_px=height_px,
            sha256=hashlib.sha256(jpeg).hexdigest(),
            data_b64=base64.b64encode(jpeg).decode("ascii"),
        )

    def jpeg_bytes(self) -> bytes:
        """Decode the JPEG and check it against ``sha256``."""
        data = base64.b64decode(self.data_b64, validate=True)
        if hashlib.sha256(data).hexdigest() != self.sha256:
            raise ContractError("snapshot bytes do not match their sha256")
        return data


class Detection(_Message):
    """What a camera rule saw: one object, in frame pixels."""

    class_id: int = Field(ge=0)
    class_name: str
    score: float = Field(ge=0.0, le=1.0)
    xyxy: tuple[float, float, float, float] = Field(description="box in frame pixels: x1, y1, x2, y2")
    track_id: int | None = None


class CameraEventDetail(_Message):
    """Camera-specific part of an alert."""

    kind: Literal["camera"] = "camera"
    rule_id: Identifier
    zone_id: Identifier | None = None
    frame_ts: UtcTimestamp = Field(description="when the frame that triggered the event was captured")
    detections: tuple[Detection, ...] = ()
    object_count: int | None = Field(None, ge=0)
    dwell_s: float | None = Field(None, ge=0)
    direction: str | None = None


class SensorEventDetail(_Message):
    """Sensor-specific part of an alert: the reading that triggered it, with unit-suffixed keys."""

    kind: Literal["sensor"] = "sensor"
    device_kind: Identifier
    alarm_id: Identifier
    readings: dict[str, float | int | bool | str | None] = Field(
        default_factory=dict, description="e.g. {'tilt_deg': 21.5, 'battery_pct': 80}"
    )
    linked_camera_ids: tuple[Identifier, ...] = ()
    parent_gateway_id: Identifier | None = Field(
        None, description="gateway the device sits behind, so the hub can fold it into a gateway outage"
    )
    grid_id: Identifier | None = Field(None, description="grid cell the device is registered to")


class HealthEventDetail(_Message):
    """Availability alert (camera/sensor/gateway offline): what went silent and since when."""

    kind: Literal["health"] = "health"
    last_seen_ts: UtcTimestamp | None = None
    parent_gateway_id: Identifier | None = Field(
        None, description="gateway behind which the device sits, so the hub can fold children into it"
    )


class AlertEvent(_Message):
    """One alert message on ``gridwatch/<gw>/events/<source_kind>`` (QoS 1).

    ``event_id`` is unique per message (the hub's idempotency key); ``episode_id`` is the ``event_id`` of
    the episode's START message and ties its UPDATE and END messages to it.
    """

    schema_: Literal["alert/1"] = Field("alert/1", alias="schema")
    event_id: str = Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
    episode_id: str = Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
    phase: Phase
    gateway_id: Identifier
    source_kind: SourceKind
    source_id: Identifier = Field(description="camera_id, device_id or gateway_id that raised it")
    alert_type: AlertType
    severity: Severity
    observed_ts: UtcTimestamp = Field(description="when the condition was observed (frame or reading time)")
    emitted_ts: UtcTimestamp = Field(description="when the edge published this message")
    title: str = Field(max_length=200)
    detail: CameraEventDetail | SensorEventDetail | HealthEventDetail = Field(discriminator="kind")
    snapshot: Snapshot | None = None

    @model_validator(mode="after")
    def _start_is_its_own_episode(self) -> AlertEvent:
        if self.phase is Phase.START and self.episode_id != self.event_id:
            raise ValueError("a START message opens its episode: episode_id must equal event_id")
        return self


# -- sensors (our own schema; vendor variants are mapped by edge sensor profiles) ---------------------------

class SensorTelemetry(_Message):
    """Telemetry in gridwatch's own schema on ``gridwatch/<gw>/sensors/<device_id>/up``."""

    schema_: Literal["sensor-telemetry/1"] = Field("sensor-telemetry/1", alias="schema")
    device_id: Identifier
    device_kind: Identifier
    ts: UtcTimestamp
    readings: dict[str, float | int | bool | str | None]
    seq: int | None = Field(None, ge=0)


# -- stats ------------------------------------------------------------------------------------------------

class Percentiles(_Message):
    p50: float
    p95: float


class CameraStats(_Message):
    """Periodic pipeline figures for one camera on ``gridwatch/<gw>/stats/<camera_id>``."""

    schema_: Literal["camera-stats/1"] = Field("camera-stats/1", alias="schema")
    gateway_id: Identifier
    camera_id: Identifier
    ts: UtcTimestamp
    window_s: float = Field(gt=0)
    capture_fps: float = Field(ge=0)
    detect_fps: float = Field(ge=0)
    frames_captured: int = Field(ge=0)
    frames_skipped_motion: int = Field(ge=0)
    frames_skipped_budget: int = Field(ge=0)
    frames_bad: int = Field(0, ge=0)
    stage_latency_ms: dict[str, Percentiles] = Field(default_factory=dict)
    frame_age_ms: Percentiles | None = None
    inference_ms: Percentiles | None = None


# -- hub -> gateway ---------------------------------------------------------------------------------------

class GatewayConfig(_Message):
    """Retained on ``gridwatch/<gw>/config``: the gateway applies a higher ``revision`` without restart."""

    schema_: Literal["gateway-config/1"] = Field("gateway-config/1", alias="schema")
    gateway_id: Identifier
    revision: int = Field(ge=0)
    ts: UtcTimestamp
    cameras: tuple[dict[str, Any], ...] = Field((), description="camera configs, validated by edge models")
    sensors: tuple[dict[str, Any], ...] = Field((), description="sensor registrations")


class Command(_Message):
    """A hub request on ``gridwatch/<gw>/cmd/<name>``; the reply goes to ``cmd-reply/<correlation_id>``."""

    schema_: Literal["command/1"] = Field("command/1", alias="schema")
    correlation_id: Identifier
    name: Identifier
    ts: UtcTimestamp
    args: dict[str, Any] = Field(default_factory=dict)
    timeout_s: float = Field(10.0, gt=0, le=300)


class CommandReply(_Message):
    schema_: Literal["command-reply/1"] = Field("command-reply/1", alias="schema")
    correlation_id: Identifier
    ts: UtcTimestamp
    ok: bool
    result: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


# -- encoding ------------------------------------------------------------------------------------------

def encode(message: BaseModel) -> bytes:
    """Serialise a contract model to its wire form (JSON, aliases such as ``schema``)."""
    return message.model_dump_json(by_alias=True, exclude_none=True).encode("utf-8")


def decode(model: type[M], payload: bytes, *, topic: str = "?") -> M:
    """Parse ``payload`` as ``model``; raise ContractError naming the topic, field and what was expected."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractError(
            f"message on {topic}: payload of {len(payload)} bytes exceeds the {MAX_PAYLOAD_BYTES} byte limit"
        )
    try:
        return model.model_validate_json(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(payload)"
        raise ContractError(
            f"message on {topic} is not a valid {model.__name__}: field {field}: {first['msg']}"
            f" ({exc.error_count()} error(s))"
        ) from exc
