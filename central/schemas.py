"""Request and response shapes of the registry and people APIs (Create / Update / Public per resource)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from central.area_geometry import check_area_geometry
from central.states import AreaLevel, Role
from kernel.contracts.messages import Identifier


class _In(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


Code = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", description="short stable code, e.g. 'gd-0101'")


AreaGeometry = Annotated[dict[str, Any], AfterValidator(check_area_geometry)]


class AreaCreate(_In):
    level: AreaLevel
    code: str = Code
    name: str = Field(min_length=1, max_length=200)
    parent_code: str | None = Field(None, description="the enclosing area; required below district")
    geojson: AreaGeometry | None = Field(
        None, description="GeoJSON Polygon/MultiPolygon geometry, WGS 84 [longitude, latitude] positions"
    )


class AreaPublic(_Out):
    id: int
    level: AreaLevel
    code: str
    name: str
    parent_id: int | None
    geojson: dict[str, Any] | None


class UserCreate(_In):
    username: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
    password: SecretStr = Field(min_length=8, max_length=128)
    role: Role
    display_name: str = Field("", max_length=200)
    area_code: str | None = Field(
        None, description="grid of a worker or leader; community/street of a leader"
    )


class UserUpdate(_In):
    """What an admin changes on an account; disabling it or setting a password ends its sessions."""

    active: bool | None = None
    display_name: str | None = Field(None, max_length=200)
    password: SecretStr | None = Field(None, min_length=8, max_length=128)


class PasswordChange(_In):
    current_password: SecretStr = Field(max_length=128)
    new_password: SecretStr = Field(min_length=8, max_length=128)


class UserPublic(_Out):
    id: int
    username: str
    role: Role
    display_name: str
    area_id: int | None
    active: bool


class ShiftCreate(_In):
    starts_at: datetime
    ends_at: datetime


class ShiftPublic(_Out):
    id: int
    user_id: int
    starts_at: datetime
    ends_at: datetime


class GatewayCreate(_In):
    gateway_id: Identifier
    name: str = Field("", max_length=200)
    area_code: str | None = None


class GatewayUpdate(_In):
    name: str | None = Field(None, max_length=200)
    area_code: str | None = None


class GatewayPublic(_Out):
    gateway_id: str
    name: str
    area_id: int | None
    auto_registered: bool
    retired: bool
    state: str
    last_seen_at: datetime | None
    config_revision: int
    applied_config_revision: int | None = Field(
        None, description="the revision the gateway reports running (gateways that follow the hub)"
    )


class GatewayCredentials(_Out):
    """Shown once, at registration: the hub keeps only hashes."""

    gateway: GatewayPublic
    mqtt_username: str
    mqtt_password: str
    http_username: str
    http_password: str


class Location(_In):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class CameraCreate(_In):
    camera_id: Identifier
    gateway_id: Identifier
    area_code: str | None = None
    name: str = Field("", max_length=200)
    stream_url: SecretStr = Field(
        description="rtsp://user:password@host/path; stored encrypted, never returned"
    )
    location: Location | None = None
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="edge camera config (zones, rules, "
        "detect ...) without camera_id, gateway_id and source.url",
    )


class CameraUpdate(_In):
    area_code: str | None = None
    name: str | None = Field(None, max_length=200)
    stream_url: SecretStr | None = None
    location: Location | None = None
    config: dict[str, Any] | None = None


class CameraPublic(_Out):
    camera_id: str
    gateway_id: str
    area_id: int | None
    name: str
    stream_url_set: bool
    latitude: float | None
    longitude: float | None
    config: dict[str, Any] | None
    retired: bool
    state: str
    last_seen_at: datetime | None


VENDOR_DESCRIPTION = (
    "the edge payload profile of this kind (kernel.sensors.profiles): smoke_detector: gridwatch or acme; "
    "manhole_cover: gridwatch or covertech. Left out: gridwatch for those kinds; other kinds have no edge "
    "profile, are not sent to the gateway and take no vendor"
)


class SensorCreate(_In):
    device_id: Identifier
    gateway_id: Identifier
    kind: Identifier
    vendor: Identifier | None = Field(None, description=VENDOR_DESCRIPTION)
    area_code: str | None = None
    location: Location | None = None
    linked_camera_ids: tuple[Identifier, ...] = ()


class SensorUpdate(_In):
    kind: Identifier | None = None
    vendor: Identifier | None = Field(None, description=VENDOR_DESCRIPTION)
    area_code: str | None = None
    location: Location | None = None
    linked_camera_ids: tuple[Identifier, ...] | None = None


class SensorPublic(_Out):
    device_id: str
    gateway_id: str
    kind: str
    vendor: str | None
    area_id: int | None
    latitude: float | None
    longitude: float | None
    linked_camera_ids: list[str]
    retired: bool
    state: str
    last_seen_at: datetime | None


class GatewayHealth(_Out):
    gateway_id: str
    name: str
    state: str = Field(description="online, offline or unknown (from the gateway's retained status)")
    last_seen_at: datetime | None


class CameraHealth(_Out):
    """A camera's availability and its latest edge pipeline figures (null until its first stats message)."""

    gateway_id: str
    camera_id: str
    name: str
    state: str = Field(description="online, offline or unknown (from the camera's retained status)")
    last_seen_at: datetime | None
    stats_at: datetime | None = Field(None, description="when the edge measured the figures below")
    stats_stale: bool | None = Field(None, description="no fresh stats for three of their windows")
    window_s: float | None = Field(None, description="the measuring window of the figures")
    capture_fps: float | None = None
    detect_fps: float | None = None
    frames_captured: int | None = Field(None, description="in the window")
    frames_skipped_motion: int | None = Field(None, description="not detected: no motion, in the window")
    frames_skipped_budget: int | None = Field(None, description="not detected: over the rate budget")
    frames_bad: int | None = None
    inference_ms_p50: float | None = None
    inference_ms_p95: float | None = None
    frame_age_ms_p50: float | None = Field(None, description="capture to detection result")
    frame_age_ms_p95: float | None = None


class HealthReport(_Out):
    at: datetime
    gateways: list[GatewayHealth]
    cameras: list[CameraHealth]
