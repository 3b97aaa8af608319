"""One way to write cases: a story stored as one batch leaves the same alerts, cases and audit trail as the same
story stored one event at a time (each a batch of one), on SQLite and PostgreSQL. Two gateways (demo mode
registers them and their devices) carry the two copies side by side in one database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from central.db.models import Alert, Case, CaseEvent
from central.errors import IngestRejected
from kernel.contracts.messages import AlertEvent, AlertType, Phase, Severity, SourceKind
from tests.central.hubkit import JPEG, event  # JPEG: a real image; the hub refuses anything else


def _story(gw: str) -> list[AlertEvent]:
    """Every kind of change: new cases, repeats and updates, a severity raised, END clearing a case and its
    episode, a START after the END, duplicates, a snapshot good and bad, a gateway offline and its children
    folding in."""
    cam, smoke = f"{gw}-cam-1", f"{gw}-smoke-1"
    intrusion = event(cam, gateway_id=gw, kind=SourceKind.CAMERA, severity=Severity.MEDIUM)
    alarm = event(smoke, AlertType.SMOKE_ALARM, gateway_id=gw, kind=SourceKind.SENSOR)
    return [
        intrusion,
        event(cam, gateway_id=gw, kind=SourceKind.CAMERA, phase=Phase.UPDATE, episode_id=intrusion.episode_id),
        alarm,
        event(cam, gateway_id=gw, kind=SourceKind.CAMERA, severity=Severity.CRITICAL, snapshot=JPEG),
        intrusion,  # a copy within the batch
        event(smoke, AlertType.SMOKE_ALARM, gateway_id=gw, kind=SourceKind.SENSOR, phase=Phase.END,
              episode_id=alarm.episode_id),
        event(smoke, AlertType.SMOKE_ALARM, gateway_id=gw, kind=SourceKind.SENSOR),  # again after the END
        event(cam, AlertType.LOITERING, gateway_id=gw, kind=SourceKind.CAMERA, snapshot=b"not an image"),
        event(gw, AlertType.GATEWAY_OFFLINE, gateway_id=gw, kind=SourceKind.GATEWAY),
        event(cam, AlertType.CAMERA_OFFLINE, gateway_id=gw, kind=SourceKind.CAMERA),
        event(smoke, AlertType.SENSOR_OFFLINE, gateway_id=gw, kind=SourceKind.SENSOR),
        event(cam, AlertType.CROWDING, gateway_id=gw, kind=SourceKind.CAMERA, severity=Severity.LOW),
    ]


def _outcome(result: Any) -> str:
    return result.reason if isinstance(result, IngestRejected) else result.outcome


def _stored(api, gw: str, events: list[AlertEvent]) -> dict[str, Any]:
    """The gateway's alerts (in story order), cases and audit trail, with ids and names made comparable."""
    with api.hub.db.session() as session:
        cases = session.scalars(select(Case).where(Case.gateway_id == gw).order_by(Case.id)).all()
        number = {case.id: n for n, case in enumerate(cases)}
        alerts = {a.event_id: a for a in session.scalars(select(Alert).where(Alert.gateway_id == gw))}
        trail = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id.in_(list(number))).order_by(CaseEvent.id)
        ).all()
        return {
            "alerts": [
                (alerts[e.event_id].cleared, number.get(alerts[e.event_id].case_id),
                 alerts[e.event_id].evidence_id is not None)
                if e.event_id in alerts else None
                for e in events
            ],
            "cases": [
                (c.open_key.replace(gw, "GW") if c.open_key else None, c.state, c.priority, c.severity,
                 c.occurrences, c.cleared, c.reopen_count, c.latest_evidence_id is not None)
                for c in cases
            ],
            "trail": [
                (number[t.case_id], t.actor, t.action, t.from_state, t.to_state, _plain(t.note, gw, events))
                for t in trail
            ],
        }


def _plain(note: str | None, gw: str, events: list[AlertEvent]) -> str:
    """An audit note with the gateway's name and the events' ids replaced by placeholders and story indices."""
    text = (note or "").replace(gw, "GW")
    for index, e in enumerate(events):
        text = text.replace(e.event_id, f"#{index}")
    return text


def test_a_batch_writes_what_one_event_at_a_time_writes(make_api):
    api = make_api(ingest={"auto_register": True})
    batch, single = _story("gw-a"), _story("gw-b")
    batched = api.hub.ingestor.ingest_batch(batch, "mqtt")
    one_by_one = [api.hub.ingestor.ingest_batch([e], "http")[0] for e in single]
    assert [_outcome(r) for r in batched] == [_outcome(r) for r in one_by_one] == [
        "created", "updated", "created", "repeated", "duplicate", "cleared", "repeated", "bad_snapshot",
        "created", "folded", "folded", "created",
    ]
    a, b = _stored(api, "gw-a", batch), _stored(api, "gw-b", single)
    for part in ("alerts", "cases", "trail"):
        assert a[part] == b[part], part
    # The intrusion case: opened medium, raised to critical, repeated once, with the snapshot as its evidence.
    assert a["cases"][0][3:6] == ("critical", 2, False) and a["cases"][0][7] is True
    # The smoke alarm's episode is cleared, then a new START repeats the case and un-clears it.
    assert a["alerts"][2][0] is True and a["cases"][1][5] is False
