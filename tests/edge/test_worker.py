"""The gateway worker on a real broker: retained gateway and camera status, motion-only mode, stats,
camera_offline after the debounce, a bad camera beside a good one, and a clean shutdown."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.launcher import RunningBroker
from edge.sample_clip import ClipSpec, write_clip
from edge.settings import GatewaySettings, build_settings, load_gateway_file
from edge.worker import EdgeWorker
from kernel.camera_config import parse_camera
from kernel.contracts import topics
from kernel.contracts.messages import (
    AlertType,
    Availability,
    CameraStatus,
    GatewayStatus,
    Phase,
    decode,
)
from kernel.errors import ConfigError
from kernel.mqtt import Message, MqttClient
from kernel.settings import MqttSettings
from models.errors import ModelError
from tests.edge.gatewaykit import Inbox

pytestmark = pytest.mark.integration


def _camera(camera_id: str, url: str, **extra: object) -> object:
    data = {"camera_id": camera_id, "source": {"url": url, "realtime": True, "loop": True,
                                               "reconnect_min_s": 0.1, "reconnect_max_s": 0.2},
            "motion": {"downscale_width_px": 80},
            "rules": [{"rule_id": "any-motion", "kind": "motion", "severity": "low"}], **extra}
    return parse_camera(data, f"{camera_id}.yaml")


@pytest.fixture
def listener(mosquitto_broker: RunningBroker):
    settings = MqttSettings(host=mosquitto_broker.host, port=mosquitto_broker.port)
    inbox = Inbox()
    client = MqttClient(settings, client_id="test-listener")
    client.connect()
    client.subscribe("gridwatch/gw-t/#", inbox)
    yield settings, inbox
    client.close()


def test_motion_only_gateway_with_a_good_and_a_missing_camera(listener, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    broker, inbox = listener
    monkeypatch.chdir(tmp_path)  # no ./models/store here: no model anywhere, so motion-only
    monkeypatch.delenv("GRIDWATCH_MODELS_DIR", raising=False)
    clip = write_clip(tmp_path / "street.mp4", ClipSpec(frames=20, fps=20))
    good = _camera("street", str(clip))
    gone = _camera("gone", "rtsp://admin:hunter2@127.0.0.1:9/none", health={"offline_debounce_s": 0.5})
    settings = GatewaySettings(gateway_id="gw-t", broker=broker, data_dir=tmp_path / "edge", metrics_port=0,
                               stats_interval_s=1.0)
    worker = EdgeWorker(settings, [good, gone]).start()
    try:
        assert worker.scheduler is None
        assert inbox.wait_for(lambda ms: any(m.topic == topics.gateway_status("gw-t") for m in ms))
        assert inbox.wait_for(lambda ms: any("/stats/street" in m.topic for m in ms))
        assert inbox.wait_for(lambda _: any(a.alert_type is AlertType.MOTION for a in inbox.alerts()))
        assert inbox.wait_for(lambda _: any(a.alert_type is AlertType.CAMERA_OFFLINE for a in inbox.alerts()))
    finally:
        worker.stop()
    def last_gateway_state(ms: list[Message]) -> Availability:
        return decode(GatewayStatus, [m for m in ms if m.topic.endswith("gw-t/status")][-1].payload).state

    assert inbox.wait_for(lambda ms: last_gateway_state(ms) is Availability.OFFLINE)
    statuses = {}
    for m in inbox.messages:
        if "/cameras/" in m.topic:
            status = decode(CameraStatus, m.payload)
            statuses[status.camera_id] = status
    # a clean shutdown says so ("stopped"), never "stream lost"
    assert (statuses["street"].state, statuses["street"].reason) == (Availability.OFFLINE, "stopped")
    assert statuses["gone"].state is Availability.OFFLINE
    offline = next(a for a in inbox.alerts() if a.alert_type is AlertType.CAMERA_OFFLINE)
    assert offline.phase is Phase.START and offline.source_id == "gone"
    everything = b"".join(m.payload for m in inbox.messages)
    assert b"hunter2" not in everything  # credentials never leave the gateway
    online = decode(GatewayStatus, next(m for m in inbox.messages if m.topic.endswith("gw-t/status")).payload)
    assert online.state is Availability.ONLINE


def test_an_explicit_model_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    settings = GatewaySettings(gateway_id="gw-t", model=tmp_path / "nope.onnx", data_dir=tmp_path,
                               broker=MqttSettings(port=9), metrics_port=0)
    worker = EdgeWorker(settings, [])
    with pytest.raises(ModelError, match="nope.onnx"):
        worker.start()
    worker.stop()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("gateway_id: gw-1\nmetrics_port: 70000\n", "metrics_port"),
        ("gateway_id: gw-1\ncolour: blue\n", "colour"),
        ("- just\n- a list\n", "expected a mapping"),
        ("gateway_id: [\n", "not valid YAML"),
    ],
)
def test_bad_gateway_file_names_the_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_gateway_file(path)
    assert str(path) in str(info.value)


def test_flags_override_the_file(tmp_path: Path) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text("gateway_id: gw-1\nstats_interval_s: 5\n")
    settings = load_gateway_file(path, gateway_id="gw-2", stats_interval_s=None)
    assert (settings.gateway_id, settings.stats_interval_s) == ("gw-2", 5.0)
    assert build_settings({"gateway_id": "gw-3"}).cameras_dir == Path("configs/cameras")
