"""Alarm rules (threshold, duration, repetition, hysteresis, severity) and per-device overrides."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kernel.contracts.messages import AlertType, Identifier, Severity
from kernel.sensors.readings import MEASURED_FIELDS

Value = bool | float | str


class Op(StrEnum):
    GT = "gt"
    LT = "lt"
    EQ = "eq"


class AlarmRule(BaseModel):
    """When a reading field raises an alarm, when it clears, and how loudly.

    Raised when ``field <op> value`` held for ``consecutive`` readings in a row and for ``for_s`` seconds;
    cleared when ``field`` crosses ``clear_value`` (gt: value <= clear_value, lt: value >= clear_value,
    eq: value == clear_value); between the two (hysteresis band) an active alarm simply stays active.
    Without ``clear_value`` any reading that does not raise clears.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    alarm_id: Identifier = Field(description="unique per profile, e.g. 'tilt'; the key for device overrides")
    alert_type: AlertType = Field(description="the contracts' alert type this alarm raises")
    field: str = Field(description="SensorReading field tested, e.g. 'tilt_deg'")
    op: Op = Field(description="gt, lt or eq")
    value: Value = Field(description="threshold (gt/lt) or the raising value (eq)")
    clear_value: Value | None = Field(None, description="hysteresis/clear condition; None: not raising")
    for_s: float = Field(0.0, ge=0, le=86_400, description="condition must hold this long (duration rule)")
    consecutive: int = Field(1, ge=1, le=1000, description="readings in a row needed (repetition rule)")
    severity: Severity = Field(description="severity of the alert")
    update_interval_s: float = Field(60.0, ge=0, le=86_400, description="least time between UPDATE messages")

    @field_validator("field")
    @classmethod
    def _known_field(cls, name: str) -> str:
        if name not in MEASURED_FIELDS:
            raise ValueError(f"unknown reading field {name!r}: expected one of {', '.join(MEASURED_FIELDS)}")
        return name

    def raises(self, value: Value) -> bool:
        if self.op is Op.EQ:
            return value == self.value
        if isinstance(value, bool | str) or isinstance(self.value, bool | str):
            return False
        return value > self.value if self.op is Op.GT else value < self.value

    def clears(self, value: Value) -> bool:
        if self.clear_value is None:
            return not self.raises(value)
        if self.op is Op.EQ:
            return value == self.clear_value
        if isinstance(value, bool | str) or isinstance(self.clear_value, bool | str):
            return False
        return value <= self.clear_value if self.op is Op.GT else value >= self.clear_value


class RuleOverride(BaseModel):
    """A device's change to one of its profile's rules; unset fields keep the profile's value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    alarm_id: Identifier = Field(description="which profile rule to change")
    enabled: bool = Field(True, description="false switches this alarm off for the device")
    value: Value | None = Field(None, description="new threshold / raising value")
    clear_value: Value | None = Field(None, description="new clear value")
    for_s: float | None = Field(None, ge=0, le=86_400, description="new duration")
    consecutive: int | None = Field(None, ge=1, le=1000, description="new repetition count")
    severity: Severity | None = Field(None, description="new severity")
    update_interval_s: float | None = Field(None, ge=0, le=86_400, description="new UPDATE rate limit")

    def apply(self, rule: AlarmRule) -> AlarmRule:
        changes = self.model_dump(exclude={"alarm_id", "enabled"}, exclude_none=True)
        return rule.model_copy(update=changes)
