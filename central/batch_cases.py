"""The batch path's new cases: inserted in one statement after an in-memory dispatch plan (the same rules as
one by one), then their audit records and feed items in one statement each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from central import bulk, feed
from central.correlate import Correlator
from central.db.models import Case, CaseEvent, FeedEvent
from central.states import CaseState, allowed_actions
from central.views import CasePublic


def insert_new_cases(session: Session, correlator: Correlator, created: list[tuple[Any, str]], now: datetime) -> None:
    """Insert the batch's new cases in one statement, dispatching the urgent ones first (same rules as
    one by one), then their audit records and feed items in one statement each."""
    if not created:
        return
    settings = correlator.settings
    urgent = [c for c, _ in created if c.priority in settings.auto_dispatch]
    notes = dict(zip(map(id, urgent), correlator.dispatcher.plan(session, urgent, now), strict=True))
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
    as_reported = {  # what the case looked like before the dispatch plan: its "created" feed item
        "state": CaseState.REPORTED.value,
        "assignee_id": None,
        "escalation_level": 0,
        "dispatched_at": None,
        "accept_due_at": None,
        "allowed_actions": [a.value for a in allowed_actions(CaseState.REPORTED)],
    }
    for case, event_id in created:
        final = CasePublic.of(case).model_dump(mode="json")
        area = feed.area_code(session, case.area_id)
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
                "data": {**final, **as_reported, "event_id": event_id},
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
            audit.append(_audit(case.id, now, "dispatch", CaseState.REGISTERED, CaseState.DISPATCHED, notes[id(case)]))
            items.append(
                {
                    **base,
                    "kind": "case.dispatched",
                    "assignee_id": case.assignee_id,
                    "data": final,
                }
            )
    # Core inserts: one statement each (the ORM's bulk path would go row by row on PostgreSQL).
    bulk.insert_rows(session, CaseEvent.__table__, audit)
    bulk.insert_rows(session, FeedEvent.__table__, items)


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
