"""A whole edge gateway (motion-only) with hung cameras beside a healthy one: how long until the healthy
camera's first frame, until its first frame after its stream dropped, and how long the gateway's stop takes.

    .venv/bin/python benchmarks/bench_gateway_hung_camera.py [--hung N]

Starts its own Mosquitto on loopback (skips if absent); cameras are loopback stand-ins from
tests/edge/stream_servers.py. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from broker.launcher import BrokerKind, BrokerSettings, mosquitto_binary, start_broker  # noqa: E402
from edge.settings import GatewaySettings  # noqa: E402
from edge.worker import EdgeWorker  # noqa: E402
from kernel.camera_config import parse_camera  # noqa: E402
from kernel.settings import MqttSettings  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.edge.stream_servers import HungServer, MjpegServer  # noqa: E402


def _camera(camera_id: str, url: str) -> object:
    data = {"camera_id": camera_id, "source": {"url": url, "reconnect_min_s": 0.5, "reconnect_max_s": 1.0},
            "motion": {"downscale_width_px": 80}}
    return parse_camera(data, f"{camera_id}.yaml")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hung", type=int, default=2)
    args = parser.parse_args()
    if mosquitto_binary() is None:
        print(json.dumps({"skipped": "mosquitto is not installed"}))
        return
    with tempfile.TemporaryDirectory() as tmp:
        broker = start_broker(BrokerSettings(port=free_port(), data_dir=Path(tmp) / "broker",
                                             kind=BrokerKind.MOSQUITTO))
        hung_server = HungServer()
        healthy_server = MjpegServer(fps=10, frames=50, frames_per_connection=30)
        cameras = [_camera(f"hung-{i}", hung_server.url("rtsp")) for i in range(args.hung)]
        cameras.append(_camera("healthy", healthy_server.url()))
        settings = GatewaySettings(gateway_id="gw-bench", broker=MqttSettings(host=broker.host, port=broker.port),
                                   data_dir=Path(tmp) / "edge", metrics_port=0, model=None)
        started = time.monotonic()
        worker = EdgeWorker(settings, cameras).start()
        reader = worker.runtimes["healthy"].reader
        first_s = reconnect_s = None
        last_count, last_mono = 0, started
        deadline = started + 200
        while time.monotonic() < deadline and reconnect_s is None:
            count, now = reader.frames_read, time.monotonic()
            if count and first_s is None:
                first_s = now - started
            if count > 30 and last_count <= 30 and count > last_count:
                reconnect_s = now - last_mono  # from frame 30 (stream dropped) to the next frame
            if count != last_count:
                last_count, last_mono = count, now
            time.sleep(0.005)
        stop_start = time.monotonic()
        worker.stop()
        stop_s = time.monotonic() - stop_start
        hung_server.close()
        healthy_server.close()
        broker.stop()
    print(json.dumps({"hung_cameras": args.hung, "healthy_first_frame_s": first_s,
                      "healthy_reconnect_s": reconnect_s, "gateway_stop_s": round(stop_s, 3)}))


if __name__ == "__main__":
    main()
