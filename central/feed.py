"""The live feed: alert and case changes appended to a table with increasing ids, read back after an id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from central.db.models import Area, Case, FeedEvent
from central.views import CasePublic


@dataclass(frozen=True, slots=True)
class FeedFilter:
    """What a reader wants to see; None = everything. ``assignee_id`` limits a grid worker to their tasks."""

    area_code: str | None = None
    alert_type: str | None = None
    priority: str | None = None
    assignee_id: int | None = None
    area_codes: frozenset[str] | None = None  # a grid leader: only these areas (theirs and those beneath)


def area_code(session: Session, area_id: int | None) -> str | None:
    if area_id is None:
        return None
    codes: dict[int, str | None] = session.info.setdefault("area_codes", {})  # one query per area per session
    if area_id not in codes:
        area = session.get(Area, area_id)
        codes[area_id] = area.code if area else None
    return codes[area_id]


def case_item(session: Session, kind: str, case: Case, now: datetime, **extra: Any) -> dict[str, Any]:
    """A feed row for a case change, as a dict ready for a (multi-row) insert."""
    data = CasePublic.of(case).model_dump(mode="json")
    data.update(extra)
    return {
        "at": now,
        "kind": kind,
        "case_id": case.id,
        "area_code": area_code(session, case.area_id),
        "alert_type": case.alert_type,
        "priority": case.priority,
        "assignee_id": case.assignee_id,
        "data": data,
    }


def insert_items(session: Session, items: list[dict[str, Any]]) -> None:
    """Insert many feed rows with one multi-row statement (a Core insert: the ORM's bulk path would go row
    by row on PostgreSQL)."""
    if items:
        session.execute(insert(FeedEvent.__table__), items)


def append_case(session: Session, kind: str, case: Case, now: datetime, **extra: Any) -> None:
    """Record a case change (``case.created``, ``case.dispatched``, ``case.escalated`` ...) on the feed."""
    if case.id is None:
        session.flush()
    session.add(FeedEvent(**case_item(session, kind, case, now, **extra)))


def read_after(session: Session, after_id: int, flt: FeedFilter, limit: int = 500) -> list[FeedEvent]:
    query = select(FeedEvent).where(FeedEvent.id > after_id).order_by(FeedEvent.id).limit(limit)
    if flt.area_code is not None:
        query = query.where(FeedEvent.area_code == flt.area_code)
    if flt.alert_type is not None:
        query = query.where(FeedEvent.alert_type == flt.alert_type)
    if flt.priority is not None:
        query = query.where(FeedEvent.priority == flt.priority)
    if flt.assignee_id is not None:
        query = query.where(FeedEvent.assignee_id == flt.assignee_id)
    if flt.area_codes is not None:
        query = query.where(FeedEvent.area_code.in_(flt.area_codes))
    return list(session.scalars(query))


def latest_id(session: Session) -> int:
    """The newest feed id (0 when empty): a new reader starts after it unless it asks to resume."""
    return int(session.scalar(select(func.max(FeedEvent.id))) or 0)
