"""Simulated sensor traffic: N devices of each kind, noisy telemetry, battery drain, and scripted scenarios.

Used by ``gridwatch sensors simulate``, the demo, the tests and the benchmarks. Every other device speaks
a vendor dialect (acme JSON smoke detectors, covertech key=value manhole covers) so the profiles are
exercised; ``registrations()`` gives the matching registry so reader and simulator agree.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import yaml

from kernel.contracts import topics
from kernel.contracts.messages import Availability, SensorStatus, encode, format_ts
from kernel.sensors.readings import DeviceKind, SmokeState

Publish = Callable[[str, bytes], object]


class Scenario(StrEnum):
    """What happens during a run (times are seconds after the start; D is the run's duration)."""

    NORMAL = "normal"  # quiet telemetry only
    SMOKE_FIRE = "smoke-fire"  # smoke-0000 alarms from 2 s to 0.8 D; smoke-0001 test press at 1 s
    MANHOLE_OPEN = "manhole-open"  # mh-0000 lifted (open, tilt 75 deg) from 2 s
    FLOODING = "flooding"  # every cover's water rises 3 cm/s from 2 s, to 90 cm
    BATTERY_DYING = "battery-dying"  # every battery starts at 26 % and drains 0.5 %/s
    GATEWAY_POWER_CUT = "gateway-power-cut"  # silence from 2 s to D/2, then every device re-announces at once
    STORM = "storm"  # flooding + mh-0001 tilting + smoke-0000 alarm


@dataclass
class SimDevice:
    """One simulated device's current state (mutable: the simulation advances it)."""

    device_id: str
    kind: DeviceKind
    vendor: str
    battery_pct: float
    smoke_state: SmokeState = SmokeState.CLEAR
    tilt_deg: float = 1.0
    cover_open: bool = False
    water_level_cm: float = 5.0
    gas_ppm: float = 2.0
    seq: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class SensorSimulator:
    """Generates the telemetry of ``devices_per_kind`` smoke detectors and manhole covers."""

    def __init__(
        self,
        gateway_id: str,
        devices_per_kind: int = 5,
        scenario: Scenario = Scenario.NORMAL,
        *,
        duration_s: float = 60.0,
        seed: int = 0,
        vendor_mix: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` gives the wall-clock time (epoch s) that messages are stamped with; tests pass the same
        clock they give the processor, so no stamp depends on the day the test runs."""
        self.gateway_id = topics.check_id("gateway_id", gateway_id)
        self._clock = clock
        self.scenario = scenario
        self.duration_s = duration_s
        self._rng = random.Random(seed)
        start_battery = 26.0 if scenario is Scenario.BATTERY_DYING else None
        self.devices: list[SimDevice] = []
        for i in range(devices_per_kind):
            odd = vendor_mix and i % 2 == 1
            for kind, prefix, vendor in (
                (DeviceKind.SMOKE_DETECTOR, "smoke", "acme"),
                (DeviceKind.MANHOLE_COVER, "mh", "covertech"),
            ):
                battery = start_battery or self._rng.uniform(60, 100)
                self.devices.append(
                    SimDevice(f"{prefix}-{i:04d}", kind, vendor if odd else "gridwatch", battery)
                )
        self._next = 0
        self._announced_after_cut = False

    # -- registry ------------------------------------------------------------------------------------

    def registrations(self, heartbeat_expiry_s: float | None = None) -> list[dict[str, Any]]:
        """The registry entries matching the simulated devices (data for ``registry_from_data``)."""
        out = []
        for n, d in enumerate(self.devices):
            entry: dict[str, Any] = {
                "device_id": d.device_id,
                "kind": d.kind.value,
                "vendor": d.vendor,
                "location": f"simulated site {n}",
                "grid_id": f"grid-{n % 4}",
            }
            if heartbeat_expiry_s is not None:
                entry["heartbeat_expiry_s"] = heartbeat_expiry_s
            out.append(entry)
        return out

    def registry_yaml(self) -> str:
        return yaml.safe_dump(
            {"gateway_id": self.gateway_id, "sensors": self.registrations()}, sort_keys=False
        )

    # -- traffic ---------------------------------------------------------------------------------------

    def messages_at(self, t: float, count: int) -> list[tuple[str, bytes]]:
        """The next ``count`` messages (devices in turn) with the scenario applied at elapsed time ``t``."""
        if self.scenario is Scenario.GATEWAY_POWER_CUT and 2.0 <= t < self.duration_s / 2:
            return []  # the gateway's power is off: nothing reaches the broker
        out: list[tuple[str, bytes]] = []
        if (
            self.scenario is Scenario.GATEWAY_POWER_CUT
            and t >= self.duration_s / 2
            and not self._announced_after_cut
        ):
            self._announced_after_cut = True
            for device in self.devices:  # every device re-announces at once: the burst
                out.append(self.status(device, Availability.ONLINE))
                self._advance(device, t)
                out.append(self.telemetry(device, t))
        for _ in range(count):
            device = self.devices[self._next]
            self._next = (self._next + 1) % len(self.devices)
            self._advance(device, t)
            out.append(self.telemetry(device, t))
        return out

    def burst(self, count: int, t: float = 0.0) -> Iterator[tuple[str, bytes]]:
        """``count`` messages as fast as they can be made (benchmarks)."""
        for _ in range(count):
            yield from self.messages_at(t, 1)

    def run(
        self,
        publish: Publish,
        *,
        duration_s: float,
        rate: float,
        step_s: float = 0.1,
        pace_clock: Callable[[], float] = time.monotonic,
    ) -> int:
        """Publish at ``rate`` messages/s for ``duration_s`` seconds through ``publish(topic, payload)``.

        ``pace_clock`` (monotonic) paces the run; the stamps in the messages come from the simulator's clock."""
        start = pace_clock()
        sent = 0
        owed = 0.0
        while (t := pace_clock() - start) < duration_s:
            owed += rate * step_s
            batch = self.messages_at(t, int(owed))
            owed -= int(owed)
            for topic, payload in batch:
                publish(topic, payload)
            sent += len(batch)
            time.sleep(max(0.0, start + t + step_s - pace_clock()))
        return sent

    # -- one device -----------------------------------------------------------------------------------

    def _advance(self, d: SimDevice, t: float) -> None:
        rng, s = self._rng, self.scenario
        d.seq += 1
        if s is Scenario.BATTERY_DYING:
            d.battery_pct = max(0.0, 26.0 - 0.5 * t)
        else:
            d.battery_pct = max(0.0, d.battery_pct - 0.0001)  # slow drain per message
        if d.kind is DeviceKind.SMOKE_DETECTOR:
            d.smoke_state = SmokeState.CLEAR
            if (
                d.device_id == "smoke-0000"
                and s in (Scenario.SMOKE_FIRE, Scenario.STORM)
                and 2.0 <= t < 0.8 * self.duration_s
            ):
                d.smoke_state = SmokeState.SMOKE
            if d.device_id == "smoke-0001" and s is Scenario.SMOKE_FIRE and 1.0 <= t < 1.5:
                d.smoke_state = SmokeState.TEST
            return
        d.tilt_deg = abs(rng.gauss(1.0, 0.5))
        d.cover_open = False
        d.water_level_cm = max(0.0, rng.gauss(5.0, 1.0))
        d.gas_ppm = max(0.0, rng.gauss(2.0, 1.0))
        if s in (Scenario.FLOODING, Scenario.STORM) and t >= 2.0:
            d.water_level_cm = min(90.0, 5.0 + 3.0 * (t - 2.0)) + rng.gauss(0, 0.5)
        if d.device_id == "mh-0000" and s is Scenario.MANHOLE_OPEN and t >= 2.0:
            d.cover_open, d.tilt_deg = True, 75.0 + rng.gauss(0, 2)
        if d.device_id == "mh-0001" and s is Scenario.STORM and t >= 3.0:
            d.tilt_deg = 25.0 + rng.gauss(0, 3)

    def telemetry(self, d: SimDevice, t: float) -> tuple[str, bytes]:
        """One telemetry message in the device's own dialect."""
        now = self._clock()
        topic = topics.sensor_up(self.gateway_id, d.device_id)
        if d.vendor == "acme":
            st = {SmokeState.CLEAR: "NORMAL", SmokeState.SMOKE: "ALARM", SmokeState.TEST: "TEST"}[
                d.smoke_state
            ]
            body = {
                "id": d.device_id,
                "st": st,
                "bat": round(d.battery_pct, 1),
                "tmp": 0,
                "err": 0,
                "sens": 70,
                "t": round(now, 3),
                "seq": d.seq,
            }
            return topic, json.dumps(body, separators=(",", ":")).encode()
        if d.vendor == "covertech":
            text = (
                f"id={d.device_id};ang={d.tilt_deg:.1f};open={int(d.cover_open)};"
                f"lvl_mm={d.water_level_cm * 10:.0f};ch4={d.gas_ppm:.0f};bat={d.battery_pct:.0f};tmp=0;"
                f"t={now:.0f};seq={d.seq}"
            )
            return topic, text.encode()
        if d.kind is DeviceKind.SMOKE_DETECTOR:
            readings: dict[str, Any] = {
                "smoke_state": d.smoke_state.value,
                "battery_pct": round(d.battery_pct, 1),
                "tamper": False,
                "fault": False,
                "sensitivity_pct": 70,
            }
        else:
            readings = {
                "tilt_deg": round(d.tilt_deg, 2),
                "cover_open": d.cover_open,
                "water_level_cm": round(d.water_level_cm, 1),
                "gas_ppm": round(d.gas_ppm, 1),
                "battery_pct": round(d.battery_pct, 1),
                "tamper": False,
            }
        body = {
            "schema": "sensor-telemetry/1",
            "device_id": d.device_id,
            "device_kind": d.kind.value,
            "ts": format_ts(datetime.fromtimestamp(now, UTC)),
            "readings": readings,
            "seq": d.seq,
        }
        return topic, json.dumps(body, separators=(",", ":")).encode()

    def status(self, d: SimDevice, state: Availability) -> tuple[str, bytes]:
        stamp = datetime.fromtimestamp(self._clock(), UTC)
        message = SensorStatus(device_id=d.device_id, state=state, ts=stamp)
        return topics.sensor_status(self.gateway_id, d.device_id), encode(message)
