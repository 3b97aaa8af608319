"""The edge gateway process: wires the alert publisher, the shared inference scheduler, the camera supervisor
(capture and pipeline per camera), the status reporter, sensors and the hub's configuration together, and
shuts all of it down cleanly.

A frame's path, for a reader: ``edge.capture`` decodes it and hands it to its camera's
``CameraPipeline.admit`` (motion gate), ``edge.scheduler`` runs the shared detector and hands the camera its
detections, and ``CameraPipeline.step`` takes them through track -> zones -> rules -> evidence -> alert to
the publisher's outbox.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Sequence

from edge.cameras import CameraRuntime, CameraSupervisor
from edge.hub_config import HubConfigFollower, camera_changes, read_hub_config
from edge.metrics import EdgeMetrics
from edge.outbox import Outbox, OutboxConfig
from edge.publisher import AlertPublisher
from edge.reporter import StatusReporter, gateway_status
from edge.scheduler import InferenceScheduler, shared_inference
from edge.sensors.reader import SensorReader
from edge.sensors.registry import SensorRegistry, load_registry
from edge.settings import GatewaySettings
from edge.threads import ThreadHealth
from kernel.camera_config import CameraConfig, load_camera_dir
from kernel.contracts import topics
from kernel.contracts.messages import Availability, GatewayConfig, encode
from kernel.errors import ConfigError, KernelError
from kernel.mqtt import MqttClient, Will

log = logging.getLogger(__name__)


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
        self.threads = ThreadHealth()
        will = gateway_status(settings, Availability.OFFLINE, "last will", revision=None)
        self.client = MqttClient(settings.broker, client_id=f"edge-{self.gateway_id}",
                                 will=Will(topics.gateway_status(self.gateway_id), encode(will)))
        self.reporter = StatusReporter(settings, self.client, self.metrics, self.threads)
        self.supervisor: CameraSupervisor | None = None  # built at start, around the shared detector
        self.publisher: AlertPublisher | None = None
        self._outbox: Outbox | None = None
        self._sensors: SensorReader | None = None
        self._stop = threading.Event()
        self._stopped = False
        self._follower = HubConfigFollower(self.apply_hub_config, self.threads) if settings.follow_hub else None
        self._apply_lock = threading.Lock()

    @property
    def runtimes(self) -> dict[str, CameraRuntime]:
        """The running cameras by id."""
        return self.supervisor.runtimes if self.supervisor is not None else {}

    @property
    def scheduler(self) -> InferenceScheduler | None:
        """The shared inference scheduler (None: motion-only, or not started)."""
        return self.supervisor.scheduler if self.supervisor is not None else None

    @property
    def hub_revision(self) -> int | None:
        """The hub config revision applied (with follow_hub)."""
        return self.reporter.hub_revision

    def publish_stats(self) -> None:
        """Close every camera's stats window: publish it (QoS 0) and fold it into the metrics."""
        self.reporter.publish_stats()

    # -- start / stop ---------------------------------------------------------------------------------

    def start(self) -> EdgeWorker:
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.client.on_connect = self.reporter.on_connect
        if self._follower is not None:  # applied once everything below runs (the retained one may come first)
            self.client.subscribe(topics.config(self.gateway_id), self._follower.receive)
        self.client.connect_async()
        self._outbox = Outbox(OutboxConfig(path=settings.data_dir / "outbox.sqlite"))
        self.publisher = AlertPublisher(self.client, self._outbox, self.gateway_id).start()
        scheduler = shared_inference(settings, self.cameras, self.threads)
        self.supervisor = CameraSupervisor(self.gateway_id, self.publisher, scheduler, self.reporter.camera_changed,
                                           self.threads, every_frame=settings.inference.every_frame)
        self.reporter.start(self.supervisor, self.publisher)  # before the first camera reports
        if scheduler is not None:
            scheduler.start()
        for camera in self.cameras:
            self.supervisor.start(camera)
        if settings.sensors_registry is not None:
            self._start_sensors(load_registry(settings.sensors_registry, gateway_id=self.gateway_id))
        if self._follower is not None:
            self._follower.start()
        log.info("edge gateway %s running %d camera(s) (%s)", self.gateway_id, len(self.runtimes),
                 "detector" if scheduler else "motion-only")
        return self

    def _start_sensors(self, registry: SensorRegistry) -> None:
        if self.publisher is None:
            return
        reader = SensorReader(self.settings.broker, self.gateway_id, registry, self.publisher)
        try:
            reader.start()
        except KernelError as exc:  # broker not up yet: cameras keep running, sensors say why
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
            supervisor = self.supervisor
            if supervisor is None:
                return False
            changes = camera_changes({cid: rt.camera for cid, rt in self.runtimes.items()}, hub.cameras)
            restarting = {camera.camera_id for camera in changes.start}
            for cid in changes.stop:
                supervisor.stop(cid)
                if cid not in restarting:  # gone: say offline rather than leave its last status standing
                    self.reporter.publish_camera_status(cid, Availability.OFFLINE,
                                                        "removed by the hub's configuration")
            for camera in changes.start:  # a changed camera starts again at once and reports itself
                supervisor.start(camera)
            if hub.sensors is not None:
                if self._sensors is not None:
                    self._sensors.use_registry(hub.sensors)
                else:
                    self._start_sensors(hub.sensors)
            self.cameras = list(supervisor.cameras())
            self.reporter.hub_revision = hub.revision
            self.reporter.announce(Availability.ONLINE, f"hub config revision {hub.revision} applied")
            log.info(
                "hub config revision %d applied: %d camera(s) running (%d stopped, %d started), %s, %d refused",
                hub.revision, len(self.runtimes), len(changes.stop), len(changes.start),
                "sensors kept" if hub.sensors is None else f"{len(hub.sensors.devices())} sensor(s)",
                len(hub.errors),
            )
            return True

    def stop(self, reason: str = "shutdown", flush_timeout_s: float = 5.0) -> None:
        """Stop readers and inference, flush the outbox, say offline (retained), disconnect."""
        if self._stopped:
            return
        with self._apply_lock:  # no hub config is half applied while everything stops
            self._stopped = True
        self._stop.set()
        if self._follower is not None:
            self._follower.stop()
        self.reporter.stop()
        if self.supervisor is not None:
            # Each reader's last report says "stopped" (not "stream lost": nothing was lost), and the gateway's
            # own retained status (below) says why.
            self.supervisor.stop_all()
            if self.supervisor.scheduler is not None:
                self.supervisor.scheduler.stop()
        if self._sensors is not None:
            self._sensors.stop()
        if self.publisher is not None:
            if not self.publisher.flush(flush_timeout_s):
                log.warning("%d alert(s) still in the outbox; they are sent on the next start",
                            self.publisher.counters().pending)
            self.publisher.stop()
        if self._outbox is not None:
            self._outbox.close()
        self.reporter.announce(Availability.OFFLINE, reason, wait_s=2.0)
        self.client.close()
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
