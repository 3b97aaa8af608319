"""The alarm rule engine: one episode per (device, alarm); START once, rate-limited UPDATEs, END on clear."""

from __future__ import annotations

from dataclasses import dataclass

from kernel.contracts.messages import Phase, new_event_id
from kernel.sensors.alarm_rules import AlarmRule
from kernel.sensors.readings import SensorReading


@dataclass(frozen=True, slots=True)
class AlarmTransition:
    """One step of an alarm episode, ready to become an AlertEvent; ``episode_id`` is the START's id."""

    device_id: str
    rule: AlarmRule
    phase: Phase
    episode_id: str
    reading: SensorReading
    at_ts: float


@dataclass(slots=True)
class _AlarmState:
    streak: int = 0
    since_ts: float | None = None
    last: SensorReading | None = None
    episode_id: str | None = None
    last_emit_ts: float = 0.0


class AlarmEngine:
    """Holds the state of every (device, alarm) pair and turns readings into episode transitions."""

    def __init__(self) -> None:
        self._states: dict[tuple[str, str], _AlarmState] = {}
        self._pending_duration: set[tuple[str, str]] = set()
        self._rules_by_key: dict[tuple[str, str], AlarmRule] = {}

    def evaluate(self, reading: SensorReading, rules: tuple[AlarmRule, ...]) -> list[AlarmTransition]:
        """Apply ``rules`` to a new reading at its gateway time ``reading.received_ts``."""
        out: list[AlarmTransition] = []
        now = reading.received_ts
        for rule in rules:
            value = getattr(reading, rule.field)
            if value is None:
                continue
            key = (reading.device_id, rule.alarm_id)
            state = self._states.get(key)
            if state is None:
                state = self._states[key] = _AlarmState()
            if state.episode_id is not None:
                self._while_active(rule, state, reading, value, now, out)
            elif rule.raises(value):
                state.streak += 1
                state.last = reading
                if state.since_ts is None:
                    state.since_ts = now
                if self._due(rule, state, now):
                    self._start(rule, state, reading, now, out)
                elif rule.for_s > 0 and state.streak >= rule.consecutive:
                    self._pending_duration.add(key)
                    self._rules_by_key[key] = rule
            else:
                state.streak, state.since_ts, state.last = 0, None, None
                self._pending_duration.discard(key)
        return out

    def tick(self, now: float) -> list[AlarmTransition]:
        """Start duration alarms whose condition has now held long enough without a new reading."""
        out: list[AlarmTransition] = []
        for key in list(self._pending_duration):
            state, rule = self._states[key], self._rules_by_key[key]
            if state.episode_id is None and state.last is not None and self._due(rule, state, now):
                self._start(rule, state, state.last, now, out)
        return out

    def active(self) -> list[tuple[str, str]]:
        """(device_id, alarm_id) of every open episode."""
        return [key for key, s in self._states.items() if s.episode_id is not None]

    @staticmethod
    def _due(rule: AlarmRule, state: _AlarmState, now: float) -> bool:
        return (
            state.streak >= rule.consecutive
            and state.since_ts is not None
            and now - state.since_ts >= rule.for_s
        )

    def _start(
        self,
        rule: AlarmRule,
        state: _AlarmState,
        reading: SensorReading,
        now: float,
        out: list[AlarmTransition],
    ) -> None:
        state.episode_id = new_event_id()
        state.last_emit_ts = now
        self._pending_duration.discard((reading.device_id, rule.alarm_id))
        out.append(AlarmTransition(reading.device_id, rule, Phase.START, state.episode_id, reading, now))

    @staticmethod
    def _while_active(
        rule: AlarmRule,
        state: _AlarmState,
        reading: SensorReading,
        value: object,
        now: float,
        out: list[AlarmTransition],
    ) -> None:
        assert state.episode_id is not None
        if rule.raises(value):  # type: ignore[arg-type]
            if now - state.last_emit_ts >= rule.update_interval_s:
                state.last_emit_ts = now
                out.append(
                    AlarmTransition(reading.device_id, rule, Phase.UPDATE, state.episode_id, reading, now)
                )
        elif rule.clears(value):  # type: ignore[arg-type]
            out.append(AlarmTransition(reading.device_id, rule, Phase.END, state.episode_id, reading, now))
            state.episode_id, state.streak, state.since_ts, state.last = None, 0, None, None
