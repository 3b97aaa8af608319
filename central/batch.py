"""Set-based ingest of the common case: new or repeated START/UPDATE alerts from known devices.

One transaction per batch: registry rows and open cases are read once for the whole batch, alerts are
inserted with one multi-row statement, and each touched case gets one update and one feed item. Anything
unusual (a snapshot, an END, a child-offline fold, a re-open, a device to auto-register) goes to the
per-event path, in order, inside the same transaction.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central import bulk, feed
from central.correlate import Correlator, Placement, open_key
from central.db.models import Alert, Camera, Case, CaseEvent, FeedEvent, Gateway, Sensor
from central.errors import IngestRejected
from central.states import CaseState, allowed_actions
from central.views import CasePublic
from gridwatch.contracts.messages import AlertEvent, AlertType, Phase, Severity, SourceKind

log = logging.getLogger(__name__)

_SLOW_TYPES = frozenset({AlertType.CAMERA_OFFLINE, AlertType.SENSOR_OFFLINE})
_CHUNK = 500  # ids per IN (...) list

Outcome = Any  # IngestResult | IngestRejected | None (None: take the per-event path)
CheckSource = Callable[[Session, AlertEvent, datetime], Placement]


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]


def _key(event: AlertEvent) -> str:
    return open_key(event.source_kind.value, event.source_id, event.alert_type.value)


class BatchWriter:
    def __init__(self, correlator: Correlator, reopen_window_s: float) -> None:
        self.correlator = correlator
        self.reopen_window_s = reopen_window_s

    def write(
        self,
        session: Session,
        events: list[AlertEvent],
        now: datetime,
        check_source: CheckSource,
        make_result: Callable[..., Any],
    ) -> list[Outcome]:
        """Results in input order; ``None`` marks events left for the per-event path."""
        existing = self._existing_alerts(session, [e.event_id for e in events])
        keep = self._preload_registry(session, events)  # strong refs keep them in the identity map
        open_cases, recently_closed = self._cases(session, events, now)
        results: list[Outcome] = [None] * len(events)
        first_index: dict[str, int] = {}
        rows: list[dict[str, Any]] = []
        touched: dict[int, list[str]] = defaultdict(list)
        created: dict[str, tuple[Case, str]] = {}
        for i, event in enumerate(events):
            if event.event_id in existing:
                alert_id, case_id = existing[event.event_id]
                results[i] = make_result(event.event_id, "duplicate", alert_id, case_id)
                continue
            if event.event_id in first_index:
                results[i] = ("duplicate-of", first_index[event.event_id])
                continue
            first_index[event.event_id] = i
            if not self._simple(event, keep) or _key(event) in recently_closed:
                continue  # per-event path
            try:
                where = check_source(session, event, now)
            except IngestRejected as exc:
                results[i] = exc
                continue
            key = _key(event)
            case = open_cases.get(key)
            if case is None:
                case = self.correlator.new_case(key, event, where, None, now)
                open_cases[key] = case
                created[key] = (case, event.event_id)
                outcome = "created"
            elif key in created:
                self._repeat(case, event, now)
                outcome = "repeated" if event.phase is Phase.START else "updated"
            else:
                self._repeat(case, event, now)
                touched[case.id].append(event.event_id)
                outcome = "repeated" if event.phase is Phase.START else "updated"
            rows.append((self._alert_row(event, now), case))
            results[i] = (outcome, case)
        self._insert_cases(session, list(created.values()), now)
        ids = self._insert_alerts(session, rows)
        by_id = {case.id: case for case in open_cases.values() if case.id is not None}
        bulk.insert_rows(
            session,
            FeedEvent.__table__,
            [
                feed.case_item(
                    session, "case.repeated", by_id[case_id], now, event_ids=event_ids[-50:], repeats=len(event_ids)
                )
                for case_id, event_ids in touched.items()
            ],
        )
        for i, value in enumerate(results):
            if isinstance(value, tuple) and value[0] != "duplicate-of":
                outcome, case = value
                results[i] = make_result(events[i].event_id, outcome, ids[events[i].event_id], case.id)
        for i, value in enumerate(results):
            if isinstance(value, tuple):  # a repeat of an event earlier in this batch
                original = results[value[1]]
                alert_id = getattr(original, "alert_id", None)
                results[i] = make_result(events[i].event_id, "duplicate", alert_id, getattr(original, "case_id", None))
        del keep
        return results

    # -- reads -------------------------------------------------------------------------------------------

    @staticmethod
    def _existing_alerts(session: Session, event_ids: list[str]) -> dict[str, tuple[int, int | None]]:
        found: dict[str, tuple[int, int | None]] = {}
        for chunk in _chunks(list(set(event_ids))):
            for event_id, alert_id, case_id in session.execute(
                select(Alert.event_id, Alert.id, Alert.case_id).where(Alert.event_id.in_(chunk))
            ):
                found[event_id] = (alert_id, case_id)
        return found

    @staticmethod
    def _preload_registry(session: Session, events: list[AlertEvent]) -> dict[tuple[str, str], Any]:
        loaded: dict[tuple[str, str], Any] = {}
        wanted = {
            Gateway: {e.gateway_id for e in events},
            Camera: {e.source_id for e in events if e.source_kind is SourceKind.CAMERA},
            Sensor: {e.source_id for e in events if e.source_kind is SourceKind.SENSOR},
        }
        for model, ids in wanted.items():
            pk = next(iter(model.__table__.primary_key.columns))
            for chunk in _chunks(sorted(ids)):
                for row in session.scalars(select(model).where(pk.in_(chunk))):
                    loaded[(model.__tablename__, getattr(row, pk.name))] = row
        return loaded

    def _cases(self, session: Session, events: list[AlertEvent], now: datetime) -> tuple[dict[str, Case], set[str]]:
        keys = sorted({_key(e) for e in events})
        open_cases: dict[str, Case] = {}
        for chunk in _chunks(keys):
            for case in session.scalars(select(Case).where(Case.open_key.in_(chunk))):
                open_cases[case.open_key or ""] = case
        missing = [k for k in keys if k not in open_cases]
        since = now - timedelta(seconds=self.reopen_window_s)
        closed: set[str] = set()
        for chunk in _chunks(sorted({k.split(":")[1] for k in missing})):
            query = select(Case.source_kind, Case.source_id, Case.alert_type).where(
                Case.state == CaseState.CLOSED.value, Case.closed_at >= since, Case.source_id.in_(chunk)
            )
            closed.update(open_key(*row) for row in session.execute(query))
        return open_cases, closed

    @staticmethod
    def _simple(event: AlertEvent, loaded: dict[tuple[str, str], Any]) -> bool:
        if event.snapshot is not None or event.phase is Phase.END or event.alert_type in _SLOW_TYPES:
            return False
        if ("gateways", event.gateway_id) not in loaded:
            return False  # unknown: rejected or auto-registered on the per-event path
        table = {SourceKind.CAMERA: "cameras", SourceKind.SENSOR: "sensors"}.get(event.source_kind)
        return table is None or (table, event.source_id) in loaded

    # -- writes ------------------------------------------------------------------------------------------

    @staticmethod
    def _repeat(case: Case, event: AlertEvent, now: datetime) -> None:
        if event.phase is Phase.START:
            case.occurrences += 1
            case.cleared = False
        order = list(Severity)
        if order.index(event.severity) > order.index(Severity(case.severity)):
            case.severity = event.severity.value
        case.updated_at = now

    def _insert_cases(self, session: Session, created: list[tuple[Case, str]], now: datetime) -> None:
        """Insert the batch's new cases in one statement, dispatching the urgent ones first (same rules as
        one by one), then their audit records and feed items in one statement each."""
        if not created:
            return
        settings = self.correlator.settings
        urgent = [c for c, _ in created if c.priority in settings.auto_dispatch]
        notes = dict(zip(map(id, urgent), self.correlator.dispatcher.plan(session, urgent, now), strict=True))
        columns = [c.key for c in Case.__table__.columns if c.key != "id"]
        # Each new case has its own open key (created is keyed by it), so the key matches ids back to cases.
        inserted = dict(
            bulk.insert_rows(
                session,
                Case.__table__,
                [{col: getattr(case, col) for col in columns} for case, _ in created],
                ("open_key", "id"),
            )
        )
        for case, _ in created:
            case.id = inserted[case.open_key]
        audit: list[dict[str, Any]] = []
        items: list[dict[str, Any]] = []
        for case, event_id in created:
            final = CasePublic.of(case)
            area = feed.area_code(session, case.area_id)
            reported = final.model_copy(
                update={
                    "state": CaseState.REPORTED,
                    "assignee_id": None,
                    "escalation_level": 0,
                    "dispatched_at": None,
                    "accept_due_at": None,
                    "allowed_actions": [a.value for a in allowed_actions(CaseState.REPORTED)],
                }
            )
            base = {
                "at": now,
                "case_id": case.id,
                "area_code": area,
                "alert_type": case.alert_type,
                "priority": case.priority,
            }
            audit.append(
                _audit(
                    case.id,
                    now,
                    "report",
                    None,
                    CaseState.REPORTED,
                    f"alert {event_id} from {case.source_id}",
                )
            )
            items.append(
                {
                    **base,
                    "kind": "case.created",
                    "assignee_id": None,
                    "data": {**reported.model_dump(mode="json"), "event_id": event_id},
                }
            )
            if id(case) in notes:
                audit.append(
                    _audit(
                        case.id,
                        now,
                        "register",
                        CaseState.REPORTED,
                        CaseState.REGISTERED,
                        f"registered automatically: priority {case.priority}",
                    )
                )
                audit.append(
                    _audit(case.id, now, "dispatch", CaseState.REGISTERED, CaseState.DISPATCHED, notes[id(case)])
                )
                items.append(
                    {
                        **base,
                        "kind": "case.dispatched",
                        "assignee_id": case.assignee_id,
                        "data": final.model_dump(mode="json"),
                    }
                )
        # Core inserts: one statement each (the ORM's bulk path would go row by row on PostgreSQL).
        bulk.insert_rows(session, CaseEvent.__table__, audit)
        bulk.insert_rows(session, FeedEvent.__table__, items)

    @staticmethod
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

    @staticmethod
    def _insert_alerts(session: Session, rows: list[tuple[dict[str, Any], Case]]) -> dict[str, int]:
        if not rows:
            return {}
        inserted = bulk.insert_rows(
            session, Alert.__table__, [{**row, "case_id": case.id} for row, case in rows], ("event_id", "id")
        )
        return {event_id: alert_id for event_id, alert_id in inserted}


def _audit(
    case_id: int, now: datetime, action: str, from_state: CaseState | None, to_state: CaseState, note: str
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "at": now,
        "actor": "hub",
        "action": action,
        "from_state": from_state.value if from_state else None,
        "to_state": to_state.value,
        "note": note,
        "evidence_id": None,
    }
