"""The edge gateway process: wires capture readers, the shared inference scheduler, per-camera pipelines,
status, stats, metrics and the alert publisher together, and shuts all of it down cleanly."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from edge.camera_health import OfflineWatch
from edge.camera_rules import CameraRules
from edge.capture import CaptureReader, SourceSpec
from edge.config import CameraConfig, load_camera_dir
from edge.detector_setup import load_detector, planned_cameras
from edge.errors import ConfigError
from edge.evidence import build_alert
from edge.gateway_config import GatewaySettings, inference_plan
from edge.hub_config import HubConfigFollower, camera_changes, read_hub_config
from edge.metrics import EdgeMetrics
from edge.motion import MotionGate
from edge.outbox import Outbox, OutboxConfig
from edge.pipeline import CameraPipeline, DownstreamStages
from edge.publisher import AlertPublisher
from edge.scheduler import InferenceScheduler
from edge.sensors.reader import SensorReader
from edge.sensors.registry import Registry, load_registry
from edge.stats import CameraStatsCollector
from gridwatch.contracts import topics
from gridwatch.contracts.messages import (
    AlertEvent,
    Availability,
    CameraStatus,
    GatewayConfig,
    GatewayStatus,
    encode,
    utc_now,
)
from gridwatch.errors import GridwatchError
from gridwatch.mqtt import MqttClient, Will

log = logging.getLogger(__name__)


@dataclass
class CameraRuntime:
    camera: CameraConfig
    reader: CaptureReader
    pipeline: CameraPipeline
    health: OfflineWatch


class EdgeWorker:
    """One gateway. ``start()`` brings everything up, ``stop()`` takes it down (idempotent)."""

    def __init__(self, settings: GatewaySettings, cameras: Sequence[CameraConfig] | None = None) -> None:
        self.settings = settings
        self.gateway_id = settings.gateway_id
        if cameras is None:
            cameras, errors = load_camera_dir(settings.cameras_dir)
            for error in errors:
                log.error("camera config skipped: %s", error)  # one bad camera never stops the others
            if not cameras and errors and not settings.follow_hub:
                raise ConfigError(f"{settings.cameras_dir}: no valid camera config ({len(errors)} invalid)")
        self.cameras = [c for c in cameras if c.enabled and c.gateway_id in (None, settings.gateway_id)]
        for skipped in {c.camera_id for c in cameras} - {c.camera_id for c in self.cameras}:
            log.info("camera %s not run here: disabled or assigned to another gateway", skipped)
        self.metrics = EdgeMetrics(self.gateway_id)
        self.hub_revision: int | None = None  # the hub config revision applied (with follow_hub)
        self.client = MqttClient(settings.broker, client_id=f"edge-{self.gateway_id}",
                                 will=Will(topics.gateway_status(self.gateway_id),
                                           encode(self._gateway_status(Availability.OFFLINE, "last will"))))
        self.runtimes: dict[str, CameraRuntime] = {}
        self.scheduler: InferenceScheduler | None = None
        self.publisher: AlertPublisher | None = None
        self._outbox: Outbox | None = None
        self._sensors: SensorReader | None = None
        self._stop = threading.Event()
        self._housekeeping: threading.Thread | None = None
        self._stopped = False
        self._class_names: Sequence[str] | None = None
        self._follower = HubConfigFollower(self.apply_hub_config) if settings.follow_hub else None
        self._apply_lock = threading.Lock()

    # -- status ---------------------------------------------------------------------------------------

    def _gateway_status(self, state: Availability, reason: str) -> GatewayStatus:
        return GatewayStatus(gateway_id=self.gateway_id, state=state, ts=utc_now(), reason=reason,
                             software_version=self.settings.software_version, config_revision=self.hub_revision)

    def _publish_online(self) -> None:
        status = self._gateway_status(Availability.ONLINE, "started")
        self.client.publish(topics.gateway_status(self.gateway_id), encode(status), retain=True)
        for runtime in list(self.runtimes.values()):  # re-assert retained camera states after a reconnect
            if runtime.reader.state is not None:
                self._publish_camera_status(runtime.camera.camera_id, runtime.reader.state, "reconnected")

    def _publish_camera_status(self, camera_id: str, state: Availability, reason: str) -> None:
        status = CameraStatus(gateway_id=self.gateway_id, camera_id=camera_id, state=state, ts=utc_now(),
                              reason=reason[:300])
        self.client.publish(topics.camera_status(self.gateway_id, camera_id), encode(status), retain=True)

    def _on_camera_status(self, camera_id: str, state: Availability, reason: str) -> None:
        self._publish_camera_status(camera_id, state, reason)
        self.metrics.camera_state(camera_id, state)
        runtime = self.runtimes.get(camera_id)
        if runtime is not None:
            self._publish_alert(runtime.health.state_changed(state, time.time(), reason))

    def _publish_alert(self, alert: AlertEvent | None) -> None:
        if alert is not None and self.publisher is not None:
            self.publisher.publish(alert)

    # -- start / stop ---------------------------------------------------------------------------------

    def start(self) -> EdgeWorker:
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.client.on_connect = self._publish_online
        if self._follower is not None:  # applied once everything below runs (the retained one may come first)
            self.client.subscribe(topics.config(self.gateway_id), self._follower.receive)
        self.client.connect_async()
        self._outbox = Outbox(OutboxConfig(path=settings.data_dir / "outbox.sqlite"))
        self.publisher = AlertPublisher(self.client, self._outbox, self.gateway_id).start()
        detector = load_detector(settings, self.cameras)
        if detector is not None:
            workers, _ = inference_plan(
                settings.inference, planned_cameras(settings, self.cameras), os.cpu_count() or 1
            )
            self.scheduler = InferenceScheduler(detector, max_batch=settings.inference.max_batch, workers=workers)
        class_names = self._class_names = detector.spec.class_names if detector is not None else None
        for camera in self.cameras:
            if camera.detect.model and detector is not None and Path(camera.detect.model).name != \
                    detector.spec.path.name:
                log.warning("camera %s names model %s, but a gateway runs one shared detector: it uses %s",
                            camera.camera_id, camera.detect.model, detector.spec.path.name)
        for camera in self.cameras:
            self.runtimes[camera.camera_id] = self._camera_runtime(camera, class_names)
        if self.scheduler is not None:
            self.scheduler.start()
        for runtime in self.runtimes.values():
            runtime.reader.start()
        if settings.sensors_registry is not None:
            self._start_sensors(load_registry(settings.sensors_registry, gateway_id=self.gateway_id))
        if self._follower is not None:
            self._follower.start()
        if settings.metrics_port:
            self.metrics.serve(settings.metrics_host, settings.metrics_port)
        self._housekeeping = threading.Thread(target=self._housekeeping_loop, name="edge-housekeeping",
                                              daemon=True)
        self._housekeeping.start()
        log.info("edge gateway %s running %d camera(s) (%s)", self.gateway_id, len(self.runtimes),
                 "detector" if self.scheduler else "motion-only")
        return self

    def _camera_runtime(self, camera: CameraConfig, class_names: Sequence[str] | None) -> CameraRuntime:
        cid = camera.camera_id
        rules = CameraRules(camera, class_names)
        publisher = self.publisher
        if publisher is None:
            raise RuntimeError("publisher must start before cameras")
        stages = DownstreamStages(
            track=rules.track, rules=rules.rules,
            evidence=lambda event, frame: build_alert(event, frame, camera, self.gateway_id),
            publish=publisher.publish, motion_rules=rules.motion_rules,
        )
        stats = CameraStatsCollector(self.gateway_id, cid)
        # motion is checked at most at the detect rate (less half a 10 fps frame of slack)
        motion_interval_s = max(0.0, 1.0 / camera.detect.detect_fps - 0.05)
        pipeline = CameraPipeline(cid, MotionGate(camera.motion), stages, stats, scheduler=self.scheduler,
                                  every_frame=self.settings.inference.every_frame,
                                  motion_interval_s=motion_interval_s)
        if self.scheduler is not None:
            self.scheduler.add_camera(cid, detect_fps=camera.detect.detect_fps,
                                      budget_ms=camera.detect.budget_ms,
                                      on_result=pipeline.on_detected, on_skip=pipeline.on_budget_skip)
        reader = CaptureReader(cid, SourceSpec.from_section(camera.source), on_frame=pipeline.on_frame,
                               on_status=self._on_camera_status, on_decoded=pipeline.on_decoded,
                               on_bad_frame=pipeline.on_bad_frame)
        health = OfflineWatch(self.gateway_id, cid, camera.health.offline_debounce_s,
                              title=camera.name or cid)
        return CameraRuntime(camera, reader, pipeline, health)

    def _start_sensors(self, registry: Registry) -> None:
        if self.publisher is None:
            return
        reader = SensorReader(self.settings.broker, self.gateway_id, registry, self.publisher)
        try:
            reader.start()
        except GridwatchError as exc:  # broker not up yet: cameras keep running, sensors say why
            log.error("sensor reader not started: %s", exc)
            return
        self._sensors = reader
        log.info("sensor reader on %d registered device(s)", len(registry.devices()))

    # -- the hub's configuration (follow_hub) --------------------------------------------------------------

    def apply_hub_config(self, config: GatewayConfig) -> bool:
        """Run the cameras and sensors of ``config`` if it is newer than the one applied: stop cameras that
        are gone or changed, start new or changed ones, swap the sensor registry; no restart. A camera the
        edge models refuse is left out and logged; the others still run. True when applied."""
        with self._apply_lock:
            if self._stopped:
                return False
            if self.hub_revision is not None and config.revision <= self.hub_revision:
                log.debug("hub config revision %d ignored: revision %d applied", config.revision, self.hub_revision)
                return False
            try:
                hub = read_hub_config(config, self.gateway_id, self.settings.broker.password)
            except ConfigError as exc:
                log.error("hub config ignored: %s", exc)
                return False
            for error in hub.errors:
                log.error("%s", error)
            changes = camera_changes({cid: rt.camera for cid, rt in self.runtimes.items()}, hub.cameras)
            restarting = {camera.camera_id for camera in changes.start}
            for cid in changes.stop:
                self._stop_camera(cid, announce=cid not in restarting)
            for camera in changes.start:
                self.runtimes[camera.camera_id] = runtime = self._camera_runtime(camera, self._class_names)
                runtime.reader.start()
            if hub.sensors is not None:
                if self._sensors is not None:
                    self._sensors.use_registry(hub.sensors)
                else:
                    self._start_sensors(hub.sensors)
            self.cameras = [rt.camera for rt in self.runtimes.values()]
            self.hub_revision = hub.revision
            status = self._gateway_status(Availability.ONLINE, f"hub config revision {hub.revision} applied")
            self.client.publish(topics.gateway_status(self.gateway_id), encode(status), retain=True)
            log.info(
                "hub config revision %d applied: %d camera(s) running (%d stopped, %d started), %s, %d refused",
                hub.revision, len(self.runtimes), len(changes.stop), len(changes.start),
                "sensors kept" if hub.sensors is None else f"{len(hub.sensors.devices())} sensor(s)",
                len(hub.errors),
            )
            return True

    def _stop_camera(self, camera_id: str, *, announce: bool) -> None:
        """Stop one camera; ``announce``: it is gone from the hub's config, so say offline (retained) rather
        than leave its last status standing (a changed camera starts again at once and reports itself)."""
        runtime = self.runtimes.pop(camera_id)
        runtime.reader.stop()
        if self.scheduler is not None:
            self.scheduler.remove_camera(camera_id)
        if announce:
            self._publish_camera_status(camera_id, Availability.OFFLINE, "removed by the hub's configuration")

    def _housekeeping_loop(self) -> None:
        next_stats = time.monotonic() + self.settings.stats_interval_s
        while not self._stop.wait(1.0):
            now_ts = time.time()
            for runtime in list(self.runtimes.values()):
                self._publish_alert(runtime.health.poll(now_ts))
            if self.publisher is not None:
                self.metrics.outbox_pending.set(self.publisher.counters().pending)
            if time.monotonic() >= next_stats:
                next_stats += self.settings.stats_interval_s
                self.publish_stats()

    def publish_stats(self) -> None:
        """Close every camera's stats window: publish it (QoS 0) and fold it into the metrics."""
        for cid, runtime in list(self.runtimes.items()):
            stats = runtime.pipeline.stats.snapshot()
            self.metrics.observe(stats)
            self.client.publish(topics.stats(self.gateway_id, cid), encode(stats), qos=0)

    def stop(self, reason: str = "shutdown", flush_timeout_s: float = 5.0) -> None:
        """Stop readers and inference, flush the outbox, say offline (retained), disconnect."""
        if self._stopped:
            return
        with self._apply_lock:  # no hub config is half applied while everything stops
            self._stopped = True
        self._stop.set()
        if self._follower is not None:
            self._follower.stop()
        for runtime in list(self.runtimes.values()):
            runtime.reader.stop()
        if self.scheduler is not None:
            self.scheduler.stop()
        if self._sensors is not None:
            self._sensors.stop()
        if self.publisher is not None:
            if not self.publisher.flush(flush_timeout_s):
                log.warning("%d alert(s) still in the outbox; they are sent on the next start",
                            self.publisher.counters().pending)
            self.publisher.stop()
        if self._outbox is not None:
            self._outbox.close()
        status = encode(self._gateway_status(Availability.OFFLINE, reason))
        self.client.publish(topics.gateway_status(self.gateway_id), status, retain=True, wait_s=2.0)
        self.client.close()
        self.metrics.close()
        log.info("edge gateway %s stopped (%s)", self.gateway_id, reason)

    def run_until_signal(self) -> None:
        """Block until SIGINT or SIGTERM, then stop cleanly."""
        received: list[str] = []

        def handle(signum: int, _frame: object) -> None:
            received.append(signal.Signals(signum).name)
            self._stop.set()

        previous = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start()
            while not self._stop.wait(0.5):
                pass
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)
            self.stop(reason=f"shutdown ({received[0]})" if received else "shutdown")
