"""The MQTT side of ingest: a quick callback that queues, and one worker that writes batches (or dead-letters
what cannot be written), then acks."""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass

from central.camera_health import CameraStatsStore
from central.dead_letters import DeadLetters, Poison
from central.errors import IngestRejected
from central.ingest import Ingestor
from central.metrics import HubMetrics
from central.settings import HubSettings
from central.status import StatusTracker
from kernel.contracts import topics
from kernel.contracts.messages import AlertEvent, CameraStatus, GatewayStatus, SensorStatus, decode
from kernel.errors import ContractError
from kernel.mqtt import Message, MqttClient

log = logging.getLogger(__name__)

_STATUS_MODELS = {
    topics.Channel.GATEWAY_STATUS: GatewayStatus,
    topics.Channel.CAMERA_STATUS: CameraStatus,
    topics.Channel.SENSOR_STATUS: SensorStatus,
}


class MqttIngest:
    """Subscribes to events and status; messages are acknowledged only after their transaction commits,
    so a hub killed mid-batch gets them again from the broker (and idempotency drops the repeats)."""

    def __init__(
        self,
        settings: HubSettings,
        ingestor: Ingestor,
        status: StatusTracker,
        metrics: HubMetrics,
        dead_letters: DeadLetters,
    ) -> None:
        self.settings = settings
        self.dead_letters = dead_letters
        self._busy_since: float | None = None  # monotonic time the batch being written was taken
        self.ingestor = ingestor
        self.status = status
        self.metrics = metrics
        self.client = MqttClient(settings.mqtt, settings.ingest.client_id, clean_session=False, manual_ack=True)
        self._queue: queue.Queue[Message] = queue.Queue()
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._run, name="hub-ingest", daemon=True)
        # Edge stats take their own path (handler, parking dict, writer thread) so they never join alert batches.
        self.camera_stats = CameraStatsStore(status.db, status.clock, metrics.registry)

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
            self._store_or_dead_letter(batch)
            for item in batch:
                self.client.ack(item.message)

    @property
    def stalled(self) -> bool:
        """The worker died, or one batch has been in the writing for longer than ``stall_after_s`` (a database
        that is away or locked): alerts are not taken in, whatever the broker connection says."""
        if self._worker.ident is not None and not self._worker.is_alive():
            return True
        since = self._busy_since
        return since is not None and time.monotonic() - since > self.settings.ingest.stall_after_s

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

    def _store_or_dead_letter(self, batch: list[_Received]) -> None:
        """Store ``batch``; every message is either stored or dead-lettered when this returns.

        A failure that says the database is away (or locked, or timing out) is retried as it is, with backoff:
        MQTT 3.1.1 redelivers unacknowledged messages only on reconnect, so giving up would strand them. Any
        other failure is in the messages: the batch is split in halves until the failing message stands
        alone, and a message that fails alone twice is poison: dead-lettered (and so acknowledged), never
        retried forever, and never taking the good messages of its batch with it."""
        self._busy_since = time.monotonic()
        parts = [batch]
        delay_s = 0.5
        while parts:
            part = parts.pop()
            error = self._attempt(part)
            if error is None:
                delay_s = 0.5
            elif self._database_away(error):
                log.error("ingest of %d messages failed, database unavailable; retrying in %.1f s: %s",
                          len(part), delay_s, error)
                if self._stop.wait(delay_s):
                    raise SystemExit(0) from None  # shutting down: leave them unacknowledged
                delay_s = min(delay_s * 2, 30)
                parts.append(part)
            elif len(part) > 1:
                log.warning("ingest batch of %d messages failed (%s); splitting it to find the culprit",
                            len(part), error)
                half = len(part) // 2
                parts += [part[half:], part[:half]]  # popped from the end: the first half goes first
            else:
                retry = self._attempt(part)  # alone, once more: a fluke passes now, poison fails again
                if retry is not None and self._database_away(retry):
                    parts.append(part)
                elif retry is not None:
                    parts += self._dead_letter(part[0], retry)
            self.metrics.ingest_failing_s.set(0 if error is None else time.monotonic() - self._busy_since)
        self._busy_since = None
        self.metrics.ingest_failing_s.set(0)

    def _database_away(self, error: Exception) -> bool:
        return self.ingestor.db.is_transient(error) or not self.ingestor.db.ping()

    def _attempt(self, part: list[_Received]) -> Exception | None:
        try:
            self._write(part)
            return None
        except Exception as exc:  # noqa: BLE001 - the worker must survive; the caller decides what to retry
            log.debug("ingest of %d messages failed", len(part), exc_info=True)
            return exc

    def _dead_letter(self, item: _Received, error: Exception) -> list[list[_Received]]:
        """Keep a message that fails on its own; [] when stored, else the message to try again later."""
        log.error("message on %s fails on its own (%s: %s): dead-lettered", item.message.topic,
                  type(error).__name__, error)
        poison = _poison(item.message, "processing_error", f"{type(error).__name__}: {error}")
        try:
            self.dead_letters.add([poison], self.ingestor.clock.now())
        except Exception:  # noqa: BLE001 - database gone meanwhile: try the message again from the start
            log.exception("dead letter not stored; the message is retried")
            if self._stop.wait(1.0):
                raise SystemExit(0) from None  # shutting down: leave it unacknowledged
            return [[item]]
        return []

    def _write(self, batch: list[_Received]) -> None:
        events: list[tuple[_Received, AlertEvent]] = []
        refused: list[Poison] = []  # refused before ingest: counted here, once stored
        for item in batch:
            decoded = item.decoded
            if isinstance(decoded, AlertEvent):
                events.append((item, decoded))
            elif isinstance(decoded, IngestRejected):
                refused.append(_poison(item.message, decoded.reason, str(decoded)))
            elif isinstance(decoded, ContractError):
                refused.append(_poison(item.message, "invalid_schema", str(decoded)))
            elif isinstance(decoded, Exception):
                refused.append(_poison(item.message, "undecodable", f"{type(decoded).__name__}: {decoded}"))
            elif decoded is not None:
                gateway_id, status = decoded
                self.status.apply(gateway_id, status)
        poisons = list(refused)
        if events:
            results = self.ingestor.ingest_batch([event for _, event in events], "mqtt")
            for (item, _), result in zip(events, results, strict=True):
                if isinstance(result, IngestRejected):  # counted by the ingestor already
                    poisons.append(_poison(item.message, result.reason, str(result)))
        self.dead_letters.add(poisons, self.ingestor.clock.now())
        for poison in refused:
            self.metrics.rejected.labels(poison.reason, "mqtt").inc()


def _poison(message: Message, reason: str, error: str) -> Poison:
    try:
        gateway_id: str | None = topics.parse(message.topic).gateway_id
    except Exception:  # noqa: BLE001 - a topic we cannot parse has no gateway to name
        gateway_id = None
    return Poison("mqtt", message.topic, gateway_id, reason, error, message.payload)


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
    except Exception as exc:  # noqa: BLE001 - anything else is poison too: kept, never left unacknowledged
        log.exception("message on %s could not be decoded", message.topic)
        return exc
