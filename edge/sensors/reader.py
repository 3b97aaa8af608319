"""SensorReader: the sensor topics of one gateway's broker -> SensorProcessor -> AlertPublisher.

The MQTT callback only appends the message to a bounded queue; one worker thread parses, evaluates and
publishes. When the queue is full the callback blocks (back-pressure): the client stops reading its socket,
TCP pushes back on the broker, and the broker holds the QoS 1 messages for us (Mosquitto up to its
``max_queued_messages`` per client, 10,000 in our config). We never discard a message in-process, so an alarm
in a burst is never lost here, and memory stays bounded by ``queue_size``. The alternative, coalescing
telemetry per device, needs a parse in the callback to know which messages carry alarms; at >= 10,000
messages/s the worker keeps up with a burst, so blocking is both simpler and safe.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge
from pydantic import BaseModel, ConfigDict, Field

from edge.errors import EdgeError
from edge.publisher import AlertPublisher
from edge.sensors.processor import DEFAULT_MAX_PAYLOAD_BYTES, ProcessorStats, SensorProcessor
from edge.sensors.registry import SensorRegistry
from kernel.contracts import topics
from kernel.contracts.messages import AlertEvent
from kernel.mqtt import Message, MqttClient, Will
from kernel.settings import MqttSettings

log = logging.getLogger(__name__)

class SensorMetrics:
    """The reader's Prometheus series, on one registry (the edge worker passes its own)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        kw: dict[str, Any] = {"registry": registry} if registry is not None else {}
        self.messages = Counter("gridwatch_sensor_messages_total",
                                "Sensor messages taken off the broker, by outcome (accepted or why rejected)",
                                ["gateway_id", "outcome"], **kw)
        self.alerts = Counter("gridwatch_sensor_alerts_total", "Sensor alerts handed to the publisher",
                              ["gateway_id"], **kw)
        self.queue_depth = Gauge("gridwatch_sensor_queue_depth", "Sensor messages waiting for the worker",
                                 ["gateway_id"], **kw)
        self.backpressure = Counter("gridwatch_sensor_backpressure_total",
                                    "Times the MQTT thread waited because the sensor queue was full",
                                    ["gateway_id"], **kw)


_default_metrics: SensorMetrics | None = None
_default_lock = threading.Lock()


def default_metrics() -> SensorMetrics:
    """The series on prometheus_client's default registry, created once per process."""
    global _default_metrics
    with _default_lock:
        if _default_metrics is None:
            _default_metrics = SensorMetrics()
        return _default_metrics


_STOP = object()


@dataclass(frozen=True, slots=True)
class _RegistryUpdate:
    registry: SensorRegistry


class ReaderConfig(BaseModel):
    """How the sensor reader buffers and times its work."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    queue_size: int = Field(20_000, ge=10, le=1_000_000, description="messages buffered before back-pressure")
    tick_interval_s: float = Field(
        1.0, gt=0, le=60, description="how often heartbeats and durations are checked"
    )
    batch_max: int = Field(
        500, ge=1, le=100_000, description="messages processed per batch; their alerts share one fsync"
    )
    max_payload_bytes: int = Field(
        DEFAULT_MAX_PAYLOAD_BYTES,
        ge=64,
        le=1_048_576,
        description="larger sensor payloads are rejected unparsed",
    )


@dataclass(frozen=True, slots=True)
class ReaderStats:
    processor: ProcessorStats
    queue_depth: int
    backpressure_waits: int
    publish_errors: int


class SensorReader:
    """Subscribes to a gateway's sensor topics and publishes the alerts they raise."""

    def __init__(
        self,
        settings: MqttSettings,
        gateway_id: str,
        registry: SensorRegistry,
        publisher: AlertPublisher,
        config: ReaderConfig | None = None,
        *,
        will: Will | None = None,
        metrics: SensorMetrics | None = None,
    ) -> None:
        self.config = config or ReaderConfig()
        self.gateway_id = gateway_id
        self.processor = SensorProcessor(
            gateway_id, registry, max_payload_bytes=self.config.max_payload_bytes
        )
        self._publisher = publisher
        # A durable session: the broker keeps our subscriptions and queues QoS 1 sensor messages while the
        # reader reconnects, so a short outage of the reader loses no alarm.
        self._client = MqttClient(settings, f"gridwatch-sensors-{gateway_id}", will=will, clean_session=False)
        self._queue: queue.Queue[object] = queue.Queue(self.config.queue_size)
        self._thread: threading.Thread | None = None
        self._backpressure = 0
        self._publish_errors = 0
        self._outcomes: dict[str, Any] = {}  # Prometheus children per outcome label, cached
        self._metrics = metrics or default_metrics()
        self._alerts_counter = self._metrics.alerts.labels(gateway_id)
        self._depth_gauge = self._metrics.queue_depth.labels(gateway_id)

    @property
    def client(self) -> MqttClient:
        """The reader's broker connection (a standalone gateway publishes its status through it)."""
        return self._client

    def start(self, connect_timeout_s: float = 10.0) -> SensorReader:
        """Start the worker, subscribe, and connect (raises TransportError if the broker is absent)."""
        self._thread = threading.Thread(
            target=self._work, name=f"sensor-reader-{self.gateway_id}", daemon=True
        )
        self._thread.start()
        self._client.subscribe(topics.all_sensor_up(self.gateway_id), self._enqueue)
        self._client.subscribe(topics.all_sensor_status(self.gateway_id), self._enqueue)
        try:
            self._client.connect(connect_timeout_s)
        except Exception:
            self._queue.put(_STOP)
            self._thread.join(5.0)
            self._thread = None
            raise
        return self

    def use_registry(self, registry: SensorRegistry) -> None:
        """Apply a new registry (the hub's registration seam); takes effect from the next message."""
        self._queue.put(_RegistryUpdate(registry))

    def stop(self, timeout_s: float = 5.0) -> None:
        """Disconnect, then let the worker finish what is queued."""
        self._client.close()
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout_s)
            self._thread = None

    def stats(self) -> ReaderStats:
        return ReaderStats(
            self.processor.stats(), self._queue.qsize(), self._backpressure, self._publish_errors
        )

    # -- MQTT network thread: keep it tiny ---------------------------------------------------------------

    def _enqueue(self, message: Message) -> None:
        item = (message.topic, message.payload, time.time())
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._backpressure += 1
            self._metrics.backpressure.labels(self.gateway_id).inc()
            self._queue.put(item)  # back-pressure: see the module docstring

    # -- worker thread ----------------------------------------------------------------------------------

    def _work(self) -> None:
        next_tick = time.monotonic() + self.config.tick_interval_s
        while True:
            batch = self._take_batch(max(0.0, next_tick - time.monotonic()))
            alerts: list[AlertEvent] = []
            for item in batch:
                if item is _STOP:
                    break
                try:
                    if isinstance(item, _RegistryUpdate):
                        self.processor.use_registry(item.registry)
                    elif isinstance(item, tuple):
                        topic, payload, received_ts = item
                        outcome = self.processor.handle(topic, payload, received_ts)
                        self._count(outcome.rejected.value if outcome.rejected else "accepted")
                        alerts.extend(outcome.alerts)
                except Exception:  # noqa: BLE001 - one bad message must never stop the reader
                    log.exception("sensor reader: processing failed; continuing")
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + self.config.tick_interval_s
                if not self._client.connected:
                    self.processor.hold_heartbeats()  # we hear nobody: not the devices' fault
                alerts.extend(self.processor.tick())
                self._depth_gauge.set(self._queue.qsize())
            self._publish(alerts)
            if _STOP in batch:
                return

    def _take_batch(self, timeout_s: float) -> list[object]:
        """What is queued, up to ``batch_max``, waiting up to ``timeout_s`` for the first item."""
        try:
            batch = [self._queue.get(timeout=timeout_s)]
        except queue.Empty:
            return []
        while len(batch) < self.config.batch_max:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _count(self, outcome: str) -> None:
        child = self._outcomes.get(outcome)
        if child is None:
            child = self._outcomes[outcome] = self._metrics.messages.labels(self.gateway_id, outcome)
        child.inc()

    def _publish(self, alerts: list[AlertEvent]) -> None:
        """All alerts of one batch in one outbox transaction: an alert storm costs one fsync per batch."""
        if not alerts:
            return
        try:
            self._publisher.publish_many(alerts)
            self._alerts_counter.inc(len(alerts))
        except EdgeError:
            self._publish_errors += 1
            log.exception("sensor reader: the outbox refused some of %d alerts", len(alerts))
