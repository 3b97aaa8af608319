"""Payload contracts: versioned, UTC with milliseconds, unique ids, strict on bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from kernel.contracts import messages as m
from kernel.errors import ContractError


def _alert(**overrides: object) -> m.AlertEvent:
    event_id = m.new_event_id()
    values: dict[str, object] = dict(
        event_id=event_id, episode_id=event_id, phase=m.Phase.START, gateway_id="gw-1",
        source_kind=m.SourceKind.SENSOR, source_id="smk-1", alert_type=m.AlertType.SMOKE_ALARM,
        severity=m.Severity.CRITICAL, observed_ts=m.utc_now(), emitted_ts=m.utc_now(), title="Smoke",
        detail=m.SensorEventDetail(device_kind="smoke_detector", alarm_id="smoke", readings={"battery_pct": 80}),
    )
    values.update(overrides)
    return m.AlertEvent(**values)  # type: ignore[arg-type]


def test_alert_round_trips_and_carries_schema_and_millisecond_utc() -> None:
    alert = _alert(observed_ts=datetime(2026, 11, 28, 3, 4, 5, 123456, tzinfo=UTC))
    wire = json.loads(m.encode(alert))
    assert wire["schema"] == "alert/1"
    assert wire["observed_ts"] == "2026-11-28T03:04:05.123Z"
    assert m.decode(m.AlertEvent, m.encode(alert)) == alert


def test_offsets_are_normalised_to_utc() -> None:
    local = datetime(2026, 11, 28, 11, 4, 5, 0, tzinfo=timezone(timedelta(hours=8)))
    assert json.loads(m.encode(_alert(observed_ts=local)))["observed_ts"] == "2026-11-28T03:04:05.000Z"


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        _alert(observed_ts=datetime(2026, 11, 28, 3, 4, 5))


def test_event_ids_are_unique_and_time_ordered() -> None:
    ids = [m.new_event_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert ids[0][:8] <= ids[-1][:8]
    assert all(i[14] == "7" for i in ids)


def test_start_message_opens_its_own_episode() -> None:
    with pytest.raises(ValueError, match="episode_id must equal event_id"):
        _alert(episode_id=m.new_event_id())
    update = _alert(event_id=m.new_event_id(), phase=m.Phase.UPDATE)
    assert update.episode_id != update.event_id


def test_snapshot_checks_its_hash() -> None:
    snap = m.Snapshot.from_jpeg(b"\xff\xd8fake-jpeg\xff\xd9", 4, 3)
    assert snap.jpeg_bytes().startswith(b"\xff\xd8")
    tampered = snap.model_copy(update={"data_b64": "AAAA"})
    with pytest.raises(ContractError, match="sha256"):
        tampered.jpeg_bytes()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b"{not json", "(payload)"),
        (json.dumps({"schema": "alert/2"}).encode(), "schema"),
        (json.dumps({"schema": "gateway-status/1", "gateway_id": "gw", "state": "sleeping",
                     "ts": "2026-11-28T03:04:05.000Z"}).encode(), "state"),
        (json.dumps({"schema": "gateway-status/1", "gateway_id": "gw", "state": "online",
                     "ts": "2026-11-28T03:04:05.000Z", "colour": "red"}).encode(), "colour"),
    ],
)
def test_decode_names_topic_and_field(payload: bytes, field: str) -> None:
    model = m.AlertEvent if b"alert" in payload else m.GatewayStatus
    with pytest.raises(ContractError) as info:
        m.decode(model, payload, topic="gridwatch/gw/status")
    assert "gridwatch/gw/status" in str(info.value)
    assert field in str(info.value)


def test_oversized_payloads_are_refused_before_parsing() -> None:
    with pytest.raises(ContractError, match="exceeds"):
        m.decode(m.AlertEvent, b" " * (m.MAX_PAYLOAD_BYTES + 1), topic="t")


def test_messages_are_frozen() -> None:
    alert = _alert()
    with pytest.raises(ValueError):
        alert.title = "changed"  # type: ignore[misc]


def _wire(**changes: object) -> bytes:
    body = json.loads(m.encode(_alert()))
    body.update(changes)
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59.999-14:00",  # past datetime.max once in UTC: raised OverflowError, not a refusal
        "0001-01-01T00:00:00.000+14:00",  # before datetime.min once in UTC
        "2100-01-01T00:00:00.000Z",
        "1969-12-31T23:59:59.999Z",
    ],
)
def test_out_of_range_timestamps_are_a_contract_error_naming_field_and_range(value: str) -> None:
    with pytest.raises(ContractError) as refused:
        m.decode(m.AlertEvent, _wire(observed_ts=value), topic="gridwatch/gw-1/events/sensor")
    assert "field observed_ts" in str(refused.value)
    assert "expected from 1970-01-01T00:00:00.000Z up to (not including) 2100-01-01T00:00:00.000Z" in str(
        refused.value
    )


@pytest.mark.parametrize(
    "value, utc", [
        ("1970-01-01T00:00:00.000Z", "1970-01-01T00:00:00.000Z"),
        ("2099-12-31T23:59:59.999Z", "2099-12-31T23:59:59.999Z"),
        ("2100-01-01T13:59:59.999+14:00", "2099-12-31T23:59:59.999Z"),
        ("1969-12-31T14:00:00.000-10:00", "1970-01-01T00:00:00.000Z"),
    ],
)
def test_timestamps_at_the_range_bounds_are_accepted(value: str, utc: str) -> None:
    alert = m.decode(m.AlertEvent, _wire(emitted_ts=value))
    assert json.loads(m.encode(alert))["emitted_ts"] == utc


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"title": "smoke\u0000"}, "field title"),
        ({"source_id": "smk\u0000"}, "field source_id"),
        (
            {"detail": {"kind": "sensor", "device_kind": "smoke", "alarm_id": "smoke", "readings": {"a\u0000": 1}}},
            "field detail.sensor.readings",
        ),
        (
            {"detail": {"kind": "sensor", "device_kind": "smoke", "alarm_id": "smoke", "readings": {"a": "\u0000"}}},
            "field detail.sensor.readings",
        ),
    ],
)
def test_nul_in_any_text_is_a_contract_error_naming_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ContractError) as refused:
        m.decode(m.AlertEvent, _wire(**changes))
    assert field in str(refused.value)
    assert "NUL" in str(refused.value) or "pattern" in str(refused.value)


def test_nul_in_status_text_is_refused() -> None:
    wire = json.dumps({"gateway_id": "gw-1", "state": "offline", "ts": "2026-11-28T03:04:05.000Z",
                       "reason": "bye\u0000"}).encode()
    with pytest.raises(ContractError, match="field reason: .*NUL"):
        m.decode(m.GatewayStatus, wire)
