"""Rule engine stories: threshold, repetition, duration, hysteresis, rate-limited updates, test press."""

from __future__ import annotations

import pytest

from edge.sensors.alarm_engine import AlarmEngine
from kernel.contracts.messages import AlertType, Phase, Severity
from kernel.sensors.alarm_rules import AlarmRule, Op, RuleOverride
from kernel.sensors.profiles import MANHOLE_RULES, SMOKE_RULES
from kernel.sensors.readings import DeviceKind, SensorReading, SmokeState

T0 = 1_795_835_000.0


def _manhole(t: float, **values: object) -> SensorReading:
    return SensorReading("mh-1", DeviceKind.MANHOLE_COVER, t, T0 + t, **values)  # type: ignore[arg-type]


def _smoke(t: float, state: SmokeState) -> SensorReading:
    return SensorReading("sd-1", DeviceKind.SMOKE_DETECTOR, t, T0 + t, smoke_state=state)


def _run(engine: AlarmEngine, readings: list[SensorReading], rules: tuple[AlarmRule, ...]) -> list[tuple]:
    out = []
    for reading in readings:
        out += [(reading.received_ts - T0, t.rule.alarm_id, t.phase) for t in engine.evaluate(reading, rules)]
    return out


def test_tilt_needs_three_in_a_row_and_clears_below_hysteresis() -> None:
    tilts = [20, 20, 5, 20, 20, 20, 22, 12, 14, 9, 30]
    readings = [_manhole(i, tilt_deg=float(v)) for i, v in enumerate(tilts)]
    tilt = tuple(r for r in MANHOLE_RULES if r.alarm_id == "tilt")
    assert _run(AlarmEngine(), readings, tilt) == [
        (5, "tilt", Phase.START),  # 3rd in a row after the dip at t=2
        (9, "tilt", Phase.END),  # 12 and 14 sit in the band (10, 15]: still active; 9 clears
    ]


def test_open_cover_raises_only_after_thirty_seconds_including_by_tick() -> None:
    engine = AlarmEngine()
    rules = tuple(r for r in MANHOLE_RULES if r.alarm_id == "open")
    assert _run(engine, [_manhole(0, cover_open=True), _manhole(10, cover_open=True)], rules) == []
    assert engine.tick(T0 + 29) == []
    started = engine.tick(T0 + 31)
    assert [(t.rule.alarm_id, t.phase) for t in started] == [("open", Phase.START)]
    assert _run(engine, [_manhole(40, cover_open=True), _manhole(50, cover_open=False)], rules) == [
        (50, "open", Phase.END)
    ]


def test_cover_closed_in_time_raises_nothing() -> None:
    engine = AlarmEngine()
    rules = tuple(r for r in MANHOLE_RULES if r.alarm_id == "open")
    assert _run(engine, [_manhole(0, cover_open=True), _manhole(20, cover_open=False)], rules) == []
    assert engine.tick(T0 + 60) == []


def test_smoke_start_repeats_rate_limited_and_test_press_raises_nothing() -> None:
    smoke = tuple(r for r in SMOKE_RULES if r.alarm_id == "smoke")  # update_interval_s = 30
    S, C, X = SmokeState.SMOKE, SmokeState.CLEAR, SmokeState.TEST
    story = [(0, X), (1, C), (2, S), (5, S), (20, S), (33, S), (40, X), (41, S), (70, C), (71, C)]
    assert _run(AlarmEngine(), [_smoke(t, s) for t, s in story], smoke) == [
        (2, "smoke", Phase.START),
        (33, "smoke", Phase.UPDATE),  # repeats at 5 and 20 are folded into the open episode
        (70, "smoke", Phase.END),  # a test press during the alarm neither clears nor restarts it
    ]


def test_one_episode_id_ties_start_update_end() -> None:
    smoke = tuple(r for r in SMOKE_RULES if r.alarm_id == "smoke")
    engine = AlarmEngine()
    transitions = []
    for t, s in [(0, SmokeState.SMOKE), (100, SmokeState.SMOKE), (200, SmokeState.CLEAR)]:
        transitions += engine.evaluate(_smoke(t, s), smoke)
    assert [t.phase for t in transitions] == [Phase.START, Phase.UPDATE, Phase.END]
    assert len({t.episode_id for t in transitions}) == 1
    assert engine.active() == []


@pytest.mark.parametrize(
    ("override", "battery", "expected"),
    [
        (None, [19, 18, 30], [(1, Phase.START), (2, Phase.END)]),  # default: < 20 twice, clear at >= 25
        (
            RuleOverride(alarm_id="battery_low", value=30.0, consecutive=1),
            [29, 26, 31],
            [(0, Phase.START), (2, Phase.END)],
        ),
        (RuleOverride(alarm_id="battery_low", value=10.0), [19, 18, 9, 9], [(3, Phase.START)]),
    ],
)
def test_battery_threshold_with_device_overrides(
    override: RuleOverride | None, battery: list[int], expected: list[tuple]
) -> None:
    rule = next(r for r in MANHOLE_RULES if r.alarm_id == "battery_low")
    if override is not None:
        rule = override.apply(rule)
    readings = [_manhole(i, battery_pct=float(v)) for i, v in enumerate(battery)]
    assert [(t, p) for t, _, p in _run(AlarmEngine(), readings, (rule,))] == expected


def test_rule_rejects_unknown_field() -> None:
    with pytest.raises(ValueError, match="unknown reading field 'tilt'"):
        AlarmRule(
            alarm_id="x",
            alert_type=AlertType.MANHOLE_TILT,
            field="tilt",
            op=Op.GT,
            value=1.0,
            severity=Severity.LOW,
        )
