"""Gateway and camera health at the hub: edge CameraStats through a real broker into one row per camera,
served by GET /api/v1/health/cameras; and the sensor vendor profile from registration to the edge's seam."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from central.camera_health import CameraStatsStore
from central.db.models import CameraStatsRow
from edge.sensors.registry import registry_from_data
from kernel.contracts import topics
from kernel.contracts.messages import (
    Availability,
    CameraStats,
    CameraStatus,
    GatewayStatus,
    Percentiles,
    encode,
    utc_now,
)
from kernel.errors import ConfigError
from kernel.mqtt import Message, MqttClient
from kernel.sensors.readings import DeviceKind
from kernel.settings import MqttSettings
from tests.central.hubkit import populate
from tests.waiting import wait_until


def _stats(camera_id: str = "cam-1", gateway_id: str = "gw-1", *, age_s: float = 0.0, **figures) -> CameraStats:
    values = dict(
        gateway_id=gateway_id,
        camera_id=camera_id,
        ts=utc_now() - timedelta(seconds=age_s),
        window_s=10.0,
        capture_fps=25.0,
        detect_fps=4.8,
        frames_captured=250,
        frames_skipped_motion=180,
        frames_skipped_budget=22,
        inference_ms=Percentiles(p50=31.5, p95=48.25),
        frame_age_ms=Percentiles(p50=60.0, p95=140.0),
    )
    values.update(figures)
    return CameraStats(**values)


def _health(api, user: str = "op"):
    return api.client.get("/api/v1/health/cameras", headers=api.as_(user))


def _camera(api, camera_id: str = "cam-1"):
    return next(c for c in _health(api).json()["cameras"] if c["camera_id"] == camera_id)


def _rows(api) -> int:
    with api.hub.db.session() as session:
        return session.scalar(select(func.count()).select_from(CameraStatsRow))


@pytest.fixture
def mqtt_hub(make_api, clock, mosquitto_broker):
    mqtt = MqttSettings(host=mosquitto_broker.host, port=mosquitto_broker.port)
    api = make_api(mqtt=mqtt, mqtt_enabled=True)
    populate(api, clock)
    api.hub.start()
    assert api.hub.mqtt.client.wait_connected(10)
    publisher = MqttClient(mqtt)
    publisher.connect()
    yield api, publisher
    publisher.close()
    api.hub.stop()


@pytest.mark.integration
def test_stats_through_the_broker_keep_the_latest_per_camera(mqtt_hub):
    api, publisher = mqtt_hub
    assert _camera(api)["detect_fps"] is None  # registered, no stats yet
    online = GatewayStatus(gateway_id="gw-1", state=Availability.ONLINE, ts=utc_now())
    assert publisher.publish(topics.gateway_status("gw-1"), encode(online), retain=True, wait_s=5)
    camera_up = CameraStatus(gateway_id="gw-1", camera_id="cam-1", state=Availability.ONLINE, ts=utc_now())
    assert publisher.publish(topics.camera_status("gw-1", "cam-1"), encode(camera_up), retain=True, wait_s=5)
    first, second = _stats(age_s=10), _stats(detect_fps=5.2, inference_ms=Percentiles(p50=29.0, p95=41.5))
    for stats in (first, second):
        assert publisher.publish(topics.stats("gw-1", "cam-1"), encode(stats), qos=0, wait_s=5)
    # Bad ones are counted and dropped, and the good ones around them still land.
    assert publisher.publish(topics.stats("gw-1", "cam-1"), b"{junk", qos=0, wait_s=5)
    assert publisher.publish(topics.stats("gw-1", "cam-9"), encode(_stats("cam-1")), qos=0, wait_s=5)
    assert publisher.publish(topics.stats("gw-1", "cam-9"), encode(_stats("cam-9")), qos=0, wait_s=5)

    camera = wait_until(lambda: _camera(api), until=lambda c: c["detect_fps"] == 5.2 and c["state"] == "online")
    assert camera == {
        **camera,
        "gateway_id": "gw-1",
        "capture_fps": 25.0,
        "frames_captured": 250,
        "frames_skipped_motion": 180,
        "frames_skipped_budget": 22,
        "frames_bad": 0,
        "inference_ms_p50": 29.0,
        "inference_ms_p95": 41.5,
        "frame_age_ms_p95": 140.0,
        "window_s": 10.0,
        "stats_stale": False,
    }
    assert camera["stats_at"].startswith(second.ts.strftime("%Y-%m-%dT%H:%M:%S"))
    gateway = wait_until(lambda: _health(api).json()["gateways"][0], until=lambda g: g["state"] == "online")
    assert gateway["gateway_id"] == "gw-1" and gateway["last_seen_at"] is not None
    assert _rows(api) == 1  # upserted: one row per camera, no history

    metrics = wait_until(lambda: _metrics(api), until=lambda m: 'outcome="unknown_camera"} 1.0' in m)
    assert 'gridwatch_hub_camera_stats_total{outcome="invalid_schema"} 1.0' in metrics
    assert 'gridwatch_hub_camera_stats_total{outcome="topic_mismatch"} 1.0' in metrics


def _metrics(api) -> str:
    return api.client.get("/metrics", headers=api.as_("op")).text


def _message(stats: CameraStats) -> Message:
    return Message(topics.stats(stats.gateway_id, stats.camera_id), encode(stats), qos=0, retain=False)


@pytest.mark.parametrize(
    ("ages_s", "kept_fps"),
    [
        ((20, 10, 0), 3.0),  # in order: the last one wins
        ((0, 10), 1.0),  # a late delivery of older figures never overwrites newer ones
    ],
)
def test_newest_figures_win(api, world, clock, ages_s, kept_fps):
    collector = CameraStatsStore(api.hub.db, clock, CollectorRegistry())
    for i, age_s in enumerate(ages_s):
        collector.receive(_message(_stats(age_s=age_s, detect_fps=float(i + 1))))
        assert collector.flush() == 1  # one at a time, so the table (not the parking dict) decides
    assert _camera(api)["detect_fps"] == kept_fps
    assert _rows(api) == 1


def test_stats_go_stale_after_three_windows_without_news(api, world, clock):
    collector = CameraStatsStore(api.hub.db, clock, CollectorRegistry())
    collector.receive(_message(_stats()))
    collector.flush()
    assert _camera(api)["stats_stale"] is False
    clock.advance(31)
    assert _camera(api)["stats_stale"] is True


@pytest.mark.parametrize(
    ("user", "status", "detail"),
    [
        ("op", 200, None),
        ("inst", 200, None),
        ("admin", 200, None),
        ("w1", 403, "role 'grid_worker' may not do this: allowed for admin, installer, operator"),
        ("lead", 403, "role 'grid_leader' may not do this"),
        ("gw-1", 403, "role 'gateway' may not do this"),
    ],
)
def test_camera_health_roles(api, world, user, status, detail):
    password = world["gateway_password"] if user == "gw-1" else "password-1234"
    answer = api.client.get("/api/v1/health/cameras", headers=api.as_(user, password))
    assert answer.status_code == status
    if detail:
        assert answer.json()["detail"].startswith(detail)
    else:
        body = answer.json()
        assert [g["gateway_id"] for g in body["gateways"]] == ["gw-1"]
        assert [c["camera_id"] for c in body["cameras"]] == ["cam-1"]


def test_camera_health_needs_a_token(api, world):
    answer = api.client.get("/api/v1/health/cameras")
    assert answer.status_code == 401
    assert answer.json()["detail"].startswith("not signed in")


# -- sensor vendor profile -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "vendor", "status", "stored_or_detail"),
    [
        ("smoke_detector", "acme", 201, "acme"),
        ("smoke_detector", None, 201, "gridwatch"),
        ("manhole_cover", "covertech", 201, "covertech"),
        ("smoke", "acme", 201, "acme"),  # the console's first kind name for smoke detectors
        ("water_level", None, 201, None),  # hub-only kind: no edge profile, no vendor
        (
            "smoke_detector",
            "covertech",
            422,
            "vendor: no edge profile 'covertech' for kind 'smoke_detector': expected one of acme, gridwatch",
        ),
        (
            "manhole_cover",
            "acme",
            422,
            "vendor: no edge profile 'acme' for kind 'manhole_cover': expected one of covertech, gridwatch",
        ),
        (
            "water_level",
            "acme",
            422,
            "vendor: kind 'water_level' has no edge profile, so it takes no vendor: expected kind/vendor one of "
            "manhole_cover/covertech, manhole_cover/gridwatch, smoke_detector/acme, smoke_detector/gridwatch",
        ),
    ],
)
def test_sensor_vendor_is_checked_against_the_edge_profiles(api, world, kind, vendor, status, stored_or_detail):
    body = {"device_id": "s-2", "gateway_id": "gw-1", "kind": kind, "vendor": vendor}
    answer = api.client.post("/api/v1/sensors", json=body, headers=api.as_("inst"))
    assert answer.status_code == status, answer.text
    if status == 201:
        assert answer.json()["vendor"] == stored_or_detail
    else:
        assert answer.json()["detail"] == stored_or_detail


def test_sensor_vendor_update(api, world):
    inst = api.as_("inst")
    bad = api.client.patch("/api/v1/sensors/smoke-1", json={"vendor": "covertech"}, headers=inst)
    assert bad.status_code == 422 and bad.json()["detail"].startswith("vendor: no edge profile 'covertech'")
    good = api.client.patch("/api/v1/sensors/smoke-1", json={"vendor": "acme"}, headers=inst)
    assert good.status_code == 200 and good.json()["vendor"] == "acme"
    rekind = api.client.patch("/api/v1/sensors/smoke-1", json={"kind": "manhole_cover"}, headers=inst)
    assert rekind.json()["vendor"] == "gridwatch"  # a new kind starts from its default vendor


def test_published_sensors_are_what_the_edge_registry_reads(api, world):
    inst = api.as_("inst")
    for device_id, kind, vendor in (
        ("smoke-2", "smoke_detector", "acme"),
        ("cover-1", "manhole_cover", "covertech"),
        ("water-1", "water_level", None),
    ):
        body = {"device_id": device_id, "gateway_id": "gw-1", "kind": kind, "vendor": vendor}
        assert api.client.post("/api/v1/sensors", json=body, headers=inst).status_code == 201
    config = api.client.get("/api/v1/gateways/gw-1/config", headers=inst).json()
    registry = registry_from_data(config["sensors"], source="hub config", gateway_id="gw-1")
    devices = registry.devices()
    assert sorted(devices) == ["cover-1", "smoke-1", "smoke-2"]  # the hub-only water sensor stays home
    assert (devices["smoke-2"].profile.kind, devices["smoke-2"].profile.vendor) == (DeviceKind.SMOKE_DETECTOR, "acme")
    assert devices["cover-1"].profile.vendor == "covertech"
    assert devices["smoke-1"].registration.linked_camera_ids == ("cam-1",)
    with pytest.raises(ConfigError, match="vendor"):  # the seam really checks what it is given
        registry_from_data([{**config["sensors"][0], "vendor": "nobody"}], source="hub config")


def test_sensor_profiles_for_the_form(api, world):
    answer = api.client.get("/api/v1/sensor-profiles", headers=api.as_("inst"))
    assert answer.status_code == 200
    assert {"kind": "manhole_cover", "vendor": "covertech"} in answer.json()
    assert api.client.get("/api/v1/sensor-profiles", headers=api.as_("w1")).status_code == 403


def test_installer_gets_the_cameras_latest_snapshot_for_the_zone_editor(api, world):
    from tests.central.hubkit import JPEG, event

    snapshot = lambda user="inst": api.client.get("/api/v1/cameras/cam-1/snapshot",  # noqa: E731
                                                   headers=api.as_(user))
    none_yet = snapshot()
    assert none_yet.status_code == 404
    assert none_yet.json()["detail"] == "camera 'cam-1' has sent no snapshot yet"
    api.post_event(event("cam-1", snapshot=JPEG))
    newer = JPEG[:-2] + b"\x01\xff\xd9"
    api.post_event(event("cam-1", snapshot=newer))
    answer = snapshot()
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/jpeg"
    assert answer.content == newer
    assert snapshot("op").status_code == 200
    worker = snapshot("w1")
    assert worker.status_code == 403 and worker.json()["detail"].startswith("role 'grid_worker' may not do this")
    unknown = api.client.get("/api/v1/cameras/cam-404/snapshot", headers=api.as_("inst"))
    assert unknown.status_code == 404 and unknown.json()["detail"] == "camera 'cam-404' is not registered"
