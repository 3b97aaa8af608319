"""Which sensors a gateway serves: a local YAML file, or the hub's registration (``GatewayConfig.sensors``).

Both go through ``registry_from_data`` so the hub's seam is just "hand over the list of registrations".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kernel.contracts.messages import Identifier
from kernel.errors import ConfigError
from kernel.sensors.alarm_rules import AlarmRule, RuleOverride
from kernel.sensors.profiles import PROFILES, DeviceProfile
from kernel.sensors.readings import DeviceKind


class SensorRegistration(BaseModel):
    """One device behind this gateway."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    device_id: Identifier = Field(description="the id in the device's topic, e.g. 'smoke-0001'")
    kind: DeviceKind = Field(description="smoke_detector or manhole_cover")
    vendor: Identifier = Field(
        "gridwatch", description="payload profile: gridwatch, acme (smoke), covertech (manhole)"
    )
    location: str = Field(
        "", max_length=200, description="where it is, for the case title, e.g. 'Block 12, 3F'"
    )
    grid_id: Identifier | None = Field(None, description="the grid cell that owns this device")
    linked_camera_ids: tuple[Identifier, ...] = Field((), description="cameras that can see it")
    heartbeat_expiry_s: float | None = Field(
        None, gt=0, le=7 * 86_400, description="silence before sensor_offline; default per kind"
    )
    rules: tuple[RuleOverride, ...] = Field((), description="per-device changes to the profile's alarm rules")

    @model_validator(mode="after")
    def _known_profile_and_alarms(self) -> SensorRegistration:
        profile = PROFILES.get((self.kind, self.vendor))
        if profile is None:
            vendors = sorted(v for k, v in PROFILES if k is self.kind)
            raise ValueError(
                f"no profile for vendor {self.vendor!r} of kind {self.kind.value}: expected one of"
                f" {', '.join(vendors)}"
            )
        for override in self.rules:
            if profile.rule(override.alarm_id) is None:
                known = ", ".join(r.alarm_id for r in profile.rules)
                raise ValueError(f"rules: unknown alarm_id {override.alarm_id!r}: expected one of {known}")
        return self


class SensorRegistryFile(BaseModel):
    """The YAML file: ``sensors:`` list of registrations (``gateway_id`` optional, checked when given)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    gateway_id: Identifier | None = Field(None, description="the gateway this file is for")
    sensors: tuple[SensorRegistration, ...] = Field(description="the devices")

    @model_validator(mode="after")
    def _unique_ids(self) -> SensorRegistryFile:
        seen: set[str] = set()
        for sensor in self.sensors:
            if sensor.device_id in seen:
                raise ValueError(f"device_id {sensor.device_id!r} is registered twice")
            seen.add(sensor.device_id)
        return self


@dataclass(frozen=True, slots=True)
class RegisteredDevice:
    """A registration compiled against its profile: the effective rules and heartbeat expiry."""

    registration: SensorRegistration
    profile: DeviceProfile
    rules: tuple[AlarmRule, ...]
    heartbeat_expiry_s: float


class SensorRegistry:
    """Lookup of registered devices by id."""

    def __init__(self, devices: Iterable[SensorRegistration]) -> None:
        self._devices = {d.device_id: _compile(d) for d in devices}

    def get(self, device_id: str) -> RegisteredDevice | None:
        return self._devices.get(device_id)

    def __len__(self) -> int:
        return len(self._devices)

    def devices(self) -> Mapping[str, RegisteredDevice]:
        return dict(self._devices)


def _compile(registration: SensorRegistration) -> RegisteredDevice:
    profile = PROFILES[(registration.kind, registration.vendor)]
    overrides = {o.alarm_id: o for o in registration.rules}
    rules = tuple(
        overrides[r.alarm_id].apply(r) if r.alarm_id in overrides else r
        for r in profile.rules
        if r.alarm_id not in overrides or overrides[r.alarm_id].enabled
    )
    expiry = registration.heartbeat_expiry_s or profile.heartbeat_expiry_s
    return RegisteredDevice(registration, profile, rules, expiry)


def registry_from_data(
    data: Mapping[str, Any] | Iterable[Mapping[str, Any]], *, source: str, gateway_id: str | None = None
) -> SensorRegistry:
    """Validate registrations (a registry-file mapping or a bare list, e.g. ``GatewayConfig.sensors``).

    Raises ConfigError naming ``source`` and the first offending field.
    """
    document = data if isinstance(data, Mapping) else {"sensors": list(data)}
    try:
        parsed = SensorRegistryFile.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _field_path(document, first["loc"])
        raise ConfigError(f"{source}: {where}: {first['msg']} ({exc.error_count()} error(s))") from exc
    if gateway_id is not None and parsed.gateway_id not in (None, gateway_id):
        raise ConfigError(f"{source}: gateway_id: file is for {parsed.gateway_id!r}, expected {gateway_id!r}")
    return SensorRegistry(parsed.sensors)


def load_registry(path: Path, *, gateway_id: str | None = None) -> SensorRegistry:
    """Read a sensor registry YAML file (see configs/sensors/example.yaml)."""
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the sensor registry: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(document, Mapping):
        raise ConfigError(f"{path}: expected a mapping with a 'sensors:' list")
    return registry_from_data(document, source=str(path), gateway_id=gateway_id)


def _field_path(document: Any, loc: tuple[Any, ...]) -> str:
    """``sensors[3] (smoke-0004).vendor``: the index plus the device id when there is one."""
    parts: list[str] = []
    node = document
    for step in loc:
        if isinstance(step, int):
            parts[-1] += f"[{step}]"
            node = node[step] if isinstance(node, list | tuple) and step < len(node) else None
            if isinstance(node, Mapping) and "device_id" in node:
                parts[-1] += f" ({node['device_id']})"
        else:
            parts.append(str(step))
            node = node.get(step) if isinstance(node, Mapping) else None
    return ".".join(parts) or "(document)"
