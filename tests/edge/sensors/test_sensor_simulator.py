"""Simulator scenarios, fed straight into the processor: each scripted story raises the alerts it promises."""

from __future__ import annotations

import time

import pytest
from typer.testing import CliRunner

from edge.sensors.processor import SensorProcessor
from edge.sensors.registry import load_registry, registry_from_data
from edge.sensors.simulator import Scenario, SensorSimulator
from gridwatch.cli.main import app
from kernel.contracts.messages import AlertEvent

GW = "gw-sim"


class SteppedClock:
    """One wall clock (epoch s) shared by the simulator and the processor, moved by the test."""

    def __init__(self, start_s: float) -> None:
        self.now_s = start_s

    def __call__(self) -> float:
        return self.now_s


def _alerts(scenario: Scenario, t0: float, duration_s: float = 40.0, per_step: int = 12) -> list[AlertEvent]:
    clock = SteppedClock(t0)
    sim = SensorSimulator(GW, 3, scenario, duration_s=duration_s, seed=3, clock=clock)
    proc = SensorProcessor(GW, registry_from_data(sim.registrations(), source="sim"), clock=clock)
    alerts: list[AlertEvent] = []
    for step in range(int(duration_s)):
        clock.now_s = t0 + step
        for topic, payload in sim.messages_at(float(step), per_step):
            outcome = proc.handle(topic, payload)
            assert outcome.rejected is None, (outcome.rejected, payload)
            alerts += outcome.alerts
        alerts += proc.tick(clock())
    return alerts


def _play(scenario: Scenario, t0: float = 1_795_835_000.0) -> list[tuple[str, str, str]]:
    return [(a.source_id, a.alert_type.value, a.phase.value) for a in _alerts(scenario, t0)]


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        (Scenario.NORMAL, []),
        (Scenario.SMOKE_FIRE, [("smoke-0000", "smoke_alarm", "start"), ("smoke-0000", "smoke_alarm", "end")]),
        (Scenario.MANHOLE_OPEN, [("mh-0000", "manhole_tilt", "start"), ("mh-0000", "manhole_open", "start")]),
        (Scenario.FLOODING, [(f"mh-{n:04d}", "water_level_high", "start") for n in range(3)]),
        (Scenario.BATTERY_DYING, [(f"{kind}-{n:04d}", "battery_low", "start")
                                  for kind in ("smoke", "mh") for n in range(3)]),
        (Scenario.STORM, [("smoke-0000", "smoke_alarm", "start"), ("smoke-0000", "smoke_alarm", "end"),
                          ("mh-0001", "manhole_tilt", "start")]
         + [(f"mh-{n:04d}", "water_level_high", "start") for n in range(3)]),
    ],
)
def test_scenarios_raise_what_they_promise(scenario: Scenario, expected: list[tuple[str, str, str]]) -> None:
    got = _play(scenario)
    assert sorted(set(got)) == sorted(expected)
    assert len(got) == len(set(got)), "one START per episode, no duplicates"


YEAR_S = 365.25 * 86_400


@pytest.mark.parametrize("scenario", list(Scenario))
def test_scenarios_do_not_depend_on_the_day_they_run(scenario: Scenario) -> None:
    """The same story ten years back, today and ten years ahead raises the same alerts at the same offsets.

    Guards against the simulator (or anything it feeds) reading the wall clock behind the caller's back:
    before the simulator took its clock from its caller, the future run's messages were all "in the future"."""
    today = time.time()

    def story(t0: float) -> list[tuple[str, str, str, float, float]]:
        return [(a.source_id, a.alert_type.value, a.phase.value, round(a.observed_ts.timestamp() - t0, 3),
                 round(a.emitted_ts.timestamp() - t0, 3)) for a in _alerts(scenario, t0)]

    now = story(today)
    assert story(today - 10 * YEAR_S) == now
    assert story(today + 10 * YEAR_S) == now


def test_power_cut_is_silence_then_everyone_reannounces() -> None:
    sim = SensorSimulator(GW, 4, Scenario.GATEWAY_POWER_CUT, duration_s=20)
    assert len(sim.messages_at(1.0, 3)) == 3
    assert sim.messages_at(5.0, 3) == []
    burst = sim.messages_at(10.0, 0)
    assert len(burst) == 2 * len(sim.devices)  # a status and a telemetry message from every device
    assert sum(1 for topic, _ in burst if topic.endswith("/status")) == len(sim.devices)
    assert sim.messages_at(11.0, 0) == []


def test_cli_writes_a_registry_the_reader_accepts(tmp_path) -> None:
    path = tmp_path / "sensors.yaml"
    runner = CliRunner()
    done = runner.invoke(app, ["sensors", "simulate", "--devices", "4", "--duration-s", "0",
                               "--gateway-id", GW, "--write-registry", str(path)])
    assert done.exit_code == 0, done.output
    assert len(load_registry(path, gateway_id=GW)) == 8
    checked = runner.invoke(app, ["sensors", "run", "--registry", str(path), "--gateway-id", GW, "--check"])
    assert checked.exit_code == 0 and "8 sensors OK" in checked.output
    wrong = runner.invoke(app, ["sensors", "run", "--registry", str(path), "--gateway-id", "gw-other",
                                "--check"])
    assert wrong.exit_code == 1 and "expected 'gw-other'" in wrong.output
    bad = runner.invoke(app, ["sensors", "simulate", "--scenario", "earthquake", "--duration-s", "0"])
    assert bad.exit_code != 0 and "earthquake" in bad.output
