"""Build the contracts' AlertEvent for sensor alarms and availability, with the device->gateway relation."""

from __future__ import annotations

from datetime import UTC, datetime

from edge.sensors.alarm_engine import AlarmTransition
from edge.sensors.availability import AvailabilityChange
from edge.sensors.registry import RegisteredDevice
from kernel.contracts.messages import (
    AlertEvent,
    AlertType,
    Availability,
    HealthEventDetail,
    Phase,
    SensorEventDetail,
    Severity,
    SourceKind,
    new_event_id,
)


def _ts(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


def _title(alert_type: AlertType, device: RegisteredDevice, phase: Phase) -> str:
    where = device.registration.location or device.registration.device_id
    suffix = " cleared" if phase is Phase.END else ""
    return f"{alert_type.value.replace('_', ' ')} at {where}{suffix}"[:200]


def alarm_alert(gateway_id: str, device: RegisteredDevice, transition: AlarmTransition,
                emitted_at_ts: float) -> AlertEvent:
    """An alarm episode step as an AlertEvent, emitted at ``emitted_at_ts`` (the caller's clock, epoch s);
    readings keep their unit-named keys."""
    event_id = transition.episode_id if transition.phase is Phase.START else new_event_id()
    registration = device.registration
    readings: dict[str, float | int | bool | str | None] = dict(transition.reading.values())
    return AlertEvent(
        event_id=event_id,
        episode_id=transition.episode_id,
        phase=transition.phase,
        gateway_id=gateway_id,
        source_kind=SourceKind.SENSOR,
        source_id=registration.device_id,
        alert_type=transition.rule.alert_type,
        severity=transition.rule.severity,
        observed_ts=_ts(transition.at_ts),
        emitted_ts=_ts(emitted_at_ts),
        title=_title(transition.rule.alert_type, device, transition.phase),
        detail=SensorEventDetail(
            device_kind=registration.kind.value,
            alarm_id=transition.rule.alarm_id,
            readings=readings,
            linked_camera_ids=registration.linked_camera_ids,
            parent_gateway_id=gateway_id,
            grid_id=registration.grid_id,
        ),
    )


def offline_alert(
    gateway_id: str, device: RegisteredDevice, change: AvailabilityChange, episode_id: str | None,
    emitted_at_ts: float,
) -> AlertEvent:
    """``sensor_offline`` START (device went silent) or END (it was heard again, ``episode_id`` given), emitted
    at ``emitted_at_ts`` (the caller's clock, epoch s)."""
    phase = Phase.START if change.state is Availability.OFFLINE else Phase.END
    event_id = new_event_id()
    return AlertEvent(
        event_id=event_id,
        episode_id=event_id if episode_id is None else episode_id,
        phase=phase,
        gateway_id=gateway_id,
        source_kind=SourceKind.SENSOR,
        source_id=device.registration.device_id,
        alert_type=AlertType.SENSOR_OFFLINE,
        severity=Severity.LOW,
        observed_ts=_ts(change.at_ts),
        emitted_ts=_ts(emitted_at_ts),
        title=_title(AlertType.SENSOR_OFFLINE, device, phase),
        detail=HealthEventDetail(
            last_seen_ts=None if change.last_seen_ts is None else _ts(change.last_seen_ts),
            parent_gateway_id=gateway_id,
        ),
    )
