"""Device availability from retained status messages; a gateway going offline becomes a gateway alert."""

from __future__ import annotations

import logging

from central.clock import Clock
from central.db.engine import Database
from central.db.models import Camera, Gateway, Sensor
from central.ingest import Ingestor
from kernel.contracts.messages import (
    AlertEvent,
    AlertType,
    Availability,
    CameraStatus,
    GatewayStatus,
    HealthEventDetail,
    Phase,
    SensorStatus,
    Severity,
    SourceKind,
    new_event_id,
    utc_now,
)

log = logging.getLogger(__name__)


class StatusTracker:
    def __init__(self, db: Database, ingestor: Ingestor, clock: Clock) -> None:
        self.db = db
        self.ingestor = ingestor
        self.clock = clock

    def apply(self, gateway_id: str, status: GatewayStatus | CameraStatus | SensorStatus) -> None:
        now = self.clock.now()
        became: Availability | None = None
        with self.db.session() as session:
            gateway = session.get(Gateway, gateway_id)
            if gateway is None:
                log.debug("status from unregistered gateway %s ignored", gateway_id)
                return
            if isinstance(status, GatewayStatus):
                if gateway.state != status.state.value:
                    became = status.state
                gateway.state, gateway.last_seen_at = status.state.value, now
                if status.config_revision is not None:
                    gateway.applied_config_revision = status.config_revision
            else:
                model, key = (
                    (Camera, status.camera_id)
                    if isinstance(status, CameraStatus)
                    else (Sensor, status.device_id)
                )
                device = session.get(model, key)
                if device is not None and device.gateway_id == gateway_id:
                    device.state, device.last_seen_at = status.state.value, now
        if became is not None and isinstance(status, GatewayStatus):
            self._gateway_changed(gateway_id, became, status.reason)

    def _gateway_changed(self, gateway_id: str, state: Availability, reason: str | None) -> None:
        """The gateway cannot report its own death: the hub raises (and later clears) the alert itself."""
        event_id = new_event_id()
        offline = state is Availability.OFFLINE
        now = utc_now()
        event = AlertEvent(
            event_id=event_id,
            episode_id=event_id if offline else new_event_id(),
            phase=Phase.START if offline else Phase.END,
            gateway_id=gateway_id,
            source_kind=SourceKind.GATEWAY,
            source_id=gateway_id,
            alert_type=AlertType.GATEWAY_OFFLINE,
            severity=Severity.HIGH,
            observed_ts=now,
            emitted_ts=now,
            title=f"gateway {gateway_id} {'offline' if offline else 'back online'}"
            + (f" ({reason})" if reason else ""),
            detail=HealthEventDetail(last_seen_ts=now),
        )
        self.ingestor.ingest(event, "status")
