"""The case audit trail: one entry per change to a case (who, what, from which state to which, why)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from central.db.models import CaseEvent
from central.states import CaseState

CASE_EVENTS = CaseEvent.__table__
HUB = "hub"  # the actor of everything the hub does by itself (report, register, dispatch, clear, escalate)


def entry(
    case_id: int,
    at: datetime,
    actor: str,
    action: str,
    from_state: CaseState | str | None,
    to_state: CaseState | str,
    note: str | None,
    evidence_id: int | None = None,
) -> dict[str, Any]:
    """An audit row (``case_events``) as a dict, ready for a multi-row insert or ``CaseEvent(**entry)``."""
    return {
        "case_id": case_id,
        "at": at,
        "actor": actor,
        "action": action,
        "from_state": _value(from_state),
        "to_state": _value(to_state),
        "note": note,
        "evidence_id": evidence_id,
    }


def hub_entry(
    case_id: int, at: datetime, action: str, from_state: CaseState | str | None, to_state: CaseState | str, note: str
) -> dict[str, Any]:
    """An audit row for a change the hub made by itself (actor ``hub``)."""
    return entry(case_id, at, HUB, action, from_state, to_state, note)


def _value(state: CaseState | str | None) -> str | None:
    return state.value if isinstance(state, CaseState) else state
