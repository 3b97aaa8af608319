"""Public shapes of hub records (API responses and live-feed payloads), built from table rows."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from central.db.models import Alert, CaseEvent
from central.states import CaseState, Priority, allowed_actions


class CaseLike(Protocol):
    """A case as its public view reads it: a stored ``Case`` or a batch's plain row (``central.known.CaseRow``)."""

    @property
    def id(self) -> int | None: ...
    @property
    def state(self) -> str: ...
    @property
    def priority(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def alert_type(self) -> str: ...
    @property
    def source_kind(self) -> str: ...
    @property
    def source_id(self) -> str: ...
    @property
    def gateway_id(self) -> str: ...
    @property
    def area_id(self) -> int | None: ...
    @property
    def title(self) -> str: ...
    @property
    def occurrences(self) -> int: ...
    @property
    def reopen_count(self) -> int: ...
    @property
    def cleared(self) -> bool: ...
    @property
    def latest_evidence_id(self) -> int | None: ...
    @property
    def latitude(self) -> float | None: ...
    @property
    def longitude(self) -> float | None: ...
    @property
    def assignee_id(self) -> int | None: ...
    @property
    def escalation_level(self) -> int: ...
    @property
    def accept_due_at(self) -> datetime | None: ...
    @property
    def handle_due_at(self) -> datetime | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def dispatched_at(self) -> datetime | None: ...
    @property
    def accepted_at(self) -> datetime | None: ...
    @property
    def handled_at(self) -> datetime | None: ...
    @property
    def closed_at(self) -> datetime | None: ...
    @property
    def on_time(self) -> bool | None: ...
    @property
    def score(self) -> int | None: ...


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class CasePublic(_View):
    case_id: int
    state: CaseState
    priority: Priority
    severity: str
    alert_type: str
    source_kind: str
    source_id: str
    gateway_id: str
    area_id: int | None
    title: str
    occurrences: int
    reopen_count: int
    recurrence: bool = Field(description="re-opened at least once after closing")
    cleared: bool = Field(description="the source reported the condition over (sensor END)")
    latest_evidence_id: int | None
    latitude: float | None
    longitude: float | None
    assignee_id: int | None
    escalation_level: int = Field(description="0 worker, 1 grid leader, 2 community, 3 street")
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
    allowed_actions: list[str]

    @classmethod
    def of(cls, case: CaseLike) -> CasePublic:
        state = CaseState(case.state)
        assert case.id is not None, "a case's public view needs its id (insert it first)"
        return cls(
            case_id=case.id,
            state=state,
            priority=Priority(case.priority),
            severity=case.severity,
            alert_type=case.alert_type,
            source_kind=case.source_kind,
            source_id=case.source_id,
            gateway_id=case.gateway_id,
            area_id=case.area_id,
            title=case.title,
            occurrences=case.occurrences,
            reopen_count=case.reopen_count,
            recurrence=case.reopen_count > 0,
            cleared=case.cleared,
            latest_evidence_id=case.latest_evidence_id,
            latitude=case.latitude,
            longitude=case.longitude,
            assignee_id=case.assignee_id,
            escalation_level=case.escalation_level,
            accept_due_at=case.accept_due_at,
            handle_due_at=case.handle_due_at,
            created_at=case.created_at,
            updated_at=case.updated_at,
            dispatched_at=case.dispatched_at,
            accepted_at=case.accepted_at,
            handled_at=case.handled_at,
            closed_at=case.closed_at,
            on_time=case.on_time,
            score=case.score,
            allowed_actions=[a.value for a in allowed_actions(state)],
        )


class AlertPublic(_View):
    alert_id: int
    event_id: str
    episode_id: str
    phase: str
    gateway_id: str
    source_kind: str
    source_id: str
    alert_type: str
    severity: str
    title: str
    observed_at: datetime
    received_at: datetime
    cleared: bool
    evidence_id: int | None
    case_id: int | None
    detail: dict[str, object]

    @classmethod
    def of(cls, alert: Alert) -> AlertPublic:
        return cls(
            alert_id=alert.id,
            event_id=alert.event_id,
            episode_id=alert.episode_id,
            phase=alert.phase,
            gateway_id=alert.gateway_id,
            source_kind=alert.source_kind,
            source_id=alert.source_id,
            alert_type=alert.alert_type,
            severity=alert.severity,
            title=alert.title,
            observed_at=alert.observed_at,
            received_at=alert.received_at,
            cleared=alert.cleared,
            evidence_id=alert.evidence_id,
            case_id=alert.case_id,
            detail=alert.detail,
        )


class CaseEventPublic(_View):
    id: int
    case_id: int
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    note: str | None
    evidence_id: int | None

    @classmethod
    def of(cls, row: CaseEvent) -> CaseEventPublic:
        return cls(
            id=row.id,
            case_id=row.case_id,
            at=row.at,
            actor=row.actor,
            action=row.action,
            from_state=row.from_state,
            to_state=row.to_state,
            note=row.note,
            evidence_id=row.evidence_id,
        )
