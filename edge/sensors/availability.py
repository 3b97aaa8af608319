"""Device availability: heartbeat expiry per device, online/offline announcements, gateway last will."""

from __future__ import annotations

from dataclasses import dataclass

from kernel.contracts import topics
from kernel.contracts.messages import Availability, GatewayStatus, encode, utc_now
from kernel.mqtt import Will


@dataclass(frozen=True, slots=True)
class AvailabilityChange:
    """A device went silent (OFFLINE) or came back (ONLINE); ``last_seen_ts`` is gateway epoch seconds."""

    device_id: str
    state: Availability
    last_seen_ts: float | None
    at_ts: float


class HeartbeatMonitor:
    """Tracks when each device was last heard; a device silent past its expiry is offline until heard again.

    Devices never heard count from the monitor's start, so a sensor dead before the gateway booted is
    still reported after one expiry period.
    """

    def __init__(self, expiry_s: dict[str, float], start_ts: float) -> None:
        self._expiry_s = dict(expiry_s)
        self._last_seen: dict[str, float] = {}
        self._reference: dict[str, float] = {device_id: start_ts for device_id in expiry_s}
        self._offline: set[str] = set()

    def seen(self, device_id: str, now: float) -> AvailabilityChange | None:
        """Record a message from ``device_id``; return an ONLINE change if it had been offline."""
        self._last_seen[device_id] = now
        self._reference[device_id] = now
        if device_id in self._offline:
            self._offline.discard(device_id)
            return AvailabilityChange(device_id, Availability.ONLINE, now, now)
        return None

    def announced_offline(self, device_id: str, now: float) -> AvailabilityChange | None:
        """The device (or its bridge) said it is going offline."""
        if device_id in self._offline:
            return None
        self._offline.add(device_id)
        return AvailabilityChange(device_id, Availability.OFFLINE, self._last_seen.get(device_id), now)

    def expired(self, now: float) -> list[AvailabilityChange]:
        """Devices that have just passed their expiry without a message."""
        changes = []
        for device_id, reference in self._reference.items():
            if device_id not in self._offline and now - reference > self._expiry_s.get(
                device_id, float("inf")
            ):
                self._offline.add(device_id)
                changes.append(
                    AvailabilityChange(device_id, Availability.OFFLINE, self._last_seen.get(device_id), now)
                )
        return changes

    def hold(self, now: float) -> None:
        """Treat every device as heard now: used while the gateway itself cannot hear anyone (broker lost),
        so reconnecting gives each device a full expiry period instead of one offline alert per device."""
        for device_id in self._reference:
            self._reference[device_id] = max(self._reference[device_id], now)

    def set_devices(self, expiry_s: dict[str, float], now: float) -> None:
        """Follow a new registry: new devices count from ``now``, removed ones are forgotten."""
        self._expiry_s = dict(expiry_s)
        self._reference = {d: self._reference.get(d, now) for d in expiry_s}
        self._offline &= set(expiry_s)

    def offline(self) -> frozenset[str]:
        return frozenset(self._offline)


def gateway_status_message(gateway_id: str, state: Availability, reason: str) -> bytes:
    return encode(GatewayStatus(gateway_id=gateway_id, state=state, ts=utc_now(), reason=reason))


def gateway_will(gateway_id: str) -> Will:
    """The retained OFFLINE status the broker publishes if the gateway's connection vanishes."""
    return Will(
        topic=topics.gateway_status(gateway_id),
        payload=gateway_status_message(gateway_id, Availability.OFFLINE, "last will"),
        qos=1,
        retain=True,
    )
