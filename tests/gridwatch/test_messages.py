"""Payload contracts: versioned, UTC with milliseconds, unique ids, strict on bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from gridwatch.contracts import messages as m
from gridwatch.errors import ContractError


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
