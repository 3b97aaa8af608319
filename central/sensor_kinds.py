"""Hub sensor kinds against the edge's profile table: which (kind, vendor) pairs a gateway can read.

The hub's ``kind`` is free text (devices of other systems can be registered too); a kind the edge has a
profile for gets a vendor (checked against ``kernel.sensors.profiles.PROFILES``) and is sent to its gateway in
``GatewayConfig.sensors``, in the shape ``edge.sensors.registry.registry_from_data`` reads.
"""

from __future__ import annotations

from typing import Any

from central.db.models import Sensor
from central.errors import Invalid
from kernel.sensors.profiles import PROFILES
from kernel.sensors.readings import DeviceKind

# The installer console's first kind names, registered before the hub used the edge's names.
LEGACY_KINDS = {"smoke": DeviceKind.SMOKE_DETECTOR, "manhole": DeviceKind.MANHOLE_COVER}
DEFAULT_VENDOR = "gridwatch"


def edge_kind(kind: str) -> DeviceKind | None:
    """The edge's DeviceKind for a hub sensor kind; None for a kind no edge profile reads (hub-only)."""
    if kind in LEGACY_KINDS:
        return LEGACY_KINDS[kind]
    return DeviceKind(kind) if kind in {k.value for k in DeviceKind} else None


def profile_pairs() -> list[tuple[str, str]]:
    """Every (kind, vendor) the edge reads, sorted."""
    return sorted((k.value, v) for k, v in PROFILES)


def sensor_vendor(kind: str, vendor: str | None) -> str | None:
    """The vendor to store for ``kind``: checked against the edge's table, defaulted for edge kinds."""
    device_kind = edge_kind(kind)
    if device_kind is None:
        if vendor is None:
            return None
        pairs = ", ".join(f"{k}/{v}" for k, v in profile_pairs())
        raise Invalid(
            f"vendor: kind {kind!r} has no edge profile, so it takes no vendor: expected kind/vendor one of {pairs}"
        )
    vendor = vendor or DEFAULT_VENDOR
    if (device_kind, vendor) not in PROFILES:
        choices = ", ".join(v for k, v in profile_pairs() if k == device_kind.value)
        raise Invalid(f"vendor: no edge profile {vendor!r} for kind {kind!r}: expected one of {choices}")
    return vendor


def sensor_for_gateway(sensor: Sensor) -> dict[str, Any] | None:
    """The registration the gateway reads (``registry_from_data``); None for a hub-only kind."""
    device_kind = edge_kind(sensor.kind)
    if device_kind is None:
        return None
    return {
        "device_id": sensor.device_id,
        "kind": device_kind.value,
        "vendor": sensor.vendor or DEFAULT_VENDOR,
        "linked_camera_ids": list(sensor.linked_camera_ids),
    }
