"""DeviceRegistry rows as the API and the gateways see them: public views, the check of a camera config with the
edge's own model, and a gateway's configuration (``GatewayConfig``)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db.models import Camera, Gateway, Sensor
from central.errors import Invalid
from central.keys import Sealer
from central.schemas import CameraPublic, GatewayPublic, SensorPublic
from central.sensor_kinds import sensor_for_gateway
from kernel.camera_config.loader import parse_camera
from kernel.contracts import sealing
from kernel.contracts.messages import GatewayConfig
from kernel.errors import ConfigError

log = logging.getLogger(__name__)


def gateway_public(g: Gateway) -> GatewayPublic:
    # Field for field from the row, so a column added to both cannot be forgotten here.
    return GatewayPublic.model_validate(g, from_attributes=True)


def camera_public(c: Camera) -> CameraPublic:
    return CameraPublic(
        camera_id=c.camera_id,
        gateway_id=c.gateway_id,
        area_id=c.area_id,
        name=c.name,
        stream_url_set=c.stream_url_encrypted is not None,
        latitude=c.latitude,
        longitude=c.longitude,
        config=c.config,
        retired=c.retired,
        state=c.state,
        last_seen_at=c.last_seen_at,
    )


def sensor_public(s: Sensor) -> SensorPublic:
    return SensorPublic.model_validate(s, from_attributes=True)


def validate_camera_config(camera_id: str, gateway_id: str, stream_url: str, config: dict[str, Any]) -> dict[str, Any]:
    """Check a camera config with the edge's CameraConfig; return it as stored (without the stream URL)."""
    for key in ("camera_id", "gateway_id"):
        if key in config:
            raise Invalid(f"config.{key}: give it at the top level of the request, not inside config")
    source = dict(config.get("source") or {})
    if "url" in source:
        raise Invalid("config.source.url: give the stream URL as 'stream_url' (it is stored encrypted)")
    full = {
        **config,
        "camera_id": camera_id,
        "gateway_id": gateway_id,
        "source": {**source, "url": stream_url},
    }
    try:
        parse_camera(full, f"camera {camera_id}")
    except ConfigError as exc:
        raise Invalid(str(exc)) from exc
    return {**config, "source": source}


def gateway_config_of(
    session: Session, gateway: Gateway, sealer: Sealer, now: datetime, key: bytes | None, for_person: bool
) -> GatewayConfig:
    """What ``gateway`` runs: its live cameras and the sensors it can read. A stream URL with credentials is
    sealed with the gateway's ``key`` (kernel/contracts/sealing.py), or redacted when ``for_person`` (or
    without a key): nobody but the gateway receives it in clear, from the API or the broker's retained copy."""
    cameras = session.scalars(
        select(Camera)
        .where(Camera.gateway_id == gateway.gateway_id, Camera.retired.is_(False))
        .order_by(Camera.camera_id)
    )
    sensors = session.scalars(
        select(Sensor)
        .where(Sensor.gateway_id == gateway.gateway_id, Sensor.retired.is_(False))
        .order_by(Sensor.device_id)
    )
    # Sensors of hub-only kinds (no edge profile) stay out: the gateway could not read them.
    return GatewayConfig(
        gateway_id=gateway.gateway_id,
        revision=gateway.config_revision,
        ts=now,
        cameras=tuple(_camera_for_gateway(c, sealer, key, for_person) for c in cameras),
        sensors=tuple(c for c in map(sensor_for_gateway, sensors) if c is not None),
    )


def _camera_for_gateway(camera: Camera, sealer: Sealer, key: bytes | None, for_person: bool) -> dict[str, Any]:
    config = dict(camera.config or {})
    url = sealer.open(camera.stream_url_encrypted) if camera.stream_url_encrypted else ""
    if sealing.has_secret(url):
        if key is not None and not for_person:
            url = sealing.seal(url, key)
        else:
            if not for_person:
                log.error("camera %s: its stream URL's credentials are left out of gateway %s's configuration: "
                          "the gateway was registered before configurations were sealed; register it again",
                          camera.camera_id, camera.gateway_id)
            url = sealing.redact(url)
    return {
        **config,
        "camera_id": camera.camera_id,
        "gateway_id": camera.gateway_id,
        "source": {**(config.get("source") or {}), "url": url},
    }
