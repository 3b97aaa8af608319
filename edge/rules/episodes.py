"""One rule's episode state machine: START once, rate-limited UPDATEs, END after clearing, then cooldown."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from edge.rules.events import Observation, RuleEvent
from kernel.camera_config.rules import RuleBase
from kernel.contracts.messages import Phase, new_event_id

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EventTarget:
    """Where a rule's events point: its camera, zone or line."""

    camera_id: str
    zone_id: str | None = None
    line_id: str | None = None


class Episode:
    """Turns a per-frame 'condition holds' signal into START / UPDATE / END events for one rule."""

    def __init__(self, rule: RuleBase, target: EventTarget) -> None:
        self._rule = rule
        self._target = target
        self._episode_id: str | None = None
        self._last_true_ts = 0.0
        self._last_emit_ts = 0.0
        self._last: Observation | None = None
        self._ended_ts: float | None = None

    @property
    def active(self) -> bool:
        return self._episode_id is not None

    def step(self, observation: Observation | None, frame_ts: float) -> RuleEvent | None:
        """Advance with this frame's observation (None: the condition does not hold or is not armed)."""
        if observation is not None:
            if not self.active:
                return self._start(observation, frame_ts)
            self._last_true_ts, self._last = frame_ts, observation
            if frame_ts - self._last_emit_ts >= self._rule.update_interval_s:
                return self._emit(Phase.UPDATE, observation, frame_ts)
            return None
        if self.active and frame_ts - self._last_true_ts >= self._rule.clear_after_s:
            event = self._emit(Phase.END, self._last or Observation(), frame_ts)
            self._episode_id, self._ended_ts = None, frame_ts
            return event
        return None

    def _start(self, observation: Observation, frame_ts: float) -> RuleEvent | None:
        if self._ended_ts is not None and frame_ts - self._ended_ts < self._rule.cooldown_s:
            return None  # still cooling down after the previous episode
        self._episode_id = new_event_id()
        self._last_true_ts, self._last = frame_ts, observation
        log.debug("rule %s: episode %s starts", self._rule.rule_id, self._episode_id)
        return self._emit(Phase.START, observation, frame_ts, event_id=self._episode_id)

    def _emit(
        self, phase: Phase, obs: Observation, frame_ts: float, event_id: str | None = None
    ) -> RuleEvent:
        self._last_emit_ts = frame_ts
        return RuleEvent(
            phase=phase,
            event_id=event_id or new_event_id(),
            episode_id=self._episode_id or "",
            rule_id=self._rule.rule_id,
            alert_type=self._rule.alert_type,  # type: ignore[attr-defined]  # every rule kind defines it
            severity=self._rule.severity,
            camera_id=self._target.camera_id,
            frame_ts=frame_ts,
            zone_id=self._target.zone_id,
            line_id=self._target.line_id,
            objects=obs.objects,
            count=obs.count,
            dwell_s=obs.dwell_s,
            direction=obs.direction,
        )
