"""What the gateway says about itself: retained gateway and camera status, ``camera_offline`` alerts after the
debounce, per-camera stats windows (MQTT, QoS 0) and the Prometheus metrics; a supervised housekeeping
thread polls the offline watches, closes the stats windows and revives dead capture readers."""

from __future__ import annotations

import logging
import threading
import time

from edge.camera_health import OfflineWatch
from edge.cameras import CameraSupervisor
from edge.metrics import CameraFigures, EdgeFigures, EdgeMetrics
from edge.publisher import AlertPublisher
from edge.settings import GatewaySettings
from edge.threads import SupervisedThread, ThreadHealth
from kernel.contracts import topics
from kernel.contracts.messages import AlertEvent, Availability, CameraStatus, GatewayStatus, encode, utc_now
from kernel.mqtt import MqttClient

log = logging.getLogger(__name__)


def gateway_status(settings: GatewaySettings, state: Availability, reason: str, *,
                   revision: int | None) -> GatewayStatus:
    """The gateway's status message (``revision``: the hub config revision it runs, if it follows one)."""
    return GatewayStatus(gateway_id=settings.gateway_id, state=state, ts=utc_now(), reason=reason,
                         software_version=settings.software_version, config_revision=revision)


class StatusReporter:
    """Publishes the gateway's and its cameras' status, stats and health alerts; serves the metrics."""

    HOUSEKEEPING = "edge-housekeeping"

    def __init__(self, settings: GatewaySettings, client: MqttClient, metrics: EdgeMetrics,
                 health: ThreadHealth) -> None:
        self.settings = settings
        self.gateway_id = settings.gateway_id
        self.client = client
        self.metrics = metrics
        self.health = health
        self.hub_revision: int | None = None  # the hub config revision applied (with follow_hub)
        self._publisher: AlertPublisher | None = None
        self._cameras: CameraSupervisor | None = None
        self._health_alerts = 0
        self._next_stats = 0.0
        self._housekeeping = SupervisedThread(self.HOUSEKEEPING, self._housekeep, health)
        self._tick = threading.Event()  # set only to end the housekeeping wait early (stop)

    # -- gateway status -------------------------------------------------------------------------------

    def gateway_status(self, state: Availability, reason: str) -> GatewayStatus:
        return gateway_status(self.settings, state, reason, revision=self.hub_revision)

    def announce(self, state: Availability, reason: str, *, wait_s: float | None = None) -> None:
        """Publish the gateway's status (retained)."""
        self.client.publish(topics.gateway_status(self.gateway_id), encode(self.gateway_status(state, reason)),
                            retain=True, wait_s=wait_s)

    def on_connect(self) -> None:
        """(Re)connected: say online and re-assert the retained camera states."""
        self.metrics.mqtt_connects.inc()
        self.announce(Availability.ONLINE, "started")
        for runtime in self._cameras.running() if self._cameras is not None else ():
            if runtime.reader.state is not None:
                self.publish_camera_status(runtime.camera_id, runtime.reader.state, "reconnected")

    # -- camera status ------------------------------------------------------------------------------

    def publish_camera_status(self, camera_id: str, state: Availability, reason: str) -> None:
        status = CameraStatus(gateway_id=self.gateway_id, camera_id=camera_id, state=state, ts=utc_now(),
                              reason=reason[:300])
        self.client.publish(topics.camera_status(self.gateway_id, camera_id), encode(status), retain=True)
        self.metrics.camera_state(camera_id, state)

    def camera_changed(self, camera_id: str, watch: OfflineWatch, state: Availability, reason: str) -> None:
        """A running camera's reader reported a change: publish it and feed the offline watch."""
        self.publish_camera_status(camera_id, state, reason)
        self._raise(watch.state_changed(state, time.time(), reason))

    def _raise(self, alert: AlertEvent | None) -> None:
        if alert is not None and self._publisher is not None:
            self._health_alerts += 1
            self._publisher.publish(alert)

    # -- stats, metrics, housekeeping ------------------------------------------------------------------

    def publish_stats(self) -> None:
        """Close every camera's stats window: publish it (QoS 0) and fold it into the metrics."""
        for runtime in self._cameras.running() if self._cameras is not None else ():
            stats = runtime.pipeline.stats.snapshot()
            self.metrics.observe(stats)
            self.client.publish(topics.stats(self.gateway_id, runtime.camera_id), encode(stats), qos=0)

    def figures(self) -> EdgeFigures:
        """The worker's figures for a metrics scrape."""
        cameras = self._cameras.running() if self._cameras is not None else []
        return EdgeFigures(
            mqtt_connected=self.client.connected,
            mqtt_connect_failures=self.client.connect_failures,
            cameras=[CameraFigures(r.camera_id, r.pipeline.stats.totals["failed"], r.pipeline.alerts_emitted)
                     for r in cameras],
            health_alerts=self._health_alerts,
            publisher=self._publisher.stats() if self._publisher is not None else None,
            threads=self.health.states(),
        )

    def start(self, cameras: CameraSupervisor, publisher: AlertPublisher) -> None:
        """Report on ``cameras``; health alerts go to ``publisher``; serve /metrics when configured."""
        self._cameras, self._publisher = cameras, publisher
        self.metrics.watch(self.figures)
        if self.settings.metrics_port:
            self.metrics.serve(self.settings.metrics_host, self.settings.metrics_port)
        self._next_stats = time.monotonic() + self.settings.stats_interval_s
        self._housekeeping.start()

    def _housekeep(self) -> bool:
        """One round, once a second: offline alerts, dead readers revived, stats when their window closes."""
        if self._tick.wait(1.0):
            return False
        if self._cameras is None:
            return True
        now_ts = time.time()
        for runtime in self._cameras.running():
            self._raise(runtime.health.poll(now_ts))
        self._cameras.revive()
        if time.monotonic() >= self._next_stats:
            self._next_stats += self.settings.stats_interval_s
            self.publish_stats()
        return True

    def stop(self) -> None:
        self._tick.set()
        self._housekeeping.stop()
        self.metrics.close()
