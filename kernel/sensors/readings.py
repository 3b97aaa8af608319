"""The typed value every sensor payload becomes, whatever its vendor: one frozen SensorReading."""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum


class DeviceKind(StrEnum):
    SMOKE_DETECTOR = "smoke_detector"
    MANHOLE_COVER = "manhole_cover"


class SmokeState(StrEnum):
    """A smoke detector's alarm state; ``test`` is a button press and never an alarm."""

    CLEAR = "clear"
    SMOKE = "smoke"
    TEST = "test"


@dataclass(frozen=True, slots=True)
class SensorReading:
    """One message from one device, in gridwatch units; a field is None when the device did not send it.

    ``observed_ts`` is the device's own clock (epoch seconds), ``received_ts`` the gateway's; rules and
    heartbeats run on the gateway clock because battery devices drift.
    """

    device_id: str
    device_kind: DeviceKind
    observed_ts: float
    received_ts: float
    seq: int | None = None
    battery_pct: float | None = None
    tamper: bool | None = None
    fault: bool | None = None
    smoke_state: SmokeState | None = None
    sensitivity_pct: float | None = None
    tilt_deg: float | None = None
    cover_open: bool | None = None
    water_level_cm: float | None = None
    gas_ppm: float | None = None

    def values(self) -> dict[str, float | int | bool | str]:
        """The measured fields that are present, keyed by their unit-named field names."""
        out: dict[str, float | int | bool | str] = {}
        for name in MEASURED_FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value.value if isinstance(value, StrEnum) else value
        return out


_IDENTITY = {"device_id", "device_kind", "observed_ts", "received_ts", "seq"}
MEASURED_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(SensorReading) if f.name not in _IDENTITY)
"""Names of the reading fields that profiles fill and rules may test."""
