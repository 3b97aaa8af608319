"""Where an alert comes from: the registry's checks on a gateway and its device, and the device's placement.

One set of rules for both ingest paths: the per-event path hands in ORM rows (after auto-registering unknown
devices in demo mode), the batch path plain rows read for the whole batch. Both only read the attributes below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from central.errors import IngestRejected
from kernel.contracts.messages import AlertEvent, SourceKind

SEEN_RESOLUTION = timedelta(seconds=10)


class GatewayRow(Protocol):
    @property
    def gateway_id(self) -> str: ...
    @property
    def area_id(self) -> int | None: ...
    @property
    def retired(self) -> bool: ...
    @property
    def last_seen_at(self) -> datetime | None: ...


class DeviceRow(Protocol):
    @property
    def gateway_id(self) -> str: ...
    @property
    def area_id(self) -> int | None: ...
    @property
    def retired(self) -> bool: ...
    @property
    def latitude(self) -> float | None: ...
    @property
    def longitude(self) -> float | None: ...
    @property
    def last_seen_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class Placement:
    """Where the source device sits: its grid and coordinates (from the registry)."""

    area_id: int | None
    latitude: float | None
    longitude: float | None


def locate(gateway: GatewayRow, device: DeviceRow | None, event: AlertEvent) -> Placement:
    """Check that ``gateway`` may report ``event`` about ``device`` (None for the gateway's own alerts) and
    return where the source sits; raise IngestRejected (403) for retired or foreign sources."""
    if gateway.retired:
        raise IngestRejected("retired_gateway", f"gateway {event.gateway_id!r} is retired", 403)
    if event.source_kind is SourceKind.GATEWAY:
        if event.source_id != event.gateway_id:
            raise IngestRejected(
                "foreign_device",
                f"gateway alert source_id {event.source_id!r} must be the sending gateway {event.gateway_id!r}",
                403,
            )
        return Placement(gateway.area_id, None, None)
    kind = event.source_kind.value
    if device is None:
        raise IngestRejected(
            "unknown_device", f"{kind} {event.source_id!r} is not registered on gateway {event.gateway_id!r}"
        )
    if device.gateway_id != event.gateway_id:
        raise IngestRejected(
            "foreign_device",
            f"{kind} {event.source_id!r} belongs to gateway {device.gateway_id!r}, not to {event.gateway_id!r}",
            403,
        )
    if device.retired:
        raise IngestRejected("retired_device", f"{kind} {event.source_id!r} is retired", 403)
    area_id = device.area_id if device.area_id is not None else gateway.area_id
    return Placement(area_id, device.latitude, device.longitude)


def seen_due(last_seen_at: datetime | None, now: datetime) -> bool:
    """Whether "last heard from" needs writing: to 10 s, so an alert storm is not one UPDATE per alert."""
    return last_seen_at is None or now - last_seen_at >= SEEN_RESOLUTION
