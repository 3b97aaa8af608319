"""Set-based ingest of the common case: new or repeated START/UPDATE alerts from known devices.

One transaction per batch. Registry rows and open cases are read once for the whole batch as plain rows (no
ORM objects: loading and flushing thousands of them was most of the hub's ingest time), alerts go in with one
statement, touched cases get one ``UPDATE`` for all of them (counters added in SQL, so concurrent ingest
processes never lose a repeat), and each touched case gets one feed item. Anything unusual (a snapshot, an
END, a child-offline fold, a re-open, a device to auto-register) goes to the per-event path, in order,
inside the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from central import bulk, feed
from central.batch_cases import insert_new_cases
from central.correlate import Correlator, open_key
from central.db.models import Alert, Camera, Case, FeedEvent, Gateway, Sensor
from central.errors import IngestRejected
from central.sources import locate, seen_due
from central.states import CaseState
from gridwatch.contracts.messages import AlertEvent, AlertType, Phase, Severity, SourceKind

log = logging.getLogger(__name__)

_SLOW_TYPES = frozenset({AlertType.CAMERA_OFFLINE, AlertType.SENSOR_OFFLINE})
_RANK = {severity.value: rank for rank, severity in enumerate(Severity)}

Outcome = Any  # IngestResult | IngestRejected | None (None: take the per-event path)
_CASES = Case.__table__
_DEVICE_TABLES = {SourceKind.CAMERA: Camera.__table__, SourceKind.SENSOR: Sensor.__table__}


def _key(event: AlertEvent) -> str:
    return open_key(event.source_kind.value, event.source_id, event.alert_type.value)


@dataclass(frozen=True, slots=True)
class _Registry:
    """The batch's gateways and devices as read from the registry (plain rows)."""

    gateways: dict[str, Row[Any]]
    devices: dict[tuple[SourceKind, str], Row[Any]]

    def device(self, event: AlertEvent) -> Row[Any] | None:
        return self.devices.get((event.source_kind, event.source_id))

    def known(self, event: AlertEvent) -> bool:
        """Gateway and device registered (unknown ones are refused or auto-registered one by one)."""
        if event.gateway_id not in self.gateways:
            return False
        return event.source_kind is SourceKind.GATEWAY or (event.source_kind, event.source_id) in self.devices


@dataclass(slots=True)
class _Repeats:
    """What the batch adds to one open case: its START repeats and its events. ``case`` is the row as read,
    updated in memory (occurrences, severity, times) for the case's feed item; the stored row is updated in
    SQL, so with two ingest processes on one case the item may trail the row by the other's repeats."""

    case: SimpleNamespace
    added: int = 0
    event_ids: list[str] = field(default_factory=list)


class BatchWriter:
    def __init__(self, correlator: Correlator, reopen_window_s: float) -> None:
        self.correlator = correlator
        self.reopen_window_s = reopen_window_s

    def write(
        self, session: Session, events: list[AlertEvent], now: datetime, make_result: Callable[..., Any]
    ) -> list[Outcome]:
        """Results in input order; ``None`` marks events left for the per-event path."""
        existing = self._existing_alerts(session, [e.event_id for e in events])
        registry = self._registry(session, events)
        open_cases, recently_closed = self._cases(session, events, now)
        results: list[Outcome] = [None] * len(events)
        first_index: dict[str, int] = {}
        rows: list[tuple[dict[str, Any], Any]] = []
        repeats: dict[int, _Repeats] = {}
        created: dict[str, tuple[Any, str]] = {}  # open key -> (new case row, its first event)
        seen: set[tuple[str, str]] = set()
        for i, event in enumerate(events):
            if event.event_id in existing:
                alert_id, case_id = existing[event.event_id]
                results[i] = make_result(event.event_id, "duplicate", alert_id, case_id)
                continue
            if event.event_id in first_index:
                results[i] = ("duplicate-of", first_index[event.event_id])
                continue
            first_index[event.event_id] = i
            if not self._simple(event, registry) or _key(event) in recently_closed:
                continue  # per-event path
            device = registry.device(event)
            try:
                where = locate(registry.gateways[event.gateway_id], device, event)
            except IngestRejected as exc:
                results[i] = exc
                continue
            seen.add(("gateway", event.gateway_id))
            if device is not None:
                seen.add((event.source_kind.value, event.source_id))
            key = _key(event)
            target = open_cases.get(key)
            outcome = "repeated" if event.phase is Phase.START else "updated"
            if target is None:
                target = SimpleNamespace(id=None, **self.correlator.case_fields(key, event, where, None, now))
                open_cases[key] = target
                created[key] = (target, event.event_id)
                outcome = "created"
            else:
                _repeat(target, event, now)
                if key not in created:
                    entry = repeats.setdefault(target.id, _Repeats(target))
                    entry.added += event.phase is Phase.START
                    entry.event_ids.append(event.event_id)
            rows.append((_alert_row(event, now), target))
            results[i] = (outcome, target)
        insert_new_cases(session, self.correlator, list(created.values()), now)
        ids = self._insert_alerts(session, rows)
        self._update_cases(session, list(repeats.values()))
        self._mark_seen(session, registry, seen, now)
        bulk.insert_rows(
            session,
            FeedEvent.__table__,
            [
                feed.case_item(
                    session, "case.repeated", r.case, now, event_ids=r.event_ids[-50:], repeats=len(r.event_ids)
                )
                for r in repeats.values()
            ],
        )
        for i, value in enumerate(results):
            if isinstance(value, tuple) and value[0] != "duplicate-of":
                outcome, target = value
                results[i] = make_result(events[i].event_id, outcome, ids[events[i].event_id], target.id)
        for i, value in enumerate(results):
            if isinstance(value, tuple):  # a repeat of an event earlier in this batch
                original = results[value[1]]
                alert_id = getattr(original, "alert_id", None)
                results[i] = make_result(events[i].event_id, "duplicate", alert_id, getattr(original, "case_id", None))
        return results

    # -- reads -------------------------------------------------------------------------------------------

    @staticmethod
    def _existing_alerts(session: Session, event_ids: list[str]) -> dict[str, tuple[int, int | None]]:
        found: dict[str, tuple[int, int | None]] = {}
        for condition in bulk.one_of(session, Alert.event_id, event_ids):
            for event_id, alert_id, case_id in session.execute(
                select(Alert.event_id, Alert.id, Alert.case_id).where(condition)
            ):
                found[event_id] = (alert_id, case_id)
        return found

    @staticmethod
    def _registry(session: Session, events: list[AlertEvent]) -> _Registry:
        gateways: dict[str, Row[Any]] = {}
        g = Gateway.__table__.c
        for condition in bulk.one_of(session, g.gateway_id, (e.gateway_id for e in events)):
            query = select(g.gateway_id, g.area_id, g.retired, g.last_seen_at).where(condition)
            gateways.update((row.gateway_id, row) for row in session.execute(query))
        devices: dict[tuple[SourceKind, str], Row[Any]] = {}
        for kind, table in _DEVICE_TABLES.items():
            pk = next(iter(table.primary_key.columns))
            c = table.c
            wanted = (e.source_id for e in events if e.source_kind is kind)
            for condition in bulk.one_of(session, pk, wanted):
                query = select(
                    pk.label("id"), c.gateway_id, c.area_id, c.retired, c.latitude, c.longitude, c.last_seen_at
                ).where(condition)
                devices.update(((kind, row.id), row) for row in session.execute(query))
        return _Registry(gateways, devices)

    def _cases(self, session: Session, events: list[AlertEvent], now: datetime) -> tuple[dict[str, Any], set[str]]:
        """Open cases of the batch's keys (as mutable rows), and keys of cases closed within the re-open window."""
        keys = sorted({_key(e) for e in events})
        open_cases: dict[str, Any] = {}
        for condition in bulk.one_of(session, _CASES.c.open_key, keys):
            result = session.execute(select(_CASES).where(condition))
            names = list(result.keys())  # once: a row's own mapping builds its key view each time
            for row in result:
                case_row = SimpleNamespace(**dict(zip(names, row, strict=True)))
                open_cases[case_row.open_key] = case_row
        missing = [k for k in keys if k not in open_cases]
        since = now - timedelta(seconds=self.reopen_window_s)
        closed: set[str] = set()
        for condition in bulk.one_of(session, Case.source_id, (k.split(":")[1] for k in missing)):
            query = select(Case.source_kind, Case.source_id, Case.alert_type).where(
                Case.state == CaseState.CLOSED.value, Case.closed_at >= since, condition
            )
            closed.update(open_key(*row) for row in session.execute(query))
        return open_cases, closed

    @staticmethod
    def _simple(event: AlertEvent, registry: _Registry) -> bool:
        if event.snapshot is not None or event.phase is Phase.END or event.alert_type in _SLOW_TYPES:
            return False
        return registry.known(event)

    # -- writes ------------------------------------------------------------------------------------------

    @staticmethod
    def _update_cases(session: Session, repeats: list[_Repeats]) -> None:
        """One UPDATE for every open case the batch repeated: occurrences added, cleared reset by a START,
        severity raised (never lowered) against the stored row, not the one read before."""
        c = _CASES.c

        def rank(severity: ColumnElement[Any]) -> ColumnElement[int]:
            return sql_case(_RANK, value=severity, else_=-1)

        def values(incoming: bulk.Fields) -> dict[str, ColumnElement[Any]]:
            raise_it = rank(incoming["severity"]) > rank(c.severity)
            return {
                "occurrences": c.occurrences + incoming["added"],
                "cleared": and_(c.cleared, incoming["added"] == 0),
                "severity": sql_case((raise_it, incoming["severity"]), else_=c.severity),
                "updated_at": incoming["updated_at"],
            }

        rows = [
            {"id": r.case.id, "added": r.added, "severity": r.case.severity, "updated_at": r.case.updated_at}
            for r in repeats
        ]
        types = {"id": c.id.type, "added": Integer(), "severity": c.severity.type, "updated_at": c.updated_at.type}
        bulk.update_rows(session, _CASES, "id", types, rows, values)

    @staticmethod
    def _mark_seen(session: Session, registry: _Registry, seen: set[tuple[str, str]], now: datetime) -> None:
        """Note when gateways and devices were last heard from (to 10 s: see ``sources.seen_due``)."""
        tables = {"gateway": Gateway.__table__, **{k.value: t for k, t in _DEVICE_TABLES.items()}}
        due: dict[str, list[str]] = {}
        for kind, source_id in seen:
            row = registry.gateways[source_id] if kind == "gateway" else registry.devices[(SourceKind(kind), source_id)]
            if seen_due(row.last_seen_at, now):
                due.setdefault(kind, []).append(source_id)
        for kind, ids in due.items():
            table = tables[kind]
            pk = next(iter(table.primary_key.columns))
            for condition in bulk.one_of(session, pk, ids):
                session.execute(update(table).where(condition).values(last_seen_at=now))

    @staticmethod
    def _insert_alerts(session: Session, rows: list[tuple[dict[str, Any], Any]]) -> dict[str, int]:
        if not rows:
            return {}
        inserted = bulk.insert_rows(
            session, Alert.__table__, [{**row, "case_id": target.id} for row, target in rows], ("event_id", "id")
        )
        return {event_id: alert_id for event_id, alert_id in inserted}


def _repeat(target: Any, event: AlertEvent, now: datetime) -> None:
    """Apply a repeat to a case row in memory (a new case before its insert, or an open one for its feed item)."""
    if event.phase is Phase.START:
        target.occurrences += 1
        target.cleared = False
    if _RANK[event.severity.value] > _RANK[target.severity]:
        target.severity = event.severity.value
    target.updated_at = now


def _alert_row(event: AlertEvent, now: datetime) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "episode_id": event.episode_id,
        "phase": event.phase.value,
        "gateway_id": event.gateway_id,
        "source_kind": event.source_kind.value,
        "source_id": event.source_id,
        "alert_type": event.alert_type.value,
        "severity": event.severity.value,
        "title": event.title,
        "detail": event.detail.model_dump(mode="json"),
        "observed_at": event.observed_ts,
        "received_at": now,
        "cleared": False,
        "evidence_id": None,
    }
