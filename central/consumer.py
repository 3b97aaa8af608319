"""The MQTT side of ingest: a quick callback that queues, and one worker that writes batches, then acks."""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass

from central.camera_health import CameraStatsCollector
from central.errors import IngestRejected
from central.ingest import Ingestor
from central.metrics import HubMetrics
from central.settings import HubSettings
from central.status import StatusTracker
from gridwatch.contracts import topics
from gridwatch.contracts.messages import AlertEvent, CameraStatus, GatewayStatus, SensorStatus, decode
from gridwatch.errors import ContractError
from gridwatch.mqtt import Message, MqttClient

log = logging.getLogger(__name__)

_STATUS_MODELS = {
    topics.Channel.GATEWAY_STATUS: GatewayStatus,
    topics.Channel.CAMERA_STATUS: CameraStatus,
    topics.Channel.SENSOR_STATUS: SensorStatus,
}


class MqttIngest:
    """Subscribes to events and status; messages are acknowledged only after their transaction commits,
    so a hub killed mid-batch gets them again from the broker (and idempotency drops the repeats)."""

    def __init__(self, settings: HubSettings, ingestor: Ingestor, status: StatusTracker, metrics: HubMetrics) -> None:
        self.settings = settings
        self.ingestor = ingestor
        self.status = status
        self.metrics = metrics
        self.client = MqttClient(settings.mqtt, settings.ingest.client_id, clean_session=False, manual_ack=True)
        self._queue: queue.Queue[Message] = queue.Queue()
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._run, name="hub-ingest", daemon=True)
        # Edge stats take their own path (handler, parking dict, writer thread) so they never join alert batches.
        self.camera_stats = CameraStatsCollector(status.db, status.clock, metrics.registry)

    def start(self) -> None:
        group = self.settings.ingest.shared_group
        filters = [
            topics.all_events(),
            topics.all_gateway_status(),
            topics.all_camera_status(),
            topics.all_sensor_status(),
        ]
        for topic_filter in filters:
            if group and topic_filter == topics.all_events():
                topic_filter = topics.shared(group, topic_filter)
            self.client.subscribe(topic_filter, self._receive)
        stats_filter = topics.shared(group, topics.all_stats()) if group else topics.all_stats()
        self.client.subscribe(stats_filter, self.camera_stats.receive, qos=0)
        self.camera_stats.start()
        self._worker.start()
        self.client.connect_async()

    def stop(self) -> None:
        """Stop receiving, write what is queued, stop the worker (unacked messages come back next start)."""
        self._stop.set()
        self._worker.join(timeout=30)
        self.client.close()
        self.camera_stats.stop()

    @property
    def connected(self) -> bool:
        return self.client.connected

    def _receive(self, message: Message) -> None:
        """Network thread: decode at once (quick, and it overlaps the worker's waits on the database)."""
        self._queue.put(_Received(message, _decode(message)))

    def _run(self) -> None:
        while not self._stop.is_set() or not self._queue.empty():
            try:
                batch = self._take_batch(self._queue.get(timeout=0.1))
            except queue.Empty:
                continue
            self.metrics.queue_depth.set(self._queue.qsize())
            self._write_until_stored(batch)
            for item in batch:
                self.client.ack(item.message)

    def _take_batch(self, first: _Received) -> list[_Received]:
        """``first`` and what follows it within batch_wait_s of it, then whatever is already queued, up to
        batch_max. The wait counts from the first message, not between messages: a steady stream would
        otherwise keep a large batch open (and its first alert waiting) until it was full."""
        batch_max = self.settings.ingest.batch_max
        deadline = time.monotonic() + self.settings.ingest.batch_wait_s
        batch = [first]
        try:
            while len(batch) < batch_max:
                remaining_s = deadline - time.monotonic()
                batch.append(self._queue.get(timeout=remaining_s) if remaining_s > 0 else self._queue.get_nowait())
        except queue.Empty:
            pass
        return batch

    def _write_until_stored(self, batch: list[_Received]) -> None:
        """Retry a failed batch (database away, say) until it is stored: MQTT 3.1.1 redelivers unacknowledged
        messages only on reconnect, so giving up would strand them until then."""
        delay_s = 0.5
        while True:
            try:
                self._write(batch)
                return
            except Exception:  # noqa: BLE001 - the worker must survive and keep the messages
                log.exception("ingest batch of %d messages failed; retrying in %.1f s", len(batch), delay_s)
                if self._stop.wait(delay_s):
                    raise SystemExit(0) from None  # shutting down: leave them unacknowledged
                delay_s = min(delay_s * 2, 30)

    def _write(self, batch: list[_Received]) -> None:
        events: list[AlertEvent] = []
        for item in batch:
            topic, decoded = item.message.topic, item.decoded
            if isinstance(decoded, AlertEvent):
                events.append(decoded)
            elif isinstance(decoded, IngestRejected):
                self.metrics.rejected.labels(decoded.reason, "mqtt").inc()
                log.warning("message on %s rejected (%s): %s", topic, decoded.reason, decoded)
            elif isinstance(decoded, ContractError):
                self.metrics.rejected.labels("invalid_schema", "mqtt").inc()
                log.warning("message on %s rejected: %s", topic, decoded)
            elif decoded is not None:
                gateway_id, status = decoded
                self.status.apply(gateway_id, status)
        if events:
            self.ingestor.ingest_batch(events, "mqtt")


@dataclass(frozen=True, slots=True)
class _Received:
    message: Message
    decoded: AlertEvent | tuple[str, GatewayStatus | CameraStatus | SensorStatus] | Exception | None


def _decode(
    message: Message,
) -> AlertEvent | tuple[str, GatewayStatus | CameraStatus | SensorStatus] | Exception | None:
    """The message as a contract model (or the error that refuses it); None for channels the hub ignores."""
    try:
        parsed = topics.parse(message.topic)
        if parsed.channel is topics.Channel.EVENTS:
            event = decode(AlertEvent, message.payload, topic=message.topic)
            if event.gateway_id != parsed.gateway_id:
                return IngestRejected(
                    "topic_mismatch",
                    f"event {event.event_id} names gateway {event.gateway_id!r} but came on {message.topic}",
                    403,
                )
            return event
        if parsed.channel in _STATUS_MODELS:
            return parsed.gateway_id, decode(_STATUS_MODELS[parsed.channel], message.payload, topic=message.topic)
        return None
    except ContractError as exc:
        return exc
