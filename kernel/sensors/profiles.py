"""Device profiles, table-driven: one frozen row per (kind, vendor): payload keys, units, bounds, rules.

Adding a vendor means adding a row to PROFILES: its payload format, which key carries which reading, the
converter (and unit scale) for each, and the bounds outside which a value is absurd and rejected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from kernel.contracts.messages import AlertType, Severity
from kernel.sensors.alarm_rules import AlarmRule, Op
from kernel.sensors.readings import DeviceKind, SmokeState

Raw = object
Converted = bool | float | int | str


class PayloadFormat(StrEnum):
    GRIDWATCH_JSON = "gridwatch_json"  # contracts' SensorTelemetry
    VENDOR_JSON = "vendor_json"  # flat JSON object with the vendor's own keys
    KEY_VALUE = "key_value"  # flat text: key=value;key=value


class ConversionError(ValueError):
    """A raw value has the wrong type for its field."""


def as_float(raw: Raw) -> float:
    if isinstance(raw, bool):
        raise ConversionError(f"expected a number, got {raw!r}")
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str):
        try:
            return float(raw)
        except ValueError:
            raise ConversionError(f"expected a number, got {raw!r}") from None
    raise ConversionError(f"expected a number, got {type(raw).__name__}")


def as_bool(raw: Raw) -> bool:
    if isinstance(raw, bool):
        return raw
    if raw in (0, 1, "0", "1"):
        return raw in (1, "1")
    if isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise ConversionError(f"expected a boolean (true/false/0/1), got {raw!r}")


def scaled(factor: float) -> Callable[[Raw], float]:
    """A number in another unit, e.g. ``scaled(0.1)`` for millimetres to centimetres."""
    return lambda raw: as_float(raw) * factor


def mapped(table: Mapping[str, Converted]) -> Callable[[Raw], Converted]:
    """A closed set of vendor words mapped onto ours."""

    def convert(raw: Raw) -> Converted:
        if isinstance(raw, str) and raw in table:
            return table[raw]
        raise ConversionError(f"expected one of {', '.join(table)}, got {raw!r}")

    return convert


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """Payload key ``key`` becomes reading field ``field`` through ``convert``; outside [lo, hi] is absurd."""

    field: str
    key: str
    convert: Callable[[Raw], Converted]
    lo: float | None = None
    hi: float | None = None


@dataclass(frozen=True, slots=True)
class DeviceProfile:
    """Everything needed to turn one vendor's payload for one device kind into a SensorReading."""

    kind: DeviceKind
    vendor: str
    payload_format: PayloadFormat
    fields: tuple[FieldSpec, ...]
    required: frozenset[str]
    rules: tuple[AlarmRule, ...]
    heartbeat_expiry_s: float
    device_id_key: str | None = None  # vendor formats: key that repeats the device id
    ts_key: str | None = None  # vendor formats: key of the epoch-seconds timestamp

    def rule(self, alarm_id: str) -> AlarmRule | None:
        return next((r for r in self.rules if r.alarm_id == alarm_id), None)


def _rule(
    alarm_id: str,
    alert_type: AlertType,
    field: str,
    op: Op,
    value: bool | float | str,
    clear: bool | float | str,
    severity: Severity,
    **extra: Any,
) -> AlarmRule:
    return AlarmRule(
        alarm_id=alarm_id,
        alert_type=alert_type,
        field=field,
        op=op,
        value=value,
        clear_value=clear,
        severity=severity,
        **extra,
    )


_BATTERY = _rule(
    "battery_low",
    AlertType.BATTERY_LOW,
    "battery_pct",
    Op.LT,
    20.0,
    25.0,
    Severity.LOW,
    consecutive=2,
    update_interval_s=3600.0,
)
_TAMPER = _rule("tamper", AlertType.TAMPER, "tamper", Op.EQ, True, False, Severity.MEDIUM)
_FAULT = _rule(
    "fault", AlertType.SENSOR_FAULT, "fault", Op.EQ, True, False, Severity.MEDIUM, update_interval_s=3600.0
)

SMOKE_RULES = (
    _rule(
        "smoke",
        AlertType.SMOKE_ALARM,
        "smoke_state",
        Op.EQ,
        "smoke",
        "clear",
        Severity.CRITICAL,
        update_interval_s=30.0,
    ),
    _BATTERY,
    _TAMPER,
    _FAULT,
)
MANHOLE_RULES = (
    _rule("open", AlertType.MANHOLE_OPEN, "cover_open", Op.EQ, True, False, Severity.HIGH, for_s=30.0),
    _rule("tilt", AlertType.MANHOLE_TILT, "tilt_deg", Op.GT, 15.0, 10.0, Severity.HIGH, consecutive=3),
    _rule(
        "water_high",
        AlertType.WATER_LEVEL_HIGH,
        "water_level_cm",
        Op.GT,
        50.0,
        40.0,
        Severity.HIGH,
        consecutive=2,
    ),
    _rule("gas_high", AlertType.GAS_HIGH, "gas_ppm", Op.GT, 5000.0, 4000.0, Severity.CRITICAL),
    _BATTERY,
    _TAMPER,
)

_SMOKE_WORDS = {s.value: s for s in SmokeState}
_PCT = (0.0, 100.0)


def _smoke_fields(keys: Mapping[str, str], states: Mapping[str, Converted]) -> tuple[FieldSpec, ...]:
    return (
        FieldSpec("smoke_state", keys["smoke_state"], mapped(states)),
        FieldSpec("battery_pct", keys["battery_pct"], as_float, *_PCT),
        FieldSpec("tamper", keys["tamper"], as_bool),
        FieldSpec("fault", keys["fault"], as_bool),
        FieldSpec("sensitivity_pct", keys["sensitivity_pct"], as_float, *_PCT),
    )


def _manhole_fields(keys: Mapping[str, str], water_scale: float) -> tuple[FieldSpec, ...]:
    return (
        FieldSpec("tilt_deg", keys["tilt_deg"], as_float, 0.0, 180.0),
        FieldSpec("cover_open", keys["cover_open"], as_bool),
        FieldSpec("water_level_cm", keys["water_level_cm"], scaled(water_scale), 0.0, 1000.0),
        FieldSpec("gas_ppm", keys["gas_ppm"], as_float, 0.0, 1_000_000.0),
        FieldSpec("battery_pct", keys["battery_pct"], as_float, *_PCT),
        FieldSpec("tamper", keys["tamper"], as_bool),
    )


_OURS = {
    name: name
    for name in (
        "smoke_state",
        "battery_pct",
        "tamper",
        "fault",
        "sensitivity_pct",
        "tilt_deg",
        "cover_open",
        "water_level_cm",
        "gas_ppm",
    )
}

_ROWS = (
    DeviceProfile(
        DeviceKind.SMOKE_DETECTOR,
        "gridwatch",
        PayloadFormat.GRIDWATCH_JSON,
        _smoke_fields(_OURS, _SMOKE_WORDS),
        frozenset({"smoke_state"}),
        SMOKE_RULES,
        heartbeat_expiry_s=3 * 3600.0,
    ),
    # "Acme" photoelectric detectors (JSON): {"id": .., "st": "ALARM", "bat": 87, "tmp": 0, "err": 0, ...}
    DeviceProfile(
        DeviceKind.SMOKE_DETECTOR,
        "acme",
        PayloadFormat.VENDOR_JSON,
        _smoke_fields(
            {
                "smoke_state": "st",
                "battery_pct": "bat",
                "tamper": "tmp",
                "fault": "err",
                "sensitivity_pct": "sens",
            },
            {"NORMAL": SmokeState.CLEAR, "ALARM": SmokeState.SMOKE, "TEST": SmokeState.TEST},
        ),
        frozenset({"smoke_state"}),
        SMOKE_RULES,
        heartbeat_expiry_s=3 * 3600.0,
        device_id_key="id",
        ts_key="t",
    ),
    DeviceProfile(
        DeviceKind.MANHOLE_COVER,
        "gridwatch",
        PayloadFormat.GRIDWATCH_JSON,
        _manhole_fields(_OURS, 1.0),
        frozenset({"tilt_deg", "cover_open"}),
        MANHOLE_RULES,
        heartbeat_expiry_s=3600.0,
    ),
    # "Covertech" NB-IoT covers (text): id=mh-1;ang=3.2;open=0;lvl_mm=125;ch4=0;bat=88;tmp=0;t=1764300000
    DeviceProfile(
        DeviceKind.MANHOLE_COVER,
        "covertech",
        PayloadFormat.KEY_VALUE,
        _manhole_fields(
            {
                "tilt_deg": "ang",
                "cover_open": "open",
                "water_level_cm": "lvl_mm",
                "gas_ppm": "ch4",
                "battery_pct": "bat",
                "tamper": "tmp",
            },
            0.1,
        ),
        frozenset({"tilt_deg", "cover_open"}),
        MANHOLE_RULES,
        heartbeat_expiry_s=3600.0,
        device_id_key="id",
        ts_key="t",
    ),
)

PROFILES: Mapping[tuple[DeviceKind, str], DeviceProfile] = MappingProxyType(
    {(p.kind, p.vendor): p for p in _ROWS}
)
"""Every supported (device kind, vendor) pair."""


def profile_for(kind: DeviceKind, vendor: str) -> DeviceProfile | None:
    return PROFILES.get((kind, vendor))
