"""The rule engine's output: one frozen RuleEvent per episode phase (START, UPDATE, END)."""

from __future__ import annotations

from dataclasses import dataclass

from kernel.contracts.messages import AlertType, Phase, Severity


@dataclass(frozen=True, slots=True)
class EventObject:
    """One detection involved in an event, in frame pixels."""

    class_id: int
    class_name: str
    score: float
    xyxy: tuple[float, float, float, float]
    track_id: int | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """What a rule strategy saw on one frame while its condition holds."""

    objects: tuple[EventObject, ...] = ()
    count: int | None = None
    dwell_s: float | None = None
    direction: str | None = None


@dataclass(frozen=True, slots=True)
class RuleEvent:
    """One phase of one rule's episode. ``event_id`` is unique per message; START's is the ``episode_id``."""

    phase: Phase
    event_id: str
    episode_id: str
    rule_id: str
    alert_type: AlertType
    severity: Severity
    camera_id: str
    frame_ts: float
    zone_id: str | None = None
    line_id: str | None = None
    objects: tuple[EventObject, ...] = ()
    count: int | None = None
    dwell_s: float | None = None
    direction: str | None = None
