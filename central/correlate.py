"""Correlation: turn one stored alert into a new, repeated, cleared, re-opened or folded case."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central import feed
from central.db.models import Alert, Case, CaseEvent
from central.dispatch import Dispatcher
from central.settings import CaseSettings
from central.sources import Placement
from central.states import CaseState, Priority
from gridwatch.contracts.messages import AlertEvent, AlertType, Phase, Severity

_CHILD_OFFLINE = frozenset({AlertType.CAMERA_OFFLINE, AlertType.SENSOR_OFFLINE})


def open_key(source_kind: str, source_id: str, alert_type: str) -> str:
    return f"{source_kind}:{source_id}:{alert_type}"


class Correlator:
    def __init__(self, settings: CaseSettings, dispatcher: Dispatcher) -> None:
        self.settings = settings
        self.dispatcher = dispatcher

    def place(self, session: Session, alert: Alert, event: AlertEvent, where: Placement, now: datetime) -> str:
        """Attach ``alert`` to a case (creating or re-opening one when needed); return what happened."""
        kind = event.source_kind.value
        if event.alert_type in _CHILD_OFFLINE:
            parent = self._open(session, open_key("gateway", event.gateway_id, AlertType.GATEWAY_OFFLINE))
            if parent is not None:
                return self._attach(session, parent, alert, event, now, "folded")
        key = open_key(kind, event.source_id, event.alert_type.value)
        case = self._open(session, key)
        if event.phase is Phase.END:
            return self._clear(session, case, alert, event, now)
        if case is not None:
            return self._attach(
                session, case, alert, event, now, "repeated" if event.phase is Phase.START else "updated"
            )
        recent = self._recently_closed(session, kind, event, now)
        if recent is not None:
            return self._reopen(session, recent, key, alert, event, now)
        return self._create(session, key, alert, event, where, now)

    def _open(self, session: Session, key: str) -> Case | None:
        return session.scalars(select(Case).where(Case.open_key == key)).first()

    def _recently_closed(self, session: Session, kind: str, event: AlertEvent, now: datetime) -> Case | None:
        since = now - timedelta(seconds=self.settings.reopen_window_s)
        query = (
            select(Case)
            .where(
                Case.source_kind == kind,
                Case.source_id == event.source_id,
                Case.alert_type == event.alert_type.value,
                Case.state == CaseState.CLOSED.value,
                Case.closed_at >= since,
            )
            .order_by(Case.closed_at.desc())
            .limit(1)
        )
        return session.scalars(query).first()

    def _create(
        self, session: Session, key: str, alert: Alert, event: AlertEvent, where: Placement, now: datetime
    ) -> str:
        case = self.open_case(session, key, event, where, alert.evidence_id, now)
        alert.case_id = case.id
        return "created"

    def new_case(self, key: str, event: AlertEvent, where: Placement, evidence_id: int | None, now: datetime) -> Case:
        """A reported case for ``event``, not yet in the session."""
        return Case(**self.case_fields(key, event, where, evidence_id, now))

    def case_fields(
        self, key: str, event: AlertEvent, where: Placement, evidence_id: int | None, now: datetime
    ) -> dict[str, Any]:
        """Every column of a new reported case for ``event`` but its id (the batch path keeps them as a plain
        row: building thousands of ORM objects per batch cost more than writing them)."""
        priority = self.settings.priority_for(event.alert_type, event.severity)
        return {
            "open_key": key,
            "source_kind": event.source_kind.value,
            "source_id": event.source_id,
            "alert_type": event.alert_type.value,
            "gateway_id": event.gateway_id,
            "area_id": where.area_id,
            "title": event.title,
            "state": CaseState.REPORTED.value,
            "priority": priority.value,
            "severity": event.severity.value,
            "occurrences": 1,
            "reopen_count": 0,
            "cleared": False,
            "escalation_level": 0,
            "latest_evidence_id": evidence_id,
            "latitude": where.latitude,
            "longitude": where.longitude,
            "assignee_id": None,
            "accept_due_at": None,
            "handle_due_at": None,
            "dispatched_at": None,
            "accepted_at": None,
            "handled_at": None,
            "closed_at": None,
            "on_time": None,
            "score": None,
            "created_at": now,
            "updated_at": now,
        }

    def open_case(
        self,
        session: Session,
        key: str,
        event: AlertEvent,
        where: Placement,
        evidence_id: int | None,
        now: datetime,
    ) -> Case:
        """A new case for ``event``: reported, and registered and dispatched at once for urgent priorities."""
        case = self.new_case(key, event, where, evidence_id, now)
        priority = Priority(case.priority)
        session.add(case)
        session.flush()
        session.add(
            CaseEvent(
                case_id=case.id,
                at=now,
                actor="hub",
                action="report",
                from_state=None,
                to_state=case.state,
                note=f"alert {event.event_id} from {event.source_id}",
            )
        )
        feed.append_case(session, "case.created", case, now, event_id=event.event_id)
        if priority in self.settings.auto_dispatch:
            case.state = CaseState.REGISTERED.value
            session.add(
                CaseEvent(
                    case_id=case.id,
                    at=now,
                    actor="hub",
                    action="register",
                    from_state=CaseState.REPORTED.value,
                    to_state=case.state,
                    note=f"registered automatically: priority {priority.value}",
                )
            )
            self.dispatcher.dispatch(session, case, "hub", now)
        return case

    def _attach(
        self, session: Session, case: Case, alert: Alert, event: AlertEvent, now: datetime, outcome: str
    ) -> str:
        alert.case_id = case.id
        if event.phase is Phase.START:
            case.occurrences += 1
            case.cleared = False
        if alert.evidence_id is not None:
            case.latest_evidence_id = alert.evidence_id
        if _rank(event.severity) > _rank(Severity(case.severity)):
            case.severity = event.severity.value
        case.updated_at = now
        feed.append_case(session, f"case.{outcome}", case, now, event_id=event.event_id)
        return outcome

    def _clear(self, session: Session, case: Case | None, alert: Alert, event: AlertEvent, now: datetime) -> str:
        alert.cleared = True
        # Mark the episode's earlier messages cleared too; the case stays for a person to close.
        for earlier in session.scalars(select(Alert).where(Alert.episode_id == event.episode_id)):
            earlier.cleared = True
        if case is None:
            return "cleared"
        alert.case_id = case.id
        case.cleared = True
        case.updated_at = now
        session.add(
            CaseEvent(
                case_id=case.id,
                at=now,
                actor="hub",
                action="clear",
                from_state=case.state,
                to_state=case.state,
                note=f"{event.source_id} reported the condition over",
            )
        )
        feed.append_case(session, "case.cleared", case, now, event_id=event.event_id)
        return "cleared"

    def _reopen(self, session: Session, case: Case, key: str, alert: Alert, event: AlertEvent, now: datetime) -> str:
        alert.case_id = case.id
        from_state = case.state
        case.open_key = key
        case.reopen_count += 1
        case.occurrences += 1
        case.cleared = False
        case.closed_at = None
        case.on_time = None
        case.accepted_at = case.handled_at = case.handle_due_at = None
        case.state = CaseState.REGISTERED.value
        case.updated_at = now
        if alert.evidence_id is not None:
            case.latest_evidence_id = alert.evidence_id
        session.add(
            CaseEvent(
                case_id=case.id,
                at=now,
                actor="hub",
                action="reopen",
                from_state=from_state,
                to_state=case.state,
                note=f"recurred within {self.settings.reopen_window_s:.0f} s of closing (alert {event.event_id})",
            )
        )
        self.dispatcher.dispatch(session, case, "hub", now)
        return "reopened"


def _rank(severity: Severity) -> int:
    return list(Severity).index(severity)
