"""The live feed: alert and case changes appended to a table with increasing ids, read back after an id, and
a bell that wakes this process's readers once a transaction that wrote feed items has committed."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from central import bulk
from central.db.engine import Database
from central.db.listen import PgListener
from central.db.models import Area, FeedEvent
from central.states import CaseState, allowed_actions
from central.views import CaseLike, CasePublic

log = logging.getLogger(__name__)


class FeedKind(StrEnum):
    """Every kind of live-feed item: the SSE event name the consoles listen for (served by /api/v1/meta)."""

    CREATED = "case.created"  # ingest: a new case
    REPEATED = "case.repeated"  # ingest: the same alert again on an open case
    UPDATED = "case.updated"  # ingest: an UPDATE of the episode
    FOLDED = "case.folded"  # ingest: an alert folded into a related open case
    CLEARED = "case.cleared"  # ingest: the episode ended
    REOPENED = "case.reopened"  # ingest: a recently closed case came back
    # a case action's target state (central/cases.py): "case.<state>"
    REPORTED = "case.reported"
    REGISTERED = "case.registered"
    REJECTED = "case.rejected"
    DISPATCHED = "case.dispatched"
    ACCEPTED = "case.accepted"
    HANDLED = "case.handled"
    CLOSED = "case.closed"
    REASSIGNED = "case.reassigned"
    FEEDBACK = "case.feedback"
    ESCALATED = "case.escalated"


CHANNEL = "gridwatch_feed"  # PostgreSQL notification channel: "feed items were committed"
_WRITTEN = "feed_written"  # session.info flag: this transaction wrote feed items
_AS_REPORTED = {  # a new case as it was reported, before an automatic dispatch: its "case.created" item
    "state": CaseState.REPORTED.value,
    "assignee_id": None,
    "escalation_level": 0,
    "dispatched_at": None,
    "accept_due_at": None,
    "allowed_actions": [a.value for a in allowed_actions(CaseState.REPORTED)],
}


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


def case_item(
    session: Session,
    kind: str,
    case: CaseLike,
    now: datetime,
    *,
    as_reported: bool = False,
    public: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A feed row for a case change, as a dict ready for a (multi-row) insert. ``as_reported``: the case as
    it was reported, before an automatic dispatch in the same transaction changed it (its created item).
    ``public``: the case's public view as JSON, when the caller has it already (one case, several items)."""
    kind = FeedKind(kind).value  # a kind missing from FeedKind fails here, in every test that writes it
    data = dict(public) if public is not None else public_json(case)
    if as_reported:
        data.update(_AS_REPORTED)
    data.update(extra)
    return {
        "at": now,
        "kind": kind,
        "case_id": case.id,
        "area_code": area_code(session, case.area_id),
        "alert_type": case.alert_type,
        "priority": case.priority,
        "assignee_id": None if as_reported else case.assignee_id,
        "data": data,
    }


def public_json(case: CaseLike) -> dict[str, Any]:
    """The case's public view as the feed carries it."""
    return CasePublic.of(case).model_dump(mode="json")


def insert_items(session: Session, items: list[dict[str, Any]]) -> None:
    """Insert many feed rows with one statement (``bulk.insert_rows``: on PostgreSQL one JSON document, in
    input order, so a case's "created" item precedes its "dispatched" one)."""
    if items:
        bulk.insert_rows(session, FeedEvent.__table__, items)
        _announce(session)


def append_case(session: Session, kind: str, case: CaseLike, now: datetime, **extra: Any) -> None:
    """Record a case change (``case.dispatched``, ``case.escalated`` ...) of a stored case on the feed."""
    if case.id is None:
        session.flush()
    session.add(FeedEvent(**case_item(session, kind, case, now, **extra)))
    _announce(session)


def _announce(session: Session) -> None:
    """Ring the bells once this transaction commits: this process's (``FeedBell``) and, on PostgreSQL, every
    listening process's (a NOTIFY is delivered at commit, and not at all on rollback)."""
    session.info[_WRITTEN] = True
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


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


class FeedBell:
    """Wakes the live-feed readers (SSE streams) of this process when new feed items are committed.

    Commits made by this process ring it directly (SQLAlchemy's ``after_commit``, on the writer's thread).
    On PostgreSQL a listener thread also rings it on every ``NOTIFY`` from any process sharing the database;
    it runs while readers wait, so ingest-only workers hold no listening connection. On SQLite, commits
    by other processes (ingest workers) reach readers by their fallback poll only.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._listener: PgListener | None = None
        self._closed = False
        self._sleeping = 0
        event.listen(Session, "after_commit", self._after_commit)

    def ring(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for loop, wake in waiters:
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:  # that reader's loop closed under it: nothing left to wake
                pass

    @property
    def sleeping(self) -> int:
        """How many readers are waiting for the bell now (they have read everything there was)."""
        return self._sleeping

    @asynccontextmanager
    async def subscription(self) -> AsyncIterator[FeedWaiter]:
        """A waiter woken whenever feed items may have been committed (``clear()`` it before each read)."""
        wake = asyncio.Event()
        entry = (asyncio.get_running_loop(), wake)
        with self._lock:
            self._waiters.add(entry)
            if self._listener is None and not self.db.is_sqlite and not self._closed:
                self._listener = PgListener(self.db.engine.url, CHANNEL, self.ring)
        try:
            yield FeedWaiter(self, wake)
        finally:
            with self._lock:
                self._waiters.discard(entry)
                listener = self._listener if not self._waiters else None
                if listener is not None:
                    self._listener = None
            if listener is not None:
                listener.stop(wait=False)  # no reader left: give its connection back (on a loop thread: no join)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            listener, self._listener = self._listener, None
        if event.contains(Session, "after_commit", self._after_commit):
            event.remove(Session, "after_commit", self._after_commit)
        if listener is not None:
            listener.stop()

    def _after_commit(self, session: Session) -> None:
        if session.bind is self.db.engine and session.info.pop(_WRITTEN, False):
            self.ring()


class FeedWaiter:
    """One reader's side of the bell."""

    def __init__(self, bell: FeedBell, wake: asyncio.Event) -> None:
        self._bell = bell
        self._wake = wake

    def clear(self) -> None:
        self._wake.clear()

    async def wait(self, timeout_s: float) -> None:
        """Until the bell rings (or rang since ``clear()``), or ``timeout_s`` passed."""
        self._bell._sleeping += 1  # noqa: SLF001 - the bell's own count, kept by its waiters on one loop
        try:
            await asyncio.wait_for(self._wake.wait(), timeout_s)
        except TimeoutError:
            pass
        finally:
            self._bell._sleeping -= 1  # noqa: SLF001
