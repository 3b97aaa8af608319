"""What the hub knows before deciding a batch: its events' stored alerts, their sources' registry rows (demo
mode registers unknown ones), and the open and recently closed cases of their keys, read set-based.

Everything is read as plain rows, a few statements per batch whatever its size (loading and flushing thousands
of ORM objects per batch was most of the hub's ingest time).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central import bulk
from central.db.models import Alert, Camera, Case, Gateway, Sensor
from central.decide import Known, StoredAlert, key_of, open_key, parent_key
from central.errors import IngestRejected
from central.sources import DeviceRow, GatewayRow
from central.states import CaseState
from kernel.contracts.messages import AlertEvent, SourceKind

log = logging.getLogger(__name__)

CASES = Case.__table__
DEVICE_TABLES = {SourceKind.CAMERA: Camera.__table__, SourceKind.SENSOR: Sensor.__table__}


@dataclass(slots=True)
class CaseRow:
    """A case as a plain row (every column of ``cases``), changed in memory by the writer as it applies a
    batch, for the case's feed item and for new cases' inserts."""

    id: int | None
    open_key: str | None
    source_kind: str
    source_id: str
    alert_type: str
    gateway_id: str
    area_id: int | None
    title: str
    state: str
    priority: str
    severity: str
    occurrences: int
    reopen_count: int
    cleared: bool
    latest_evidence_id: int | None
    latitude: float | None
    longitude: float | None
    assignee_id: int | None
    escalation_level: int
    accept_due_at: datetime | None
    handle_due_at: datetime | None
    created_at: datetime
    updated_at: datetime
    dispatched_at: datetime | None
    accepted_at: datetime | None
    handled_at: datetime | None
    closed_at: datetime | None
    on_time: bool | None
    score: int | None

    def columns(self) -> dict[str, Any]:
        """Every column but the id, for an insert."""
        return {name: getattr(self, name) for name in _COLUMNS}


_COLUMNS = [f.name for f in fields(CaseRow) if f.name != "id"]
assert set(_COLUMNS) | {"id"} == set(CASES.c.keys()), "CaseRow must name every column of cases"


@dataclass(frozen=True, slots=True)
class Reads:
    """What the decision step gets (``known``) and the case rows the writer changes (by case id)."""

    known: Known
    cases: dict[int, CaseRow]


def read(
    session: Session,
    events: Sequence[AlertEvent],
    bad_snapshots: Mapping[str, IngestRejected],
    *,
    auto_register: bool,
    reopen_window_s: float,
    now: datetime,
) -> Reads:
    alerts = _stored_alerts(session, [e.event_id for e in events])
    fresh = [e for e in events if e.event_id not in alerts]
    gateways, devices = _registry(session, fresh, auto_register)
    cases, open_cases = _open_cases(session, events)
    missing = {key_of(e) for e in fresh} - open_cases.keys()
    closed = _recently_closed(session, missing, now - timedelta(seconds=reopen_window_s), cases)
    known = Known(alerts, gateways, devices, open_cases, closed, bad_snapshots)
    return Reads(known, cases)


def _stored_alerts(session: Session, event_ids: list[str]) -> dict[str, StoredAlert]:
    found: dict[str, StoredAlert] = {}
    for condition in bulk.one_of(session, Alert.event_id, event_ids):
        for event_id, alert_id, case_id in session.execute(
            select(Alert.event_id, Alert.id, Alert.case_id).where(condition)
        ):
            found[event_id] = StoredAlert(alert_id, case_id)
    return found


def _registry(
    session: Session, events: list[AlertEvent], auto_register: bool
) -> tuple[dict[str, GatewayRow], dict[tuple[SourceKind, str], DeviceRow]]:
    gateways: dict[str, GatewayRow] = {}
    g = Gateway.__table__.c
    for condition in bulk.one_of(session, g.gateway_id, (e.gateway_id for e in events)):
        query = select(g.gateway_id, g.area_id, g.retired, g.last_seen_at).where(condition)
        gateways.update((row.gateway_id, row) for row in session.execute(query))
    devices: dict[tuple[SourceKind, str], DeviceRow] = {}
    for kind, table in DEVICE_TABLES.items():
        pk = next(iter(table.primary_key.columns))
        c = table.c
        wanted = (e.source_id for e in events if e.source_kind is kind)
        for condition in bulk.one_of(session, pk, wanted):
            query = select(
                pk.label("id"), c.gateway_id, c.area_id, c.retired, c.latitude, c.longitude, c.last_seen_at
            ).where(condition)
            devices.update(((kind, row.id), row) for row in session.execute(query))
    if auto_register:
        _register_unknown(session, events, gateways, devices)
    return gateways, devices


def _register_unknown(
    session: Session,
    events: list[AlertEvent],
    gateways: dict[str, GatewayRow],
    devices: dict[tuple[SourceKind, str], DeviceRow],
) -> None:
    """Demo mode (ingest.auto_register): unknown gateways, and unknown devices of registered gateways placed
    in their gateway's grid, are taken in as they report."""
    new_gateways = []
    for event in events:
        if event.gateway_id not in gateways:
            gateway = gateways[event.gateway_id] = Gateway(
                gateway_id=event.gateway_id,
                name=event.gateway_id,
                auto_registered=True,
                retired=False,
                state="online",
                config_revision=0,
            )
            new_gateways.append(gateway)
            log.info("auto-registered gateway %s (ingest.auto_register is on)", event.gateway_id)
    if new_gateways:
        session.add_all(new_gateways)
        session.flush()  # gateways before their devices (no ORM relationship orders these inserts)
    new_devices = []
    for event in events:
        owner = gateways[event.gateway_id]
        source = (event.source_kind, event.source_id)
        if event.source_kind is SourceKind.GATEWAY or owner.retired or source in devices:
            continue
        model = Camera if event.source_kind is SourceKind.CAMERA else Sensor
        device = devices[source] = model(
            **{"camera_id" if model is Camera else "device_id": event.source_id},
            gateway_id=event.gateway_id,
            area_id=owner.area_id,
            retired=False,
            state="online",
        )
        new_devices.append(device)
    if new_devices:
        session.add_all(new_devices)
        session.flush()


def _open_cases(session: Session, events: Sequence[AlertEvent]) -> tuple[dict[int, CaseRow], dict[str, int]]:
    """The open cases of the batch's keys and of the gateway cases its offline devices may fold into."""
    keys = {key_of(e) for e in events} | {k for k in map(parent_key, events) if k is not None}
    rows: dict[int, CaseRow] = {}
    open_cases: dict[str, int] = {}
    for condition in bulk.one_of(session, CASES.c.open_key, keys):
        for row in _case_rows(session, select(CASES).where(condition)):
            assert row.id is not None and row.open_key is not None
            rows[row.id] = row
            open_cases[row.open_key] = row.id
    return rows, open_cases


def _recently_closed(
    session: Session, keys: set[str], since: datetime, rows: dict[int, CaseRow]
) -> dict[str, int]:
    """For each of ``keys``, the case of that key closed most recently since ``since`` (rows added to ``rows``)."""
    latest: dict[str, CaseRow] = {}
    source_ids = (k.split(":")[1] for k in keys)
    for condition in bulk.one_of(session, CASES.c.source_id, source_ids):
        query = select(CASES).where(CASES.c.state == CaseState.CLOSED.value, CASES.c.closed_at >= since, condition)
        for row in _case_rows(session, query):
            key = open_key(row.source_kind, row.source_id, row.alert_type)
            if key in keys and (key not in latest or _closed(row) > _closed(latest[key])):
                latest[key] = row
    for row in latest.values():
        assert row.id is not None
        rows[row.id] = row
    return {key: row.id for key, row in latest.items() if row.id is not None}


def _closed(row: CaseRow) -> datetime:
    assert row.closed_at is not None
    return row.closed_at


def _case_rows(session: Session, query: Any) -> list[CaseRow]:
    result = session.execute(query)
    names = list(result.keys())  # once: a row's own mapping builds its key view each time
    return [CaseRow(**dict(zip(names, row, strict=True))) for row in result]
