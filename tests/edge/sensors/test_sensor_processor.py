"""SensorProcessor: messages in, AlertEvents out; rejections counted; heartbeats expire and return."""

from __future__ import annotations

import json

import pytest

from edge.sensors.processor import SensorProcessor
from edge.sensors.registry import registry_from_data
from kernel.contracts import topics
from kernel.contracts.messages import (
    AlertType,
    HealthEventDetail,
    Phase,
    SensorEventDetail,
    SensorStatus,
    encode,
    utc_now,
)

GW = "gw-1"
T0 = 1_795_835_000.0
REGISTRY = registry_from_data(
    [
        {
            "device_id": "sd-1",
            "kind": "smoke_detector",
            "vendor": "acme",
            "location": "Flat 3F",
            "grid_id": "g-7",
            "linked_camera_ids": ["cam-1"],
            "heartbeat_expiry_s": 60,
        },
        {"device_id": "mh-1", "kind": "manhole_cover", "vendor": "covertech", "heartbeat_expiry_s": 120},
    ],
    source="test",
)


def _smoke(state: str) -> bytes:
    return json.dumps({"id": "sd-1", "st": state, "bat": 80, "tmp": 0, "err": 0, "t": T0}).encode()


def _processor() -> SensorProcessor:
    return SensorProcessor(GW, REGISTRY, clock=lambda: T0)


def test_alarm_alert_carries_readings_relation_and_cameras() -> None:
    proc = _processor()
    outcome = proc.handle(topics.sensor_up(GW, "sd-1"), _smoke("ALARM"), now=T0 + 1)
    assert outcome.rejected is None
    (alert,) = outcome.alerts
    assert (alert.phase, alert.alert_type, alert.source_id, alert.gateway_id) == (
        Phase.START,
        AlertType.SMOKE_ALARM,
        "sd-1",
        GW,
    )
    assert alert.episode_id == alert.event_id and alert.title == "smoke alarm at Flat 3F"
    assert isinstance(alert.detail, SensorEventDetail)
    assert alert.detail.linked_camera_ids == ("cam-1",)
    assert alert.detail.readings["smoke_state"] == "smoke" and alert.detail.readings["battery_pct"] == 80.0
    assert (alert.detail.parent_gateway_id, alert.detail.grid_id) == (GW, "g-7")
    assert proc.handle(topics.sensor_up(GW, "sd-1"), _smoke("ALARM"), now=T0 + 2).alerts == ()
    (end,) = proc.handle(topics.sensor_up(GW, "sd-1"), _smoke("NORMAL"), now=T0 + 3).alerts
    assert (end.phase, end.episode_id) == (Phase.END, alert.episode_id)


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("gridwatch/gw-1/sensors/sd-1/up", b"x" * 5000, "oversized"),
        ("gridwatch/gw-1/sensors/sd-1/down", b"{}", "bad_topic"),
        ("gridwatch/gw-2/sensors/sd-1/up", b"{}", "bad_topic"),
        ("gridwatch/gw-1/events/sensor", b"{}", "bad_topic"),
        ("elsewhere/entirely", b"{}", "bad_topic"),
        ("gridwatch/gw-1/sensors/ghost-9/up", b"{}", "unknown_device"),
        ("gridwatch/gw-1/sensors/sd-1/up", b"{oops", "malformed"),
        ("gridwatch/gw-1/sensors/mh-1/up", b"id=mh-1;ang=720;open=0;t=1", "out_of_range"),
        ("gridwatch/gw-1/sensors/sd-1/status", b'{"state": "offline"}', "malformed"),
    ],
)
def test_rejections_are_counted_by_reason(topic: str, payload: bytes, reason: str) -> None:
    proc = _processor()
    assert proc.handle(topic, payload).rejected == reason
    stats = proc.stats()
    assert stats.rejected == {reason: 1} and stats.accepted == 0
    if reason == "unknown_device":
        assert stats.unknown_devices == {"ghost-9": 1}


def test_heartbeat_expiry_raises_offline_then_ends_on_return() -> None:
    proc = _processor()
    proc.handle(topics.sensor_up(GW, "mh-1"), b"id=mh-1;ang=1;open=0;t=1", now=T0 + 10)
    assert proc.tick(T0 + 59) == []
    (offline,) = proc.tick(T0 + 61)  # sd-1 never heard: expiry counts from start
    assert (offline.alert_type, offline.source_id, offline.phase) == (
        AlertType.SENSOR_OFFLINE,
        "sd-1",
        Phase.START,
    )
    assert isinstance(offline.detail, HealthEventDetail) and offline.detail.parent_gateway_id == GW
    assert proc.tick(T0 + 100) == []  # once per silence
    (mh_offline,) = proc.tick(T0 + 131)
    assert mh_offline.source_id == "mh-1" and mh_offline.detail.last_seen_ts is not None  # type: ignore[union-attr]
    back = proc.handle(topics.sensor_up(GW, "sd-1"), _smoke("NORMAL"), now=T0 + 140).alerts
    assert [(a.alert_type, a.phase, a.episode_id) for a in back] == [
        (AlertType.SENSOR_OFFLINE, Phase.END, offline.episode_id)
    ]
    assert proc.stats().offline_devices == 1


def test_device_status_announcements() -> None:
    proc = _processor()
    status = encode(SensorStatus(device_id="mh-1", state="offline", ts=utc_now()))
    (alert,) = proc.handle(topics.sensor_status(GW, "mh-1"), status, now=T0 + 1).alerts
    assert (alert.alert_type, alert.phase) == (AlertType.SENSOR_OFFLINE, Phase.START)
    online = encode(SensorStatus(device_id="mh-1", state="online", ts=utc_now()))
    (back,) = proc.handle(topics.sensor_status(GW, "mh-1"), online, now=T0 + 2).alerts
    assert (back.phase, back.episode_id) == (Phase.END, alert.episode_id)
    wrong = encode(SensorStatus(device_id="sd-1", state="online", ts=utc_now()))
    assert proc.handle(topics.sensor_status(GW, "mh-1"), wrong).rejected == "device_mismatch"


def test_broker_loss_holds_heartbeats() -> None:
    proc = _processor()
    proc.hold_heartbeats(T0 + 50)  # the gateway heard nobody until t=50 (its broker was away)
    assert proc.tick(T0 + 61) == []
    assert [a.source_id for a in proc.tick(T0 + 111)] == ["sd-1"]


def test_new_registry_from_the_hub_keeps_running_alarms() -> None:
    proc = _processor()
    (start,) = proc.handle(topics.sensor_up(GW, "sd-1"), _smoke("ALARM"), now=T0 + 1).alerts
    assert proc.handle(topics.sensor_up(GW, "sd-9"), _smoke("ALARM")).rejected == "unknown_device"
    hub_sensors = [{"device_id": d, "kind": "smoke_detector", "vendor": "acme"} for d in ("sd-1", "sd-9")]
    proc.use_registry(registry_from_data(hub_sensors, source="GatewayConfig rev 2"), now=T0 + 2)
    nine = _smoke("ALARM").replace(b'"sd-1"', b'"sd-9"')
    (nine_start,) = proc.handle(topics.sensor_up(GW, "sd-9"), nine, now=T0 + 3).alerts
    assert nine_start.phase is Phase.START
    (end,) = proc.handle(topics.sensor_up(GW, "sd-1"), _smoke("NORMAL"), now=T0 + 4).alerts
    assert end.episode_id == start.episode_id
    assert proc.handle(topics.sensor_up(GW, "mh-1"), b"id=mh-1;ang=1;open=0;t=1").rejected == "unknown_device"
