"""The case service: every state transition a person makes, with role checks and an audit record each."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from central import audit, feed
from central.auth import Principal
from central.clock import Clock
from central.db.engine import Database
from central.db.models import Alert, Case, CaseEvent, Evidence, User
from central.dispatch import Dispatcher
from central.errors import Conflict, Forbidden, Invalid, NotFound
from central.evidence import EvidenceStore, check_file_name
from central.states import TRANSITIONS, CaseAction, CaseState, Role, allowed_actions
from central.views import AlertPublic, CasePublic

STAFF = frozenset({Role.ADMIN, Role.OPERATOR})
FIELD = frozenset({Role.GRID_WORKER, Role.GRID_LEADER})

# Who may do what: operators triage and verify; the assignee (or staff) works the task.
ACTION_ROLES: dict[CaseAction, frozenset[Role]] = {
    CaseAction.REGISTER: STAFF,
    CaseAction.REJECT: STAFF,
    CaseAction.DISPATCH: STAFF,
    CaseAction.ACCEPT: STAFF | FIELD,
    CaseAction.HANDLE: STAFF | FIELD,
    CaseAction.CLOSE: STAFF,
    CaseAction.SEND_BACK: STAFF,
}


def check_transition(case_id: int, state: CaseState, action: CaseAction) -> CaseState:
    """The state ``action`` leads to from ``state``; else Conflict naming current and allowed."""
    sources, target = TRANSITIONS[action]
    if state not in sources:
        allowed = ", ".join(a.value for a in allowed_actions(state)) or "none (the case is finished)"
        raise Conflict(
            f"case {case_id} is '{state.value}': '{action.value}' is allowed only from "
            f"{', '.join(sorted(s.value for s in sources))}; allowed now: {allowed}"
        )
    return target


class CaseService:
    def __init__(self, db: Database, dispatcher: Dispatcher, clock: Clock, evidence: EvidenceStore) -> None:
        self.db = db
        self.dispatcher = dispatcher
        self.clock = clock
        self.evidence = evidence

    # -- reading ---------------------------------------------------------------------------------------

    def get(self, who: Principal, case_id: int) -> CasePublic:
        with self.db.session() as session:
            return CasePublic.of(self._visible(session, who, case_id))

    def list(
        self,
        who: Principal,
        *,
        state: str | None = None,
        priority: str | None = None,
        area_id: int | None = None,
        mine: bool = False,
        limit: int = 100,
        offset: int = 0,
    ) -> list[CasePublic]:
        query = select(Case).order_by(Case.id.desc()).limit(limit).offset(offset)
        if who.role in FIELD or mine:
            query = query.where(Case.assignee_id == who.user_id)
        elif who.role not in STAFF:
            raise Forbidden(f"role '{who.role.value}' may not read cases")
        if state is not None:
            query = query.where(Case.state == state)
        if priority is not None:
            query = query.where(Case.priority == priority)
        if area_id is not None:
            query = query.where(Case.area_id == area_id)
        with self.db.session() as session:
            return [CasePublic.of(c) for c in session.scalars(query)]

    def alerts(self, *, case_id: int | None, limit: int) -> list[AlertPublic]:
        query = select(Alert).order_by(Alert.id.desc()).limit(limit)
        if case_id is not None:
            query = query.where(Alert.case_id == case_id)
        with self.db.session() as session:
            return [AlertPublic.of(a) for a in session.scalars(query)]

    def evidence_file(self, who: Principal, evidence_id: int) -> tuple[Path, str]:
        """Path and content type of an evidence file (staff, or a worker for evidence of their cases)."""
        with self.db.session() as session:
            row = session.get(Evidence, evidence_id)
            if row is None:
                raise NotFound(f"evidence {evidence_id} not found")
            if who.role in FIELD:
                linked = session.scalars(
                    select(Case.id).where(
                        Case.assignee_id == who.user_id,
                        Case.id.in_(
                            select(Alert.case_id)
                            .where(Alert.evidence_id == evidence_id)
                            .union(select(CaseEvent.case_id).where(CaseEvent.evidence_id == evidence_id))
                        ),
                    )
                ).first()
                if linked is None:
                    raise NotFound(f"evidence {evidence_id} not found among your cases")
            elif who.role not in STAFF:
                raise Forbidden(f"role '{who.role.value}' may not read evidence")
            return self.evidence.path_of(row.relpath), row.content_type

    def history(self, who: Principal, case_id: int) -> list[CaseEvent]:
        with self.db.session() as session:
            self._visible(session, who, case_id)
            return list(
                session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))
            )

    # -- acting --------------------------------------------------------------------------------------

    def act(
        self,
        who: Principal,
        case_id: int,
        action: CaseAction,
        *,
        note: str | None = None,
        score: int | None = None,
    ) -> CasePublic:
        if who.role not in ACTION_ROLES[action]:
            raise Forbidden(
                f"role '{who.role.value}' may not '{action.value}' a case: allowed for "
                f"{', '.join(sorted(r.value for r in ACTION_ROLES[action]))}"
            )
        if action is CaseAction.REJECT and not note:
            raise Invalid("rejecting a case needs a reason: give 'note'")
        now = self.clock.now()
        with self.db.session() as session:
            case = self._visible(session, who, case_id, for_update=True)
            state = CaseState(case.state)
            target = check_transition(case.id, state, action)
            if action is CaseAction.DISPATCH:
                # Routed by the same rules as the hub's own dispatch, which records and announces it.
                self.dispatcher.dispatch(session, case, who.username, now, note)
                return CasePublic.of(case)
            self._record(session, case, who.username, action.value, state, target, note, now)
            self._apply(session, case, action, target, now, score)
            if action is CaseAction.REGISTER and self.dispatcher.settings.dispatch_on_register:
                self.dispatcher.dispatch(session, case, who.username, now)
            return CasePublic.of(case)

    def _apply(
        self,
        session: Session,
        case: Case,
        action: CaseAction,
        target: CaseState,
        now: datetime,
        score: int | None,
    ) -> None:
        case.state = target.value
        case.updated_at = now
        if action is CaseAction.ACCEPT:
            case.accepted_at = now
            case.accept_due_at = None
            case.handle_due_at = now + timedelta(
                seconds=self.dispatcher.settings.sla_for(case.alert_type).handle_s
            )
        elif action is CaseAction.HANDLE:
            case.handled_at = now
        elif action is CaseAction.SEND_BACK:
            case.dispatched_at = now
            case.accept_due_at = now + timedelta(
                seconds=self.dispatcher.settings.sla_for(case.alert_type).accept_s
            )
            case.handle_due_at = None
        elif action in (CaseAction.CLOSE, CaseAction.REJECT):
            case.closed_at = now
            case.open_key = None
            case.accept_due_at = None
            if action is CaseAction.CLOSE:
                case.on_time = case.handle_due_at is None or (case.handled_at or now) <= case.handle_due_at
                case.score = score
        feed.append_case(session, f"case.{target.value}", case, now)

    def reassign(self, who: Principal, case_id: int, username: str, note: str | None) -> CasePublic:
        if who.role not in STAFF | {Role.GRID_LEADER}:
            raise Forbidden(
                f"role '{who.role.value}' may not reassign cases: allowed for admin, operator, grid_leader"
            )
        now = self.clock.now()
        with self.db.session() as session:
            case = self._visible(session, who, case_id, for_update=True)
            if case.state not in (CaseState.DISPATCHED.value, CaseState.ACCEPTED.value):
                raise Conflict(
                    f"case {case_id} is '{case.state}': only dispatched or accepted cases can be reassigned"
                )
            user = session.scalars(select(User).where(User.username == username)).first()
            if user is None or user.role not in (Role.GRID_WORKER.value, Role.GRID_LEADER.value):
                raise Invalid(f"assignee {username!r} is not a grid worker or grid leader")
            case.assignee_id = user.id
            case.updated_at = now
            self._record(
                session,
                case,
                who.username,
                "reassign",
                CaseState(case.state),
                CaseState(case.state),
                note or f"reassigned to {username}",
                now,
            )
            feed.append_case(session, "case.reassigned", case, now)
            return CasePublic.of(case)

    def feedback(
        self, who: Principal, case_id: int, note: str | None, photo: bytes | None, file_name: str | None
    ) -> CaseEventPublicTuple:
        """Add a note and/or a photo to a case (assignee or staff); photos are sniffed, never trusted."""
        if who.role not in STAFF | FIELD:
            raise Forbidden(f"role '{who.role.value}' may not add feedback to cases")
        if not note and photo is None:
            raise Invalid("feedback needs a 'note' or a 'photo'")
        name = check_file_name(file_name)
        if photo is not None:
            self.evidence.check_image(photo)  # refused before the case is locked
        now = self.clock.now()
        with self.db.session() as session:
            case = self._visible(session, who, case_id, for_update=True)
            # written only once the case is known to be the caller's: no orphan files from refused uploads
            stored = self.evidence.put_image(photo) if photo is not None else None
            evidence_id = None
            if stored is not None:
                row = Evidence(
                    sha256=stored.sha256,
                    relpath=stored.relpath,
                    content_type=stored.content_type,
                    size_bytes=stored.size_bytes,
                    original_name=name,
                    created_at=now,
                )
                session.add(row)
                session.flush()
                evidence_id = row.id
            state = CaseState(case.state)
            event = self._record(
                session, case, who.username, "feedback", state, state, note, now, evidence_id
            )
            case.updated_at = now
            feed.append_case(session, "case.feedback", case, now, note=note, evidence_id=evidence_id)
            session.flush()
            return event.id, evidence_id

    # -- helpers ---------------------------------------------------------------------------------------

    def _visible(self, session: Session, who: Principal, case_id: int, for_update: bool = False) -> Case:
        query = select(Case).where(Case.id == case_id)
        if for_update and not self.db.is_sqlite:
            query = query.with_for_update()
        case = session.scalars(query).first()
        if who.role not in STAFF | FIELD:
            raise Forbidden(f"role '{who.role.value}' may not read or change cases")
        if case is None or (who.role in FIELD and case.assignee_id != who.user_id):
            # A worker cannot tell someone else's case from a missing one.
            raise NotFound(
                f"case {case_id} not found among your cases"
                if who.role in FIELD
                else f"case {case_id} not found"
            )
        return case

    @staticmethod
    def _record(
        session: Session,
        case: Case,
        actor: str,
        action: str,
        from_state: CaseState,
        to_state: CaseState,
        note: str | None,
        now: datetime,
        evidence_id: int | None = None,
    ) -> CaseEvent:
        row = CaseEvent(**audit.entry(case.id, now, actor, action, from_state, to_state, note, evidence_id))
        session.add(row)
        return row


CaseEventPublicTuple = tuple[int, int | None]
