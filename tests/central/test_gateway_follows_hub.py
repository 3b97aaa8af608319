"""An installer's registration reaches a running gateway: the hub publishes the gateway's retained config,
a gateway that follows the hub starts and stops cameras accordingly, without a restart, and reports the
revision it runs back to the hub."""

from __future__ import annotations

import queue
from pathlib import Path

import pytest

from edge.sample_clip import ClipSpec, write_clip
from edge.settings import GatewaySettings
from edge.worker import EdgeWorker
from kernel.contracts import topics
from kernel.mqtt import MqttClient
from kernel.settings import MqttSettings
from tests.central.hubkit import populate
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def database() -> str:
    return "sqlite"



def test_registering_and_retiring_a_camera_at_the_hub_starts_and_stops_it_on_the_gateway(
    make_api, clock, mosquitto_broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no model anywhere: the gateway runs motion-only
    monkeypatch.delenv("GRIDWATCH_MODELS_DIR", raising=False)
    broker = MqttSettings(host=mosquitto_broker.host, port=mosquitto_broker.port)
    api = make_api(mqtt=broker, mqtt_enabled=True)
    world = populate(api, clock)  # gw-1 with cam-1 (an unreachable RTSP URL) and smoke-1
    api.hub.start()
    worker = None
    try:
        assert api.hub.mqtt.client.wait_connected(10)
        settings = GatewaySettings(
            gateway_id="gw-1", broker=broker, data_dir=tmp_path / "edge", metrics_port=0, follow_hub=True,
            cameras_dir=tmp_path / "none",
        )
        worker = EdgeWorker(settings).start()
        assert wait_until(lambda: worker.hub_revision is not None)
        assert sorted(worker.runtimes) == ["cam-1"] and worker._sensors is not None
        # cam-1's RTSP URL carries credentials: retained on the broker sealed, opened by the gateway alone.
        assert worker.runtimes["cam-1"].camera.source.url == "rtsp://u:secret@10.0.0.5/s"
        retained: queue.Queue[bytes] = queue.Queue()
        reader = MqttClient(broker)
        reader.subscribe(topics.config("gw-1"), lambda m: retained.put(m.payload))
        reader.connect()
        try:
            payload = retained.get(timeout=10)
        finally:
            reader.close()
        assert b"secret" not in payload and b"gridwatch-sealed:v1:" in payload
        first = worker.hub_revision

        clip = write_clip(tmp_path / "lobby.mp4", ClipSpec(frames=20, fps=20))
        inst = api.as_("inst")
        created = api.client.post(
            "/api/v1/cameras",
            headers=inst,
            json={
                "camera_id": "cam-lobby",
                "gateway_id": "gw-1",
                "stream_url": str(clip),
                "config": {"source": {"realtime": True, "loop": True}, "motion": {"downscale_width_px": 80}},
            },
        )
        assert created.status_code == 201, created.text
        assert wait_until(lambda: "cam-lobby" in worker.runtimes)
        assert wait_until(lambda: worker.runtimes["cam-lobby"].reader.frames_read > 0)  # reading the registered clip
        assert worker.hub_revision > first

        assert api.client.delete("/api/v1/cameras/cam-lobby", headers=inst).status_code == 204
        assert wait_until(lambda: "cam-lobby" not in worker.runtimes)
        assert sorted(worker.runtimes) == ["cam-1"]

        def gateway() -> dict:
            return api.client.get("/api/v1/gateways/gw-1", headers=inst).json()

        # The gateway reports the revision it runs; the hub shows it beside its own.
        assert wait_until(lambda: gateway()["applied_config_revision"] == gateway()["config_revision"])
        assert gateway()["applied_config_revision"] == worker.hub_revision
        assert world["gateway_password"]  # the gateway's own credentials exist (used by production brokers)
    finally:
        if worker is not None:
            worker.stop()
        api.hub.stop()
