"""Profiles and parsing: recorded payloads of every (kind, vendor) row become the same typed SensorReading."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.sensors.parsing import RejectedMessage, RejectReason, parse_payload
from kernel.sensors.profiles import PROFILES
from kernel.sensors.readings import DeviceKind, SmokeState

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sensors"
SMOKE, MANHOLE = DeviceKind.SMOKE_DETECTOR, DeviceKind.MANHOLE_COVER
NOW = 1_795_835_100.0  # 2026-11-28T03:05:00Z


@pytest.mark.parametrize(
    ("fixture", "kind", "vendor", "device_id", "expected"),
    [
        (
            "smoke_gridwatch_smoke.json",
            SMOKE,
            "gridwatch",
            "smoke-0001",
            {
                "smoke_state": SmokeState.SMOKE,
                "battery_pct": 87.0,
                "tamper": False,
                "fault": False,
                "sensitivity_pct": 65.0,
            },
        ),
        ("smoke_gridwatch_clear.json", SMOKE, "gridwatch", "smoke-0001", {"smoke_state": SmokeState.CLEAR}),
        (
            "smoke_acme_alarm.json",
            SMOKE,
            "acme",
            "smoke-0002",
            {"smoke_state": SmokeState.SMOKE, "battery_pct": 64.0, "tamper": False, "fault": False},
        ),
        ("smoke_acme_test.json", SMOKE, "acme", "smoke-0002", {"smoke_state": SmokeState.TEST}),
        (
            "manhole_gridwatch_open.json",
            MANHOLE,
            "gridwatch",
            "mh-0001",
            {
                "tilt_deg": 21.5,
                "cover_open": True,
                "water_level_cm": 12.0,
                "gas_ppm": 3.0,
                "battery_pct": 91.0,
            },
        ),
        # vendor text form, water level in millimetres -> centimetres
        (
            "manhole_covertech_flooded.txt",
            MANHOLE,
            "covertech",
            "mh-0002",
            {
                "tilt_deg": 2.5,
                "cover_open": False,
                "water_level_cm": 65.5,
                "gas_ppm": 0.0,
                "battery_pct": 18.0,
            },
        ),
    ],
)
def test_recorded_payloads(
    fixture: str, kind: DeviceKind, vendor: str, device_id: str, expected: dict[str, object]
) -> None:
    reading = parse_payload(PROFILES[(kind, vendor)], device_id, (FIXTURES / fixture).read_bytes(), NOW)
    assert reading.device_id == device_id and reading.device_kind is kind and reading.received_ts == NOW
    for name, value in expected.items():
        assert (
            getattr(reading, name) == pytest.approx(value)
            if isinstance(value, float)
            else getattr(reading, name) == value
        ), name


def test_gridwatch_json_keeps_timestamp_and_seq() -> None:
    payload = (FIXTURES / "smoke_gridwatch_smoke.json").read_bytes()
    reading = parse_payload(PROFILES[(SMOKE, "gridwatch")], "smoke-0001", payload, NOW)
    assert reading.seq == 412
    assert reading.observed_ts == pytest.approx(1_795_835_045.123)
    assert reading.values()["smoke_state"] == "smoke"


@pytest.mark.parametrize(
    ("kind", "vendor", "device_id", "payload", "reason"),
    [
        (
            MANHOLE,
            "gridwatch",
            "mh-0001",
            (FIXTURES / "manhole_gridwatch_tilt720.json").read_bytes(),
            RejectReason.OUT_OF_RANGE,
        ),
        (
            SMOKE,
            "acme",
            "smoke-0002",
            (FIXTURES / "smoke_acme_battery_negative.json").read_bytes(),
            RejectReason.OUT_OF_RANGE,
        ),
        (SMOKE, "acme", "smoke-0002", b"{not json", RejectReason.MALFORMED),
        (SMOKE, "acme", "smoke-0002", b"[1, 2]", RejectReason.MALFORMED),
        (SMOKE, "gridwatch", "smoke-0001", b"\xff\xfe", RejectReason.MALFORMED),
        (
            SMOKE,
            "acme",
            "smoke-0002",
            b'{"id":"smoke-0002","st":"ALARM","bat":"lots","t":1}',
            RejectReason.WRONG_TYPE,
        ),
        (SMOKE, "acme", "smoke-0002", b'{"id":"smoke-0002","st":"BURNING","t":1}', RejectReason.WRONG_TYPE),
        (SMOKE, "acme", "smoke-0002", b'{"id":"smoke-0002","bat":50,"t":1}', RejectReason.MISSING_FIELD),
        (SMOKE, "acme", "smoke-0002", b'{"id":"smoke-0002","st":"ALARM"}', RejectReason.MISSING_FIELD),
        (
            SMOKE,
            "acme",
            "smoke-0002",
            b'{"id":"smoke-9999","st":"ALARM","t":1}',
            RejectReason.DEVICE_MISMATCH,
        ),
        (
            SMOKE,
            "gridwatch",
            "smoke-0001",
            b'{"schema":"sensor-telemetry/1","device_id":"smoke-0001","device_kind":"smoke_detector",'
            b'"readings":{"smoke_state":"smoke"}}',
            RejectReason.MISSING_FIELD,
        ),
        (
            SMOKE,
            "gridwatch",
            "smoke-0001",
            b'{"schema":"sensor-telemetry/1","device_id":"smoke-0001","device_kind":"manhole_cover",'
            b'"ts":"2026-11-28T03:04:05.000Z","readings":{"smoke_state":"smoke"}}',
            RejectReason.DEVICE_MISMATCH,
        ),
        (
            SMOKE,
            "gridwatch",
            "smoke-0001",
            b'{"schema":"sensor-telemetry/1","device_id":"smoke-0001","device_kind":"smoke_detector",'
            b'"ts":"2026-11-28T03:04:05.000Z","readings":{"smoke_state":"smoke","battery_pct":true}}',
            RejectReason.WRONG_TYPE,
        ),
        (MANHOLE, "covertech", "mh-0002", b"id=mh-0002;ang=3;open=0;t=1;garbage", RejectReason.MALFORMED),
        (MANHOLE, "covertech", "mh-0002", b"id=mh-0002;ang=nan;open=0;t=1", RejectReason.OUT_OF_RANGE),
        (MANHOLE, "covertech", "mh-0002", b"id=mh-0002;ang=3;open=maybe;t=1", RejectReason.WRONG_TYPE),
        (
            MANHOLE,
            "covertech",
            "mh-0002",
            b"id=mh-0002;ang=3;open=0;t=99999999999",
            RejectReason.OUT_OF_RANGE,
        ),
    ],
)
def test_bad_payloads_are_rejected_with_a_reason(
    kind: DeviceKind, vendor: str, device_id: str, payload: bytes, reason: RejectReason
) -> None:
    with pytest.raises(RejectedMessage) as caught:
        parse_payload(PROFILES[(kind, vendor)], device_id, payload, NOW)
    assert caught.value.reason is reason
    assert device_id in str(caught.value)
