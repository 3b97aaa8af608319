"""Rule, schedule and per-class filter config: one model per rule kind, selected by ``kind``."""

from __future__ import annotations

import re
from datetime import time
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from kernel.camera_config.geometry import LineDirection
from kernel.contracts.messages import AlertType, Identifier, Severity

VEHICLE_CLASSES = ("car", "motorcycle", "bus", "truck", "bicycle")


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class TimeWindow(_Rule):
    """A daily window; ``end`` before ``start`` wraps past midnight (22:00-06:00)."""

    start: time = Field(description="local start time, inclusive")
    end: time = Field(description="local end time, exclusive; 24:00 is written 00:00")


def _parse_window(value: object) -> object:
    if not isinstance(value, str):
        return value
    match = _WINDOW.match(value)
    if not match:
        raise ValueError(f"time window {value!r}: expected 'HH:MM-HH:MM', e.g. '22:00-06:00'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"time window {value!r}: hours must be 00-23 and minutes 00-59")
    if (h1, m1) == (h2, m2):
        raise ValueError(f"time window {value!r}: start equals end; leave windows empty for all day")
    return {"start": time(h1, m1), "end": time(h2, m2)}


class ScheduleConfig(_Rule):
    timezone: str = Field(
        default="UTC", description="IANA time zone the windows are in, e.g. Europe/Amsterdam"
    )
    weekdays: tuple[Weekday, ...] = Field(
        default=tuple(Weekday), description="days (of the window start) it applies"
    )
    windows: tuple[Annotated[TimeWindow, BeforeValidator(_parse_window)], ...] = Field(
        default=(), description="daily 'HH:MM-HH:MM' windows in local time; empty means all day"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}: expected an IANA name like Europe/Paris") from exc
        return value


class ClassFilter(_Rule):
    """Per-class filter applied before rules: score, size, and a score over several frames (k of n)."""

    min_score: float = Field(
        default=0.0, ge=0, le=1, description="drop detections of this class below this score"
    )
    min_area_px: int = Field(default=0, ge=0, description="drop boxes smaller than this many pixels")
    min_area_frac: float = Field(default=0.0, ge=0, le=1, description="drop boxes below this frame fraction")
    min_hits: int = Field(default=1, ge=1, le=100, description="k: a track counts once it passed k of n")
    hits_window: int = Field(
        default=1, ge=1, le=100, description="n for min_hits: frames of a track looked back on"
    )

    @model_validator(mode="after")
    def _k_of_n(self) -> ClassFilter:
        if self.min_hits > self.hits_window:
            raise ValueError(f"min_hits ({self.min_hits}) must be <= hits_window ({self.hits_window})")
        return self


class RuleBase(_Rule):
    rule_id: Identifier = Field(description="rule id, unique per camera; the hub addresses rules by it")
    enabled: bool = Field(default=True, description="disabled rules are validated but never run")
    severity: Severity = Field(default=Severity.MEDIUM, description="severity of the alerts it raises")
    cooldown_s: float = Field(default=60.0, ge=0, le=86_400, description="quiet time after an episode ends")
    update_interval_s: float = Field(
        default=10.0, gt=0, le=86_400, description="at most one UPDATE per interval"
    )
    clear_after_s: float = Field(
        default=3.0, ge=0, le=3600,
        description="the condition must be absent this long before the episode ENDs"
    )
    schedule: ScheduleConfig | None = Field(
        default=None, description="when the rule is armed; absent means always"
    )


class _ZoneRule(RuleBase):
    zone: Identifier | None = Field(default=None, description="zone id; absent means the whole frame")
    classes: tuple[str, ...] = Field(
        default=("person",), min_length=1, description="class names the rule watches"
    )


class IntrusionRule(_ZoneRule):
    kind: Literal["intrusion"] = Field(description="a watched class enters the zone")
    alert_type: AlertType = Field(default=AlertType.INTRUSION, description="alert type raised")
    severity: Severity = Field(default=Severity.HIGH, description="severity of the alerts it raises")


class LoiteringRule(_ZoneRule):
    kind: Literal["loitering"] = Field(description="a track stays in the zone longer than dwell_s")
    alert_type: AlertType = Field(default=AlertType.LOITERING, description="alert type raised")
    dwell_s: float = Field(gt=0, le=86_400, description="a track staying longer than this loiters")


class IllegalParkingRule(_ZoneRule):
    kind: Literal["illegal_parking"] = Field(description="a vehicle stands still in the zone > stationary_s")
    alert_type: AlertType = Field(default=AlertType.ILLEGAL_PARKING, description="alert type raised")
    classes: tuple[str, ...] = Field(default=VEHICLE_CLASSES, min_length=1, description="vehicle class names")
    stationary_s: float = Field(gt=0, le=86_400, description="stationary longer than this is parked")


class CrowdingRule(_ZoneRule):
    kind: Literal["crowding"] = Field(description="min_count objects in the zone for duration_s")
    alert_type: AlertType = Field(default=AlertType.CROWDING, description="alert type raised")
    min_count: int = Field(ge=1, le=1000, description="objects in the zone at once that make a crowd")
    duration_s: float = Field(default=0.0, ge=0, le=86_400, description="the crowd must last this long")


class LineCrossingRule(RuleBase):
    kind: Literal["line_crossing"] = Field(description="a track crosses the line in a counted direction")
    alert_type: AlertType = Field(default=AlertType.LINE_CROSSING, description="alert type raised")
    line: Identifier = Field(description="line id")
    classes: tuple[str, ...] = Field(
        default=("person",), min_length=1, description="class names the rule watches"
    )
    direction: LineDirection | None = Field(
        default=None, description="crossings that count; absent uses the line's"
    )
    clear_after_s: float = Field(
        default=0.0, ge=0, le=3600, description="a crossing is instantaneous: START and END"
    )


class PresenceRule(_ZoneRule):
    kind: Literal["presence"] = Field(description="a class is seen in k of the last n checks")
    alert_type: AlertType = Field(
        default=AlertType.PRESENCE, description="e.g. fire_smoke or exposed_garbage"
    )
    classes: tuple[str, ...] = Field(min_length=1, description="class names whose presence is alerted")
    min_hits: int = Field(default=3, ge=1, le=100, description="k: checks with the class present")
    window_checks: int = Field(default=5, ge=1, le=100, description="n: the last n detector checks looked at")

    @model_validator(mode="after")
    def _k_of_n(self) -> PresenceRule:
        if self.min_hits > self.window_checks:
            raise ValueError(f"min_hits ({self.min_hits}) must be <= window_checks ({self.window_checks})")
        return self


class MotionRule(RuleBase):
    kind: Literal["motion"] = Field(description="the motion detector reports change (works without a model)")
    alert_type: AlertType = Field(default=AlertType.MOTION, description="alert type raised")
    severity: Severity = Field(default=Severity.LOW, description="severity of the alerts it raises")
    min_duration_s: float = Field(
        default=0.0, ge=0, le=3600, description="motion must last this long to START"
    )


RuleConfig = Annotated[
    IntrusionRule | LoiteringRule | IllegalParkingRule | CrowdingRule | LineCrossingRule | PresenceRule
    | MotionRule,
    Field(discriminator="kind"),
]
RULE_KINDS = ("intrusion", "loitering", "illegal_parking", "crowding", "line_crossing", "presence", "motion")
