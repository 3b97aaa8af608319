"""A gateway following the hub's configuration: revisions read with the edge's own models, and applied on a
running worker over a real broker without a restart (cameras started, stopped, changed; sensors swapped)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from broker.launcher import RunningBroker
from edge.hub_config import camera_changes, read_hub_config
from edge.sample_clip import ClipSpec, write_clip
from edge.settings import GatewaySettings
from edge.worker import EdgeWorker
from kernel.contracts import topics
from kernel.contracts.messages import Availability, CameraStatus, GatewayConfig, decode, encode, utc_now
from kernel.errors import ConfigError
from kernel.mqtt import Message, MqttClient
from kernel.settings import MqttSettings
from tests.waiting import wait_until

GW = "gw-h"


def _camera(camera_id: str, url: str, **extra: object) -> dict[str, object]:
    return {
        "camera_id": camera_id,
        "gateway_id": GW,
        "source": {"url": url, "realtime": True, "loop": True, "reconnect_min_s": 0.1, "reconnect_max_s": 0.2},
        "motion": {"downscale_width_px": 80},
        "rules": [{"rule_id": "any-motion", "kind": "motion", "severity": "low"}],
        **extra,
    }


SMOKE = {"device_id": "smoke-1", "kind": "smoke_detector", "vendor": "gridwatch"}


def _config(revision: int, cameras: list[dict[str, object]], sensors: list[dict[str, object]] = ()) -> GatewayConfig:
    return GatewayConfig(gateway_id=GW, revision=revision, ts=utc_now(), cameras=cameras, sensors=sensors)


# -- reading a revision ---------------------------------------------------------------------------------------


def test_a_refused_camera_is_left_out_with_the_field_named_and_the_rest_kept():
    bad = _camera("cam-bad", "x.mp4", zones=[{"id": "z", "polygon": [[0, 0], [1, 1]]}])
    foreign = {**_camera("cam-far", "y.mp4"), "gateway_id": "gw-other"}
    hub = read_hub_config(_config(4, [_camera("cam-a", "a.mp4"), bad, foreign], [SMOKE]), GW)
    assert [c.camera_id for c in hub.cameras] == ["cam-a"]
    assert hub.revision == 4 and hub.sensors is not None and list(hub.sensors.devices()) == ["smoke-1"]
    assert len(hub.errors) == 2
    assert "hub config revision 4, camera cam-bad" in hub.errors[0] and "polygon" in hub.errors[0]
    assert "assigned to gateway 'gw-other'" in hub.errors[1]


def test_a_refused_sensor_list_keeps_the_sensors_as_they_were():
    hub = read_hub_config(_config(2, [], [{"device_id": "x-1", "kind": "smoke_detector", "vendor": "nope"}]), GW)
    assert hub.sensors is None
    assert "hub config revision 2, sensors" in hub.errors[0] and "vendor" in hub.errors[0]


def test_a_config_for_another_gateway_is_refused():
    with pytest.raises(ConfigError, match="reached gateway 'gw-h'"):
        read_hub_config(GatewayConfig(gateway_id="gw-x", revision=1, ts=utc_now()), GW)


def test_only_new_changed_and_removed_cameras_are_touched():
    first = read_hub_config(_config(1, [_camera("a", "a.mp4"), _camera("b", "b.mp4")]), GW).cameras
    running = {c.camera_id: c for c in first}
    second = read_hub_config(
        _config(2, [_camera("a", "a.mp4"), _camera("b", "b2.mp4"), _camera("c", "c.mp4")]), GW
    ).cameras
    changes = camera_changes(running, second)
    assert changes.stop == ("b",)
    assert [c.camera_id for c in changes.start] == ["b", "c"]
    assert camera_changes(running, first).empty
    disabled = read_hub_config(_config(3, [_camera("a", "a.mp4", enabled=False)]), GW).cameras
    assert camera_changes(running, disabled).stop == ("a", "b")


# -- applied on a running gateway --------------------------------------------------------------------------


class _Statuses:
    def __init__(self) -> None:
        self.latest: dict[str, Availability] = {}
        self.cond = threading.Condition()

    def __call__(self, message: Message) -> None:
        status = decode(CameraStatus, message.payload)
        with self.cond:
            self.latest[status.camera_id] = status.state
            self.cond.notify_all()

    def wait_for(self, camera_id: str, state: Availability, timeout_s: float = 15.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.latest.get(camera_id) is state, timeout_s)



@pytest.mark.integration
def test_a_running_gateway_applies_each_new_revision_without_a_restart(
    mosquitto_broker: RunningBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no model anywhere: motion-only
    monkeypatch.delenv("GRIDWATCH_MODELS_DIR", raising=False)
    clip = str(write_clip(tmp_path / "street.mp4", ClipSpec(frames=20, fps=20)))
    broker = MqttSettings(host=mosquitto_broker.host, port=mosquitto_broker.port)
    hub = MqttClient(broker, client_id="test-hub")
    hub.connect()
    statuses = _Statuses()
    hub.subscribe(topics.all_camera_status(), statuses)
    # Retained before the gateway starts, as the hub leaves it: applied as soon as the gateway is up.
    assert hub.publish(topics.config(GW), encode(_config(1, [_camera("cam-a", clip)], [SMOKE])), retain=True, wait_s=5)
    settings = GatewaySettings(
        gateway_id=GW,
        broker=broker,
        data_dir=tmp_path / "edge",
        metrics_port=0,
        follow_hub=True,
        cameras_dir=tmp_path / "no-local-cameras",
    )
    worker = EdgeWorker(settings).start()
    try:
        assert wait_until(lambda: worker.hub_revision == 1)
        assert statuses.wait_for("cam-a", Availability.ONLINE)
        assert worker._sensors is not None and list(worker._sensors.processor._registry.devices()) == ["smoke-1"]
        first_reader = worker.runtimes["cam-a"].reader

        # Revision 2: cam-a unchanged (left running), cam-b new, sensors replaced.
        rev2 = _config(2, [_camera("cam-a", clip), _camera("cam-b", clip)], [{**SMOKE, "device_id": "smoke-2"}])
        hub.publish(topics.config(GW), encode(rev2), retain=True, wait_s=5)
        assert wait_until(lambda: worker.hub_revision == 2)
        assert statuses.wait_for("cam-b", Availability.ONLINE)
        assert worker.runtimes["cam-a"].reader is first_reader
        assert wait_until(lambda: list(worker._sensors.processor._registry.devices()) == ["smoke-2"])

        # A stale revision changes nothing.
        hub.publish(topics.config(GW), encode(_config(1, [])), retain=False, wait_s=5)
        time.sleep(0.5)  # lets time pass on purpose: an ignored revision leaves no trace to wait for
        assert worker.hub_revision == 2 and sorted(worker.runtimes) == ["cam-a", "cam-b"]

        # Revision 3: cam-a removed, cam-b kept, a refused camera left out (the others still applied).
        bad = _camera("cam-bad", clip, zones=[{"id": "z", "polygon": [[0, 0], [1, 1]]}])
        hub.publish(topics.config(GW), encode(_config(3, [_camera("cam-b", clip), bad])), retain=True, wait_s=5)
        assert wait_until(lambda: worker.hub_revision == 3)
        assert sorted(worker.runtimes) == ["cam-b"]
        assert statuses.wait_for("cam-a", Availability.OFFLINE)
        assert not first_reader.running
    finally:
        worker.stop()
        hub.publish(topics.config(GW), b"", retain=True, wait_s=5)  # clear the retained config
        hub.close()


def test_a_gateway_following_the_hub_sizes_inference_for_cameras_yet_to_come(tmp_path: Path) -> None:
    import os

    from edge.scheduler import planned_cameras

    local = read_hub_config(_config(1, [_camera("a", "a.mp4")]), GW).cameras
    follows = GatewaySettings(gateway_id=GW, data_dir=tmp_path, follow_hub=True)
    standalone = GatewaySettings(gateway_id=GW, data_dir=tmp_path)
    cores = os.cpu_count() or 1
    assert planned_cameras(follows, ()) == cores
    assert planned_cameras(follows, local * (cores + 3)) == cores + 3
    assert planned_cameras(standalone, local) == 1
