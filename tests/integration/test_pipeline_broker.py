"""End to end: the shared pedestrian clip through the real detector, tracker, zone rule and evidence, to a
real Mosquitto; the AlertEvents that arrive carry JPEG snapshots of the frame."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from broker.launcher import RunningBroker
from edge.settings import GatewaySettings, InferenceSettings
from edge.worker import EdgeWorker
from kernel.camera_config import load_camera_file
from kernel.contracts import topics
from kernel.contracts.messages import AlertEvent, AlertType, CameraStats, Phase, decode
from kernel.mqtt import Message, MqttClient
from kernel.settings import MqttSettings

pytestmark = [pytest.mark.integration, pytest.mark.needs_models]

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "cameras" / "pedestrians.yaml"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.changed = threading.Condition()

    def __call__(self, message: Message) -> None:
        with self.changed:
            self.messages.append(message)
            self.changed.notify_all()

    def wait_for(self, predicate, timeout_s: float) -> bool:  # noqa: ANN001
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self.messages), timeout_s)


def test_pedestrian_clip_raises_intrusion_alerts_with_snapshots_on_a_real_broker(
        shared_model, shared_media, mosquitto_broker: RunningBroker, tmp_path: Path) -> None:
    clip = shared_media("pedestrians-768x576-10fps-150f.mp4")
    model = shared_model("yolo11n-coco-int8-320.onnx")
    camera = load_camera_file(FIXTURE)
    # every-frame mode at full speed: the test takes seconds, not the clip's 15 s
    camera = camera.model_copy(update={
        "source": camera.source.model_copy(update={"url": str(clip)}),
        "detect": camera.detect.model_copy(update={"detect_fps": 60, "budget_ms": 60_000}),
    })
    broker = MqttSettings(host=mosquitto_broker.host, port=mosquitto_broker.port)
    settings = GatewaySettings(gateway_id="gw-it", model=model, broker=broker, data_dir=tmp_path / "edge",
                               metrics_port=0, stats_interval_s=1.0,
                               inference=InferenceSettings(every_frame=True, max_batch=1))
    inbox = Inbox()
    listener = MqttClient(broker, client_id="it-listener")
    listener.connect()
    listener.subscribe(topics.all_events("gw-it"), inbox)
    listener.subscribe(topics.all_stats("gw-it"), inbox)
    worker = EdgeWorker(settings, [camera]).start()
    try:
        def alerts(messages: list[Message]) -> list[AlertEvent]:
            return [decode(AlertEvent, m.payload, topic=m.topic) for m in messages if "/events/" in m.topic]

        assert inbox.wait_for(lambda ms: any(a.phase is Phase.START for a in alerts(ms)), 60), \
            "no START alert arrived"
        runtime = worker.runtimes["pedestrians"]
        assert runtime.reader.finished.wait(60)
        worker.publish_stats()
        assert inbox.wait_for(lambda ms: any("/stats/" in m.topic for m in ms), 10)
    finally:
        worker.stop()
        listener.close()

    events = alerts(inbox.messages)
    start = next(a for a in events if a.phase is Phase.START)
    assert start.alert_type is AlertType.INTRUSION
    assert start.source_id == "pedestrians" and start.detail.kind == "camera"
    assert start.detail.rule_id == "person-on-walkway" and start.detail.zone_id == "walkway"
    assert start.detail.detections and all(d.class_name == "person" for d in start.detail.detections)
    assert start.snapshot is not None
    jpeg = start.snapshot.jpeg_bytes()
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[1] == start.snapshot.width_px
    assert len({a.event_id for a in events}) == len(events)  # none duplicated
    stats = [decode(CameraStats, m.payload, topic=m.topic) for m in inbox.messages if "/stats/" in m.topic]
    assert sum(s.frames_captured for s in stats) == 150
    assert any(s.inference_ms is not None for s in stats)
