"""Key figures per grid and per worker: open, overdue, on-time rate, mean time to accept and to close."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from central.db.engine import Database
from central.db.models import Area, Case, User
from central.states import TERMINAL, CaseState


class Kpi(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    open: int
    overdue: int
    closed: int
    on_time_rate: float | None
    mean_accept_s: float | None
    mean_close_s: float | None


class KpiReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    by_grid: list[Kpi]
    by_worker: list[Kpi]


def _overdue(case: Case, now: datetime) -> bool:
    if case.state == CaseState.DISPATCHED.value and case.accept_due_at is not None:
        return case.accept_due_at < now
    if case.state == CaseState.ACCEPTED.value and case.handle_due_at is not None:
        return case.handle_due_at < now
    return False


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def summarise(key: str, cases: Iterable[Case], now: datetime) -> Kpi:
    rows = list(cases)
    open_rows = [c for c in rows if CaseState(c.state) not in TERMINAL]
    closed = [c for c in rows if c.state == CaseState.CLOSED.value]
    on_time = [c for c in closed if c.on_time is not None]
    accept = [
        (c.accepted_at - c.dispatched_at).total_seconds() for c in rows if c.accepted_at and c.dispatched_at
    ]
    close = [(c.closed_at - c.created_at).total_seconds() for c in closed if c.closed_at]
    return Kpi(
        key=key,
        open=len(open_rows),
        overdue=sum(_overdue(c, now) for c in open_rows),
        closed=len(closed),
        on_time_rate=round(sum(c.on_time for c in on_time) / len(on_time), 4) if on_time else None,
        mean_accept_s=_mean(accept),
        mean_close_s=_mean(close),
    )


def report(db: Database, now: datetime, area_id: int | None = None) -> KpiReport:
    query = select(Case).where(Case.state != CaseState.REJECTED.value)
    if area_id is not None:
        query = query.where(Case.area_id == area_id)
    with db.session() as session:
        cases = list(session.scalars(query))
        codes = {a.id: a.code for a in session.scalars(select(Area))}
        names = {u.id: u.username for u in session.scalars(select(User))}
    by_grid: dict[str, list[Case]] = defaultdict(list)
    by_worker: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        by_grid[codes.get(case.area_id, "(no grid)")].append(case)
        if case.assignee_id is not None:
            by_worker[names.get(case.assignee_id, str(case.assignee_id))].append(case)
    return KpiReport(
        at=now,
        by_grid=[summarise(k, v, now) for k, v in sorted(by_grid.items())],
        by_worker=[summarise(k, v, now) for k, v in sorted(by_worker.items())],
    )
