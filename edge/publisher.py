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
restart between send and ack re-sends a message; the hub deduplicates those by ``event_id``. An ack whose
mark in the outbox fails (a full disk) is kept and the mark retried, so the message is neither re-sent by
this process nor, once the mark succeeded, after a restart.

``publish`` never raises for the outbox's sake: an alert the outbox refuses (size policy) or cannot store
(disk full) is counted by reason in ``stats()`` and logged by the outbox at most once per interval, so a
full disk cannot stop the thread that raised the alert. ``stats()`` is what the worker exports as metrics.
"""


from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from edge.outbox import (
    Outbox,
    OutboxFullError,
    OutboxItem,
    OutboxStorageError,
    OutgoingMessage,
    PutOutcome,
)
from kernel.contracts import topics
from kernel.contracts.messages import AlertEvent, Phase, Severity, encode
from kernel.mqtt import Delivery, MqttClient

log = logging.getLogger(__name__)

_MARK_RETRY_S = 1.0  # a mark that failed (disk full) is tried again this often


class DropReason(StrEnum):
    """Why an alert will never reach the broker."""

    OUTBOX_FULL = "outbox_full"  # refused by the outbox's size policy (max_items / max_bytes)
    EVICTED = "evicted"  # stored, then evicted by the size policy to make room for a newer alert
    OUTBOX_ERROR = "outbox_error"  # the outbox could not store it (disk full, I/O error)


@dataclass(frozen=True, slots=True)
class PublisherCounters:
    """``sent``: acknowledged by the broker; ``pending``: in the outbox; ``failures``: acks that timed out or
    messages the client refused (each retried); ``refused``: alerts the outbox would not take or store."""

    sent: int
    pending: int
    failures: int
    refused: int


@dataclass(frozen=True, slots=True)
class PublisherStats:
    """Totals since start, for metrics. Every alert handed to ``publish`` ends up in exactly one of
    ``stored``, ``duplicates`` or ``dropped[outbox_full | outbox_error]``; a stored one is later ``sent``,
    still ``pending``, or ``dropped[evicted]``.

    ``emitted``: alerts handed to publish/publish_many; ``stored``: new ones the outbox took; ``duplicates``:
    event ids already stored; ``sent``: acknowledged by the broker; ``failed``: send attempts that failed
    (ack timeout, client refused; each retried); ``dropped``: alerts lost for good, by DropReason value;
    ``outbox_errors``: outbox storage failures of any operation (put, read, mark), by kind (disk_full,
    io_error, corrupt, busy, database_error); ``pending`` / ``pending_bytes``: waiting to be sent;
    ``unmarked``: acknowledged, but the outbox could not record it yet (retried)."""

    emitted: int
    stored: int
    duplicates: int
    sent: int
    failed: int
    dropped: Mapping[str, int]
    outbox_errors: Mapping[str, int]
    pending: int
    pending_bytes: int
    unmarked: int


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
        self._counts_lock = threading.Lock()
        self._emitted = self._stored = self._duplicates = self._sent = self._failures = 0
        self._dropped: Counter[str] = Counter()
        self._cursor = 0  # highest seq handed to the client by this drainer
        self._unmarked: list[int] = []  # acknowledged seqs the outbox could not mark delivered yet
        self._next_mark_mono = 0.0

    # -- the API callers use ------------------------------------------------------------------------

    def publish(self, alert: AlertEvent) -> bool:
        """Store ``alert`` durably for sending; False if it was already stored (same event id), refused by
        the outbox's size policy or not storable (disk full): see ``stats()``.

        UPDATE messages are droppable under the outbox's size policy; START and END are not, and those of
        critical severity are never evicted.
        """
        return self.publish_many([alert]) == 1

    def publish_many(self, alerts: Sequence[AlertEvent]) -> int:
        """Store several alerts in one outbox transaction (one fsync); return how many were new."""
        if not alerts:
            return 0
        messages = [
            OutgoingMessage(alert.event_id, topics.events(self.gateway_id, alert.source_kind.value),
                            encode(alert), qos=1, droppable=alert.phase is Phase.UPDATE,
                            critical=alert.severity is Severity.CRITICAL)
            for alert in alerts
        ]
        try:
            outcomes = self._outbox.put_many(messages)
        except OutboxFullError as exc:  # logged by the outbox; the others of the batch are stored
            outcomes = exc.outcomes or [PutOutcome.REFUSED] * len(messages)
        except OutboxStorageError:  # counted and logged (once per interval) by the outbox
            outcomes = None
        with self._counts_lock:
            self._emitted += len(alerts)
            if outcomes is None:
                self._dropped[DropReason.OUTBOX_ERROR] += len(alerts)
                return 0
            self._stored += outcomes.count(PutOutcome.ADDED)
            self._duplicates += outcomes.count(PutOutcome.DUPLICATE)
            self._dropped[DropReason.OUTBOX_FULL] += outcomes.count(PutOutcome.REFUSED)
        self._wake.set()
        return outcomes.count(PutOutcome.ADDED)

    def start(self) -> AlertPublisher:
        """Start the drainer thread (idempotent)."""
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._drain_loop, name="alert-publisher", daemon=True)
            self._thread.start()
        return self

    def flush(self, timeout_s: float) -> bool:
        """Wait until every message is acknowledged by the broker; True if that happened in time."""
        self._wake.set()
        with self._idle:
            return self._idle.wait_for(lambda: self._unsent() == 0, timeout_s)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the drainer; undelivered messages stay in the outbox for the next start."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if not self._thread.is_alive():
                self._thread = None
                self._mark_acknowledged(force=True)  # a last try, so they are not re-sent at the next start

    def counters(self) -> PublisherCounters:
        dropped = self._dropped
        return PublisherCounters(self._sent, self._unsent(), self._failures,
                                 dropped[DropReason.OUTBOX_FULL] + dropped[DropReason.OUTBOX_ERROR])

    def stats(self) -> PublisherStats:
        """Totals for metrics (see PublisherStats); cheap, safe from any thread."""
        box = self._outbox.counters()
        with self._counts_lock:
            dropped = {reason.value: self._dropped[reason] for reason in DropReason}
            dropped[DropReason.EVICTED.value] = box.evicted
            return PublisherStats(
                emitted=self._emitted, stored=self._stored, duplicates=self._duplicates, sent=self._sent,
                failed=self._failures, dropped=dropped, outbox_errors=box.storage_errors,
                pending=self._unsent(), pending_bytes=box.pending_bytes, unmarked=len(self._unmarked),
            )

    def _unsent(self) -> int:
        return max(0, len(self._outbox) - len(self._unmarked))

    # -- drainer thread -------------------------------------------------------------------------------

    def _drain_loop(self) -> None:
        inflight: deque[tuple[OutboxItem, Delivery]] = deque()
        while not self._stopping.is_set():
            try:
                self._mark_acknowledged()
                self._fill(inflight)
                if not inflight:
                    with self._idle:
                        self._idle.notify_all()
                    self._wake.wait(0.5)
                    self._wake.clear()
                    continue
                self._await_head(inflight)
            except OutboxStorageError:  # counted and logged by the outbox; the disk may come back
                self._stopping.wait(1.0)
            except Exception:  # noqa: BLE001 - the drainer must outlive one bad message or disk hiccup
                log.exception("alert publisher: drain step failed; retrying in 1 s")
                self._stopping.wait(1.0)

    def _fill(self, inflight: deque[tuple[OutboxItem, Delivery]]) -> None:
        # New messages go to the client only while connected: while the broker is away they wait on disk,
        # not in the client's memory.
        if len(inflight) >= self._window or not self._client.connected:
            return
        # After this drainer's cursor, never "after the last in flight": an acknowledged message whose mark
        # failed is still pending in the outbox and must not be sent twice.
        for item in self._outbox.peek(self._window - len(inflight), after_seq=self._cursor):
            delivery = self._client.publish_tracked(item.topic, item.payload, qos=item.qos,
                                                    retain=item.retain)
            if not delivery.queued:
                with self._counts_lock:
                    self._failures += 1
                break
            inflight.append((item, delivery))
            self._cursor = item.seq

    def _await_head(self, inflight: deque[tuple[OutboxItem, Delivery]]) -> None:
        item, delivery = inflight[0]
        if delivery.wait(self._ack_timeout_s if self._client.connected else 0.2):
            inflight.popleft()
            with self._counts_lock:
                self._sent += 1
                self._unmarked.append(item.seq)
            self._mark_acknowledged()
        elif self._client.connected:
            with self._counts_lock:
                self._failures += 1
            log.warning("alert publisher: no ack for %s within %.1f s; still waiting (the client re-sends"
                        " it)", item.event_id, self._ack_timeout_s)

    def _mark_acknowledged(self, *, force: bool = False) -> None:
        """Record acknowledged messages in the outbox; after a failure, retry at most every second."""
        if not self._unmarked or (not force and time.monotonic() < self._next_mark_mono):
            return
        seqs = list(self._unmarked)
        try:
            self._outbox.mark_delivered(seqs)
        except OutboxStorageError:  # counted and logged by the outbox
            self._next_mark_mono = time.monotonic() + _MARK_RETRY_S
            return
        with self._counts_lock:
            del self._unmarked[: len(seqs)]
        with self._idle:
            self._idle.notify_all()
