"""The gateway keeps itself running and says so: a failing thread is logged, counted and restarted, a camera
whose stage fails never stops the others, a dead capture thread is revived, the metrics show the MQTT link,
the alert events and the threads, and a clean shutdown does not report live cameras as "stream lost"."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest

from broker.launcher import RunningBroker
from edge.cameras import CameraRuntime
from edge.metrics import EdgeMetrics
from edge.reporter import StatusReporter
from edge.sample_clip import ClipSpec, write_clip
from edge.settings import GatewaySettings
from edge.threads import SupervisedThread, ThreadHealth
from edge.worker import EdgeWorker
from kernel.camera_config import CameraConfig, parse_camera
from kernel.contracts.messages import AlertEvent, AlertType, Availability
from kernel.mqtt import MqttClient
from kernel.settings import MqttSettings
from tests.conftest import wait_until
from tests.edge.gatewaykit import Inbox

pytestmark = pytest.mark.integration


# -- the supervised thread on its own ---------------------------------------------------------------------

def test_a_thread_whose_work_fails_is_logged_counted_and_restarted(caplog: pytest.LogCaptureFixture) -> None:
    health = ThreadHealth()
    rounds: list[int] = []

    def step() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 2:
            raise RuntimeError("injected fault")
        time.sleep(0.01)

    thread = SupervisedThread("worker-x", step, health, restart_delay_s=0.01).start()
    try:
        assert wait_until(lambda: len(rounds) >= 5)  # it went on after the fault
    finally:
        thread.stop()
    assert health.restarts("worker-x") == 1
    assert "thread worker-x failed (restart 1)" in caplog.text and "injected fault" in caplog.text
    [state] = health.states()
    assert state.name == "worker-x" and state.restarts == 1 and state.last_beat_ts is not None
    assert not state.alive  # stopped


# -- a gateway on a real broker ------------------------------------------------------------------------

def _camera(camera_id: str, url: str) -> CameraConfig:
    return parse_camera({
        "camera_id": camera_id,
        "source": {"url": url, "realtime": True, "loop": True, "reconnect_min_s": 0.1, "reconnect_max_s": 0.2},
        "motion": {"downscale_width_px": 80},
        "rules": [{"rule_id": "any-motion", "kind": "motion", "severity": "low", "update_interval_s": 1,
                   "clear_after_s": 0.5, "cooldown_s": 0}],
    }, f"{camera_id}.yaml")


@pytest.fixture
def gateway(mosquitto_broker: RunningBroker, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., tuple[EdgeWorker, Inbox]]]:
    """Start a motion-only gateway ``gw-s`` on the given cameras; a listener records what it publishes."""
    monkeypatch.chdir(tmp_path)  # no ./models/store here: no model anywhere, so motion-only
    monkeypatch.delenv("GRIDWATCH_MODELS_DIR", raising=False)
    broker = MqttSettings(host=mosquitto_broker.host, port=mosquitto_broker.port)
    inbox = Inbox()
    listener = MqttClient(broker, client_id="supervision-listener")
    listener.connect()
    listener.subscribe("gridwatch/gw-s/#", inbox)
    workers: list[EdgeWorker] = []

    def start(*cameras: CameraConfig) -> tuple[EdgeWorker, Inbox]:
        settings = GatewaySettings(gateway_id="gw-s", broker=broker, data_dir=tmp_path / "edge", metrics_port=0,
                                   stats_interval_s=1.0)
        worker = EdgeWorker(settings, list(cameras)).start()
        workers.append(worker)
        assert worker.client.wait_connected(10)
        return worker, inbox

    yield start
    for worker in workers:
        worker.stop()
    listener.close()


@pytest.fixture
def clip(tmp_path: Path) -> str:
    return str(write_clip(tmp_path / "street.mp4", ClipSpec(frames=20, fps=20)))


def _motion_alerts_of(inbox: Inbox, camera_id: str) -> int:
    return sum(1 for a in inbox.alerts() if a.alert_type is AlertType.MOTION and a.source_id == camera_id)


def test_housekeeping_that_fails_is_logged_counted_and_restarted(gateway, clip: str,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    worker, inbox = gateway(_camera("cam-a", clip), _camera("cam-b", clip))
    watch = worker.runtimes["cam-a"].health
    failed = threading.Event()
    poll = watch.poll

    def poll_failing_once(now_ts: float) -> AlertEvent | None:
        if not failed.is_set():
            failed.set()
            raise RuntimeError("injected fault in the offline watch")
        return poll(now_ts)

    watch.poll = poll_failing_once  # type: ignore[method-assign]
    assert failed.wait(10)
    stats_then = inbox.count(lambda m: "/stats/" in m.topic)
    # restarted: stats windows of both cameras go on being published after the fault
    assert inbox.wait_for(lambda ms: sum("/stats/" in m.topic for m in ms) >= stats_then + 4)
    text = worker.metrics.text()
    assert 'gridwatch_edge_thread_restarts_total{thread="edge-housekeeping"} 1.0' in text
    assert 'gridwatch_edge_thread_alive{thread="edge-housekeeping"} 1.0' in text
    assert "thread edge-housekeeping failed (restart 1)" in caplog.text
    assert "injected fault in the offline watch" in caplog.text


def test_a_camera_whose_stage_fails_on_every_frame_does_not_stop_the_others(gateway, clip: str,
                                                                           caplog: pytest.LogCaptureFixture
                                                                           ) -> None:
    worker, inbox = gateway(_camera("cam-a", clip), _camera("cam-b", clip))
    broken = worker.runtimes["cam-a"].pipeline

    def motion_fails(_image: np.ndarray, _now_s: float) -> None:
        raise RuntimeError("injected fault in the motion stage")

    broken._motion.check = motion_fails  # type: ignore[method-assign]  # noqa: SLF001 - the seam under test
    assert wait_until(lambda: broken.stats.totals["failed"] >= 3)
    b_before = _motion_alerts_of(inbox, "cam-b")
    assert inbox.wait_for(lambda _: _motion_alerts_of(inbox, "cam-b") > b_before)  # cam-b goes on
    assert worker.runtimes["cam-a"].reader.running  # the broken camera's reader goes on as well
    failed = [line for line in worker.metrics.text().splitlines()
              if line.startswith('gridwatch_edge_frames_failed_total{camera="cam-a"}')]
    assert failed and float(failed[0].split()[-1]) >= 3
    assert 'gridwatch_edge_frames_failed_total{camera="cam-b"} 0.0' in worker.metrics.text()
    assert "camera cam-a: frame" in caplog.text and "injected fault in the motion stage" in caplog.text


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the death injected
def test_a_capture_thread_that_dies_is_revived(gateway, clip: str, caplog: pytest.LogCaptureFixture) -> None:
    worker, inbox = gateway(_camera("cam-a", clip), _camera("cam-b", clip))
    runtime: CameraRuntime = worker.runtimes["cam-a"]
    dying = runtime.reader

    def read_fails(_cap: object) -> bool:
        raise cv2.error("injected fault in the decoder")

    dying._read_until_lost = read_fails  # type: ignore[method-assign]  # noqa: SLF001 - fault injection
    # the looped clip is opened again every second: the next open hits the fault and the thread dies
    assert wait_until(lambda: runtime.reader is not dying)
    assert not dying.running
    assert wait_until(lambda: runtime.reader.frames_read > 0)  # the new reader reads
    assert 'gridwatch_edge_thread_restarts_total{thread="capture-cam-a"} 1.0' in worker.metrics.text()
    assert "camera cam-a: its capture thread died" in caplog.text
    assert worker.runtimes["cam-b"].reader.running


def test_metrics_show_the_mqtt_link_the_alert_events_and_the_threads(gateway, clip: str) -> None:
    worker, inbox = gateway(_camera("cam-a", clip))
    assert inbox.wait_for(lambda _: _motion_alerts_of(inbox, "cam-a") >= 1)
    assert worker.publisher is not None and worker.publisher.flush(10)
    beat = 'gridwatch_edge_thread_last_beat_seconds{thread="edge-housekeeping"}'
    assert wait_until(lambda: beat in worker.metrics.text())  # after its first round
    text = worker.metrics.text()
    assert "gridwatch_edge_mqtt_connected 1.0" in text
    assert "gridwatch_edge_mqtt_connects_total 1.0" in text

    def value(name: str) -> float:
        return float(next(line for line in text.splitlines() if line.startswith(name)).split()[-1])

    assert value('gridwatch_edge_events_emitted_total{camera="cam-a",source="camera"}') >= 1
    assert value("gridwatch_edge_events_sent_total") >= 1
    assert value('gridwatch_edge_events_queued_total{outcome="added"}') >= 1
    assert value('gridwatch_edge_events_dropped_total{reason="outbox_full"}') == 0
    assert value('gridwatch_edge_outbox_errors_total{kind="disk_full"}') == 0
    assert value("gridwatch_edge_events_send_failures_total") == 0
    assert value("gridwatch_edge_outbox_pending") >= 0  # motion goes on: new alerts keep coming
    assert value('gridwatch_edge_thread_alive{thread="capture-cam-a"}') == 1
    assert value(beat) > 0


def test_metrics_show_a_broken_mqtt_link() -> None:
    metrics = EdgeMetrics("gw-x")
    settings = GatewaySettings(gateway_id="gw-x", broker=MqttSettings(port=9), metrics_port=0)
    reporter = StatusReporter(settings, MqttClient(settings.broker), metrics, ThreadHealth())
    metrics.watch(reporter.figures)
    assert "gridwatch_edge_mqtt_connected 0.0" in metrics.text()
    reporter.client.connect_async()  # nothing listens on port 9: every attempt fails, and is counted
    try:
        assert wait_until(lambda: reporter.client.connect_failures >= 1, 10)
        assert "gridwatch_edge_mqtt_connect_failures_total 0.0" not in metrics.text()
        assert "gridwatch_edge_mqtt_connect_failures_total" in metrics.text()
    finally:
        reporter.client.close()


# -- a clean shutdown ------------------------------------------------------------------------------------

class _MjpegStream(BaseHTTPRequestHandler):
    """A live camera: JPEG frames over HTTP (multipart) at 20 fps until the server is told to stop."""

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        index = 0
        try:
            while not self.server.done.is_set():  # type: ignore[attr-defined]
                image = np.full((120, 160, 3), (index * 7) % 255, np.uint8)
                jpeg = cv2.imencode(".jpg", image)[1].tobytes()
                self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%s\r\n"
                                 % (len(jpeg), jpeg))
                index += 1
                self.server.done.wait(0.05)  # type: ignore[attr-defined]
        except (BrokenPipeError, ConnectionResetError):
            pass  # the camera's reader hung up

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def live_stream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _MjpegStream)
    server.daemon_threads = True
    server.done = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/live.mjpg"
    server.done.set()  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def test_a_clean_shutdown_does_not_report_a_live_camera_as_stream_lost(gateway, live_stream: str,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    worker, inbox = gateway(_camera("cam-live", live_stream))
    assert inbox.wait_for(lambda _: any(s.state is Availability.ONLINE for s in inbox.camera_statuses("cam-live")))
    assert wait_until(lambda: worker.runtimes["cam-live"].reader.frames_read >= 5)
    worker.stop()
    assert inbox.wait_for(lambda ms: any(m.topic.endswith("gw-s/status") and b'"offline"' in m.payload
                                         for m in ms))
    reasons = [s.reason for s in inbox.camera_statuses("cam-live")]
    assert "stream lost" not in reasons
    last = inbox.camera_statuses("cam-live")[-1]
    assert (last.state, last.reason) == (Availability.OFFLINE, "stopped")  # said as it is, as a file camera's
