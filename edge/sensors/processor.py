"""The sensor core without MQTT: topic + payload in, AlertEvents out, every rejection counted by reason.

Usable directly by tests and benchmarks; the reader only feeds it from the broker and publishes its output.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from edge.sensors.alarm_engine import AlarmEngine
from edge.sensors.alerts import alarm_alert, offline_alert
from edge.sensors.availability import AvailabilityChange, HeartbeatMonitor
from edge.sensors.parsing import RejectedMessage, RejectReason, parse_payload
from edge.sensors.registry import RegisteredDevice, SensorRegistry
from kernel.contracts import topics
from kernel.contracts.messages import AlertEvent, Availability, SensorStatus
from kernel.errors import ContractError

log = logging.getLogger(__name__)

DEFAULT_MAX_PAYLOAD_BYTES = 4096
"""Sensor payloads are tens of bytes; anything over a few kilobytes is refused before parsing."""

MAX_UNKNOWN_IDS_TRACKED = 1000


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one message produced: alerts to publish, or the reason it was rejected."""

    alerts: tuple[AlertEvent, ...] = ()
    rejected: RejectReason | None = None


@dataclass(frozen=True, slots=True)
class ProcessorStats:
    accepted: int
    rejected: dict[str, int]
    unknown_devices: dict[str, int]
    alerts: int
    offline_devices: int


class SensorProcessor:
    """Parses, checks and evaluates sensor messages of one gateway; holds alarm and availability state."""

    def __init__(
        self,
        gateway_id: str,
        registry: SensorRegistry,
        *,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
        clock: Callable[[], float] = time.time,
        log_interval_s: float = 10.0,
    ) -> None:
        self.gateway_id = topics.check_id("gateway_id", gateway_id)
        self._registry = registry
        self._max_payload_bytes = max_payload_bytes
        self._clock = clock
        self._engine = AlarmEngine()
        self._monitor = HeartbeatMonitor(
            {d: r.heartbeat_expiry_s for d, r in registry.devices().items()}, clock()
        )
        self._offline_episodes: dict[str, str] = {}
        self._accepted = 0
        self._alerts = 0
        self._rejected: Counter[str] = Counter()
        self._unknown: Counter[str] = Counter()
        self._log_interval_s = log_interval_s
        self._last_log: dict[RejectReason, float] = {}

    def handle(self, topic: str, payload: bytes, now: float | None = None) -> Outcome:
        """Process one message received at gateway time ``now`` (default: the clock)."""
        now = self._clock() if now is None else now
        try:
            alerts = self._handle(topic, payload, now)
        except RejectedMessage as exc:
            self._reject(exc.reason, str(exc), now)
            return Outcome(rejected=exc.reason)
        self._accepted += 1
        self._alerts += len(alerts)
        return Outcome(alerts=tuple(alerts))

    def tick(self, now: float | None = None) -> list[AlertEvent]:
        """Time-driven alerts: duration alarms that became due and devices silent past their expiry."""
        now = self._clock() if now is None else now
        alerts = []
        for transition in self._engine.tick(now):
            device = self._registry.get(transition.device_id)
            if device is not None:
                alerts.append(alarm_alert(self.gateway_id, device, transition, self._clock()))
        for change in self._monitor.expired(now):
            alerts.extend(self._availability(change))
        self._alerts += len(alerts)
        return alerts

    def use_registry(self, registry: SensorRegistry, now: float | None = None) -> None:
        """Switch to a new registry (e.g. a new ``GatewayConfig`` revision from the hub) without a restart;
        alarm state of devices that stay registered is kept."""
        now = self._clock() if now is None else now
        self._registry = registry
        self._monitor.set_devices({d: r.heartbeat_expiry_s for d, r in registry.devices().items()}, now)

    def hold_heartbeats(self, now: float | None = None) -> None:
        """The gateway lost its broker: silence is ours, not the devices'; restart their expiry clocks."""
        self._monitor.hold(self._clock() if now is None else now)

    def stats(self) -> ProcessorStats:
        return ProcessorStats(
            self._accepted,
            dict(self._rejected),
            dict(self._unknown),
            self._alerts,
            len(self._monitor.offline()),
        )

    # -- one message ------------------------------------------------------------------------------------

    def _handle(self, topic: str, payload: bytes, now: float) -> list[AlertEvent]:
        if len(payload) > self._max_payload_bytes:
            raise RejectedMessage(
                RejectReason.OVERSIZED,
                f"message on {topic[:120]!r}: {len(payload)} bytes exceeds {self._max_payload_bytes}",
            )
        device_id, is_status = self._route(topic)
        device = self._registry.get(device_id)
        if device is None:
            if device_id in self._unknown or len(self._unknown) < MAX_UNKNOWN_IDS_TRACKED:
                self._unknown[device_id] += 1
            raise RejectedMessage(
                RejectReason.UNKNOWN_DEVICE,
                f"device {device_id} is not registered on gateway {self.gateway_id}",
            )
        if is_status:
            return self._status(device, payload, now)
        reading = parse_payload(device.profile, device_id, payload, now)
        alerts = []
        change = self._monitor.seen(device_id, now)
        if change is not None:
            alerts.extend(self._availability(change))
        for transition in self._engine.evaluate(reading, device.rules):
            alerts.append(alarm_alert(self.gateway_id, device, transition, self._clock()))
        return alerts

    def _route(self, topic: str) -> tuple[str, bool]:
        try:
            parsed = topics.parse(topic)
        except ContractError as exc:
            raise RejectedMessage(RejectReason.BAD_TOPIC, str(exc)) from None
        if (
            parsed.gateway_id != self.gateway_id
            or parsed.subject is None
            or parsed.channel not in (topics.Channel.SENSOR_UP, topics.Channel.SENSOR_STATUS)
        ):
            raise RejectedMessage(
                RejectReason.BAD_TOPIC, f"topic {topic!r} is not a sensor topic of gateway {self.gateway_id}"
            )
        return parsed.subject, parsed.channel is topics.Channel.SENSOR_STATUS

    def _status(self, device: RegisteredDevice, payload: bytes, now: float) -> list[AlertEvent]:
        device_id = device.registration.device_id
        try:
            status = SensorStatus.model_validate_json(payload)
        except ValueError as exc:
            raise RejectedMessage(
                RejectReason.MALFORMED, f"device {device_id}: not a SensorStatus: {str(exc).splitlines()[0]}"
            ) from None
        if status.device_id != device_id:
            raise RejectedMessage(
                RejectReason.DEVICE_MISMATCH,
                f"topic names device {device_id} but the status says {status.device_id}",
            )
        if status.state is Availability.OFFLINE:
            change = self._monitor.announced_offline(device_id, now)
        else:
            change = self._monitor.seen(device_id, now)
        return [] if change is None else self._availability(change)

    def _availability(self, change: AvailabilityChange) -> list[AlertEvent]:
        device = self._registry.get(change.device_id)
        if device is None:
            return []
        if change.state is Availability.OFFLINE:
            alert = offline_alert(self.gateway_id, device, change, None, self._clock())
            self._offline_episodes[change.device_id] = alert.episode_id
            return [alert]
        episode_id = self._offline_episodes.pop(change.device_id, None)
        return [] if episode_id is None else [offline_alert(self.gateway_id, device, change, episode_id, self._clock())]

    def _reject(self, reason: RejectReason, message: str, now: float) -> None:
        self._rejected[reason.value] += 1
        if now - self._last_log.get(reason, float("-inf")) >= self._log_interval_s:
            self._last_log[reason] = now
            log.warning(
                "sensor message rejected (%s, %d so far): %s",
                reason.value,
                self._rejected[reason.value],
                message,
            )
