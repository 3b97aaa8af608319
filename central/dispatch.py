"""Routing and escalation: pick who handles a case, and move overdue tasks up the grid hierarchy."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from central import audit, feed
from central.clock import Clock
from central.db.engine import Database
from central.db.models import Area, Case, CaseEvent, Shift, User
from central.settings import CaseSettings
from central.states import CaseState, Role

log = logging.getLogger(__name__)

LEVEL_NAMES = ("grid worker", "grid leader", "community", "street")
_ACTIVE = (CaseState.DISPATCHED.value, CaseState.ACCEPTED.value)


@dataclass
class _Candidate:
    """A worker on shift as the batch planner sees them; ``seq`` orders assignments within one batch."""

    user_id: int
    username: str
    open_tasks: int
    last_assigned_at: datetime | None
    seq: int = -1

    def rank(self) -> tuple[int, datetime, int, int]:
        return (self.open_tasks, self.last_assigned_at or _NEVER, self.seq, self.user_id)


_NEVER = datetime.min.replace(tzinfo=UTC)


def _roster(session: Session, grid_id: int, now: datetime) -> list[_Candidate]:
    open_tasks = (
        select(func.count(Case.id))
        .where(Case.assignee_id == User.id, Case.state.in_(_ACTIVE))
        .correlate(User)
        .scalar_subquery()
    )
    on_shift = select(Shift.id).where(Shift.user_id == User.id, Shift.starts_at <= now, Shift.ends_at > now)
    query = select(User.id, User.username, open_tasks, User.last_assigned_at).where(
        User.role == Role.GRID_WORKER.value, User.area_id == grid_id, User.active.is_(True), on_shift.exists()
    )
    return [_Candidate(*row) for row in session.execute(query)]


def _leader_of(session: Session, area_id: int | None) -> User | None:
    if area_id is None:
        return None
    query = (
        select(User)
        .where(User.role == Role.GRID_LEADER.value, User.area_id == area_id, User.active.is_(True))
        .order_by(User.id)
        .limit(1)
    )
    return session.scalars(query).first()


def _area_at_level(session: Session, grid_id: int | None, level: int) -> int | None:
    """Level 1 = the grid itself (its leader), 2 = its community, 3 = its street."""
    area_id = grid_id
    for _ in range(max(level - 1, 0)):
        area = session.get(Area, area_id) if area_id is not None else None
        area_id = area.parent_id if area else None
    return area_id


class Dispatchable(Protocol):
    """A case as dispatch reads and changes it: a stored ``Case`` or a batch's plain ``CaseRow``."""

    area_id: int | None
    alert_type: str
    state: str
    assignee_id: int | None
    escalation_level: int
    dispatched_at: datetime | None
    accept_due_at: datetime | None
    updated_at: datetime


class RosterPlan:
    """Assignments for one transaction: one roster query per grid, the load balanced in memory as cases are
    assigned one after another (the same rules for a batch of new cases and for one case). ``finish()`` notes
    when each chosen worker was last assigned."""

    def __init__(self, session: Session, settings: CaseSettings, now: datetime) -> None:
        self.session = session
        self.settings = settings
        self.now = now
        self._rosters: dict[int | None, list[_Candidate]] = {}
        self._leaders: dict[int | None, User | None] = {}
        self._assigned: dict[int, datetime] = {}
        self._seq = 0

    def assign(self, case: Dispatchable) -> tuple[CaseState, str]:
        """registered -> dispatched: a worker on shift with the fewest open tasks, else the grid leader; the
        accept timer started. Returns the state it came from and the audit note (who, at which level)."""
        area, now = case.area_id, self.now
        if area not in self._rosters:
            self._rosters[area] = _roster(self.session, area, now) if area is not None else []
            self._leaders[area] = _leader_of(self.session, area)
        self._seq += 1
        if self._rosters[area]:
            chosen = min(self._rosters[area], key=_Candidate.rank)
            chosen.open_tasks += 1
            chosen.last_assigned_at, chosen.seq = now, self._seq
            self._assigned[chosen.user_id] = now
            user_id, who, level = chosen.user_id, chosen.username, 0
        else:
            leader = self._leaders[area]
            user_id, level = (leader.id if leader else None), 1
            who = leader.username if leader else "nobody (no worker on shift, no grid leader)"
        from_state = CaseState(case.state)
        case.state = CaseState.DISPATCHED.value
        case.assignee_id, case.escalation_level = user_id, level
        case.dispatched_at = case.updated_at = now
        case.accept_due_at = now + timedelta(seconds=self.settings.sla_for(case.alert_type).accept_s)
        return from_state, f"assigned to {who} ({LEVEL_NAMES[level]})"

    def finish(self) -> None:
        if self._assigned:
            self.session.execute(
                update(User), [{"id": uid, "last_assigned_at": at} for uid, at in self._assigned.items()]
            )
            self._assigned.clear()


class Dispatcher:
    def __init__(self, settings: CaseSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    def plan(self, session: Session, now: datetime) -> RosterPlan:
        return RosterPlan(session, self.settings, now)

    def dispatch(self, session: Session, case: Case, actor: str, now: datetime, note: str | None = None) -> None:
        """registered -> dispatched for one stored case, recorded and announced. ``note`` (an operator's
        words) goes into the audit record after the assignment."""
        plan = self.plan(session, now)
        from_state, assigned = plan.assign(case)
        plan.finish()
        text = assigned + (f": {note}" if note else "")
        session.add(CaseEvent(**audit.entry(case.id, now, actor, "dispatch", from_state, case.state, text)))
        feed.append_case(session, "case.dispatched", case, now)

    def sweep(self, db: Database) -> int:
        """Escalate every dispatched case whose accept deadline passed; safe with several hub replicas."""
        now = self.clock.now()
        with db.session() as session:
            due = session.execute(
                select(Case.id, Case.accept_due_at)
                .where(Case.state == CaseState.DISPATCHED.value, Case.accept_due_at <= now)
                .limit(200)
            ).all()
        escalated = 0
        for case_id, due_at in due:
            with db.session() as session:
                if self._escalate(session, case_id, due_at, now):
                    escalated += 1
        return escalated

    def _escalate(self, session: Session, case_id: int, due_at: datetime, now: datetime) -> bool:
        case = session.get(Case, case_id)
        if case is None:
            return False
        level = case.escalation_level + 1
        last = level >= len(LEVEL_NAMES) - 1
        next_due = None if last else now + timedelta(seconds=self.settings.sla_for(case.alert_type).accept_s)
        # Claim the timer atomically: only the replica whose UPDATE still sees the old deadline escalates.
        claimed = session.execute(
            update(Case)
            .where(
                and_(
                    Case.id == case_id, Case.state == CaseState.DISPATCHED.value, Case.accept_due_at == due_at
                )
            )
            .values(accept_due_at=next_due, escalation_level=min(level, len(LEVEL_NAMES) - 1), updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            return False
        session.refresh(case)
        leader = _leader_of(session, _area_at_level(session, case.area_id, case.escalation_level))
        previous = case.assignee_id
        if leader is not None:
            case.assignee_id = leader.id
        note = (
            f"not accepted in time: escalated to {LEVEL_NAMES[case.escalation_level]}"
            f" ({leader.username if leader else 'nobody registered at that level'})"
        )
        session.add(CaseEvent(**audit.hub_entry(case.id, now, "escalate", case.state, case.state, note)))
        feed.append_case(session, "case.escalated", case, now, previous_assignee_id=previous)
        log.info("case %s escalated to level %s", case.id, case.escalation_level)
        return True
