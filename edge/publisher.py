"""Publish alert events to the hub: outbox first, then a drainer thread sends them in order with QoS 1.

Usage (camera pipeline and sensor reader alike)::

    publisher = AlertPublisher(client, Outbox(OutboxConfig(path=...)), gateway_id="gw-1")
    publisher.start()
    publisher.publish(alert)        # durable once it returns
    publisher.flush(timeout_s=5)    # optional: wait until the broker acknowledged everything
    publisher.stop()

Delivery is at-least-once on the wire and exactly-once by ``event_id`` in normal operation: a message is
handed to the MQTT client once and its broker ack awaited, however long a disconnection lasts (the client
re-sends it by itself after reconnecting), and deleted from the outbox only after the ack. Only a process
restart between send and ack re-sends a message; the hub deduplicates those by ``event_id``.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from edge.outbox import Outbox, OutboxFullError, OutboxItem, OutgoingMessage, PutOutcome
from gridwatch.contracts import topics
from gridwatch.contracts.messages import AlertEvent, Phase, encode
from gridwatch.mqtt import Delivery, MqttClient

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PublisherCounters:
    """``sent``: acknowledged by the broker; ``pending``: in the outbox; ``failures``: acks that timed out or
    messages the client refused (each retried); ``refused``: alerts the outbox would not take."""

    sent: int
    pending: int
    failures: int
    refused: int


class AlertPublisher:
    """Puts AlertEvents in the outbox and drains it to ``topics.events(gateway_id, source_kind)``."""

    def __init__(self, client: MqttClient, outbox: Outbox, gateway_id: str, *, window: int = 32,
                 ack_timeout_s: float = 5.0) -> None:
        topics.check_id("gateway_id", gateway_id)
        self._client = client
        self._outbox = outbox
        self.gateway_id = gateway_id
        self._window = window
        self._ack_timeout_s = ack_timeout_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        self._sent = self._failures = self._refused = 0

    # -- the API callers use ------------------------------------------------------------------------

    def publish(self, alert: AlertEvent) -> bool:
        """Store ``alert`` durably for sending; False if it was already stored (same event id) or refused.

        UPDATE messages are droppable under the outbox's size policy; START and END never are (a full
        outbox raises OutboxFullError for them).
        """
        return self.publish_many([alert]) == 1

    def publish_many(self, alerts: Sequence[AlertEvent]) -> int:
        """Store several alerts in one outbox transaction (one fsync); return how many were new."""
        if not alerts:
            return 0
        messages = [
            OutgoingMessage(alert.event_id, topics.events(self.gateway_id, alert.source_kind.value),
                            encode(alert), qos=1, droppable=alert.phase is Phase.UPDATE)
            for alert in alerts
        ]
        try:
            outcomes = self._outbox.put_many(messages)
        except OutboxFullError as exc:
            self._refused += (exc.outcomes or [PutOutcome.REFUSED]).count(PutOutcome.REFUSED)
            self._wake.set()
            raise
        self._refused += outcomes.count(PutOutcome.REFUSED)
        self._wake.set()
        return outcomes.count(PutOutcome.ADDED)

    def start(self) -> AlertPublisher:
        """Start the drainer thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._drain_loop, name="alert-publisher", daemon=True)
            self._thread.start()
        return self

    def flush(self, timeout_s: float) -> bool:
        """Wait until the outbox is empty (every message acknowledged); True if it emptied in time."""
        self._wake.set()
        with self._idle:
            return self._idle.wait_for(lambda: len(self._outbox) == 0, timeout_s)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the drainer; undelivered messages stay in the outbox for the next start."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def counters(self) -> PublisherCounters:
        return PublisherCounters(self._sent, len(self._outbox), self._failures, self._refused)

    # -- drainer thread -------------------------------------------------------------------------------

    def _drain_loop(self) -> None:
        inflight: deque[tuple[OutboxItem, Delivery]] = deque()
        while not self._stopping.is_set():
            try:
                self._fill(inflight)
                if not inflight:
                    with self._idle:
                        self._idle.notify_all()
                    self._wake.wait(0.5)
                    self._wake.clear()
                    continue
                self._await_head(inflight)
            except Exception:  # noqa: BLE001 - the drainer must outlive one bad message or disk hiccup
                log.exception("alert publisher: drain step failed; retrying in 1 s")
                self._stopping.wait(1.0)

    def _fill(self, inflight: deque[tuple[OutboxItem, Delivery]]) -> None:
        # New messages go to the client only while connected: while the broker is away they wait on disk,
        # not in the client's memory.
        if len(inflight) >= self._window or not self._client.connected:
            return
        after = inflight[-1][0].seq if inflight else 0
        for item in self._outbox.peek(self._window - len(inflight), after_seq=after):
            delivery = self._client.publish_tracked(item.topic, item.payload, qos=item.qos,
                                                    retain=item.retain)
            if not delivery.queued:
                self._failures += 1
                break
            inflight.append((item, delivery))

    def _await_head(self, inflight: deque[tuple[OutboxItem, Delivery]]) -> None:
        item, delivery = inflight[0]
        if delivery.wait(self._ack_timeout_s if self._client.connected else 0.2):
            self._outbox.delete(item.seq)
            self._sent += 1
            inflight.popleft()
        elif self._client.connected:
            self._failures += 1
            log.warning("alert publisher: no ack for %s within %.1f s; still waiting (the client re-sends"
                        " it)", item.event_id, self._ack_timeout_s)
