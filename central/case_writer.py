"""The one case writer: a batch's case changes (``central.decide``) as alert rows, case rows, audit entries and
feed items, each built in one place and written set-based.

One transaction per batch, a few statements whatever its size: new cases in one insert (those of an urgent
priority dispatched in memory first), the stored cases the batch repeats, folds into or clears in one
``UPDATE`` (counters added in SQL, so two ingest processes repeating one case both count), the alerts in one
insert, then the audit entries and the feed items in one insert each. A single event (HTTP, a gateway's status)
is a batch of one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, func, insert, update
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from central import audit, bulk, feed
from central.case_effects import RANK, AuditNote, BatchEffects, Item, Tally
from central.db.models import Alert, Evidence, Gateway
from central.decide import (
    Change,
    Clear,
    Duplicate,
    Fold,
    NewCase,
    Outcome,
    Rejected,
    Reopen,
    Repeat,
    ended_episodes,
)
from central.dispatch import Dispatcher
from central.errors import HubError, IngestRejected
from central.evidence import EvidenceStore
from central.known import CASES, DEVICE_TABLES, CaseRow, Reads
from central.settings import CaseSettings
from central.sources import seen_due
from central.states import CaseState
from kernel.contracts.messages import AlertEvent, SourceKind

_FEED_EVENT_IDS = 50  # event ids listed on one aggregated repeat item (its "repeats" counts them all)


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What became of one event, with its alert and case ids (None where it stored none)."""

    event_id: str
    outcome: Outcome
    alert_id: int | None
    case_id: int | None


Result = IngestResult | IngestRejected


class CaseConflict(HubError):
    """Another writer changed a case this batch was about to change (re-opened it first): retry the batch."""


class CaseWriter:
    """Writes a batch's changes in the current transaction (the caller commits)."""

    def __init__(self, settings: CaseSettings, dispatcher: Dispatcher, evidence: EvidenceStore) -> None:
        self.settings = settings
        self.dispatcher = dispatcher
        self.evidence = evidence

    def write(
        self,
        session: Session,
        changes: Sequence[Change],
        reads: Reads,
        snapshots: Mapping[str, bytes],
        now: datetime,
    ) -> list[Result]:
        """Store ``changes`` (one per event, from ``decide``); results in the same order."""
        batch = BatchEffects(reads.cases, self.dispatcher.plan(session, now), self.settings.reopen_window_s, now)
        evidence = self._store_evidence(session, changes, snapshots, now)
        for change in changes:
            if isinstance(change, NewCase | Repeat | Fold | Clear | Reopen):
                batch.apply(change, evidence.get(change.event.event_id))
        batch.plan.finish()
        _insert_cases(session, batch.new)
        _reopen_cases(session, batch.reopened, now)
        _clear_stored_alerts(session, ended_episodes(changes))
        alert_ids = _insert_alerts(session, changes, batch, evidence, now)
        _update_cases(session, list(batch.tallies.values()))
        _mark_seen(session, changes, reads, now)
        bulk.insert_rows(session, audit.CASE_EVENTS, [_audit_row(a, now) for a in batch.audit])
        public: dict[int, dict[str, Any]] = {}  # each case's view once, however many items it has
        items = [_feed_row(session, item, public, now) for item in batch.items]
        feed.insert_items(session, items)
        return _results(changes, batch, alert_ids)

    def _store_evidence(
        self, session: Session, changes: Sequence[Change], snapshots: Mapping[str, bytes], now: datetime
    ) -> dict[str, int]:
        """Snapshot files of the stored events and their evidence rows (few: one statement each)."""
        ids: dict[str, int] = {}
        for change in changes:
            data = snapshots.get(change.event.event_id)
            if data is None or isinstance(change, Duplicate | Rejected):
                continue
            stored = self.evidence.put_image(data)
            row = {
                "sha256": stored.sha256,
                "relpath": stored.relpath,
                "content_type": stored.content_type,
                "size_bytes": stored.size_bytes,
                "original_name": None,
                "created_at": now,
            }
            table = Evidence.__table__
            ids[change.event.event_id] = session.execute(insert(table).returning(table.c.id), row).scalar_one()
        return ids


# -- the rows, each built in one place -------------------------------------------------------------------


def alert_row(
    event: AlertEvent, now: datetime, case_id: int | None, evidence_id: int | None, cleared: bool
) -> dict[str, Any]:
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
        "cleared": cleared,
        "evidence_id": evidence_id,
        "case_id": case_id,
    }


def _audit_row(entry: AuditNote, now: datetime) -> dict[str, Any]:
    assert entry.row.id is not None
    return audit.hub_entry(entry.row.id, now, entry.action, entry.from_state, entry.to_state, entry.note)


def _feed_row(session: Session, item: Item, public: dict[int, dict[str, Any]], now: datetime) -> dict[str, Any]:
    extra = dict(item.extra)
    if item.event_ids:
        extra.update(
            event_id=item.event_ids[-1], event_ids=item.event_ids[-_FEED_EVENT_IDS:], repeats=len(item.event_ids)
        )
    view = public.get(id(item.row))
    if view is None:
        view = public[id(item.row)] = feed.public_json(item.row)
    return feed.case_item(session, item.kind, item.row, now, as_reported=item.as_reported, public=view, **extra)


# -- statements ------------------------------------------------------------------------------------------


def _insert_cases(session: Session, new: dict[str, CaseRow]) -> None:
    """The batch's new cases in one insert; each has its own open key, which matches ids back to rows."""
    inserted = dict(
        bulk.insert_rows(session, CASES, [row.columns() for row in new.values()], ("open_key", "id"))  # type: ignore[arg-type]
    )
    for key, row in new.items():
        row.id = inserted[key]


def _reopen_cases(session: Session, rows: list[CaseRow], now: datetime) -> None:
    """Re-opened cases, each only if still closed: another ingest process re-opening it first is a conflict
    (the batch is then retried, and sees the case open)."""
    c = CASES.c
    for row in rows:
        values = {
            "open_key": row.open_key,
            "reopen_count": c.reopen_count + 1,
            "occurrences": c.occurrences + 1,
            "cleared": False,
            "closed_at": None,
            "on_time": None,
            "accepted_at": None,
            "handled_at": None,
            "handle_due_at": None,
            "state": row.state,
            "assignee_id": row.assignee_id,
            "escalation_level": row.escalation_level,
            "dispatched_at": row.dispatched_at,
            "accept_due_at": row.accept_due_at,
            "latest_evidence_id": row.latest_evidence_id,
            "updated_at": now,
        }
        statement = update(CASES).where(c.id == row.id, c.state == CaseState.CLOSED.value).values(values)
        if session.execute(statement).rowcount != 1:
            raise CaseConflict(f"case {row.id} changed while being re-opened")


def _clear_stored_alerts(session: Session, episodes: set[str]) -> None:
    """Alerts stored before of the episodes an END in this batch clears (this batch's own rows go in cleared)."""
    table = Alert.__table__
    for condition in bulk.one_of(session, table.c.episode_id, episodes):
        session.execute(update(table).where(condition, table.c.cleared.is_(False)).values(cleared=True))


def _insert_alerts(
    session: Session, changes: Sequence[Change], batch: BatchEffects, evidence: Mapping[str, int], now: datetime
) -> dict[str, int]:
    rows = []
    for change in changes:
        if isinstance(change, NewCase | Repeat | Fold | Clear | Reopen):
            event = change.event
            case_id = batch.row(change.case).id if change.case is not None else None
            rows.append(alert_row(event, now, case_id, evidence.get(event.event_id), change.alert_cleared))
    inserted = bulk.insert_rows(session, Alert.__table__, rows, ("event_id", "id"))
    return {event_id: alert_id for event_id, alert_id in inserted}


def _update_cases(session: Session, tallies: list[Tally]) -> None:
    """One UPDATE for every stored case the batch repeated, folded into or cleared: occurrences added, cleared
    set as the batch left it, severity raised (never lowered) and evidence replaced against the stored row,
    not the one read before."""
    c = CASES.c

    def rank(severity: ColumnElement[Any]) -> ColumnElement[int]:
        return sql_case(RANK, value=severity, else_=-1)

    def values(incoming: bulk.Fields) -> dict[str, ColumnElement[Any]]:
        raise_it = rank(incoming["severity"]) > rank(c.severity)
        return {
            "occurrences": c.occurrences + incoming["added"],
            "cleared": sql_case((incoming["cleared_to"] == -1, c.cleared), else_=incoming["cleared_to"] == 1),
            "severity": sql_case((raise_it, incoming["severity"]), else_=c.severity),
            "latest_evidence_id": func.coalesce(incoming["evidence_id"], c.latest_evidence_id),
            "updated_at": incoming["updated_at"],
        }

    rows = [
        {
            "id": t.row.id,
            "added": t.added,
            "cleared_to": t.cleared_to,
            "severity": t.row.severity,
            "evidence_id": t.evidence_id,
            "updated_at": t.row.updated_at,
        }
        for t in tallies
    ]
    types = {
        "id": c.id.type,
        "added": Integer(),
        "cleared_to": Integer(),
        "severity": c.severity.type,
        "evidence_id": Integer(),
        "updated_at": c.updated_at.type,
    }
    bulk.update_rows(session, CASES, "id", types, rows, values)


def _mark_seen(session: Session, changes: Sequence[Change], reads: Reads, now: datetime) -> None:
    """Note when the gateways and devices of stored events were last heard from (to 10 s: ``seen_due``)."""
    gateways: set[str] = set()
    devices: set[tuple[SourceKind, str]] = set()
    for change in changes:
        if not isinstance(change, Duplicate | Rejected):
            event = change.event
            gateways.add(event.gateway_id)
            if event.source_kind is not SourceKind.GATEWAY:
                devices.add((event.source_kind, event.source_id))
    known = reads.known
    due: dict[str, list[str]] = {}
    for gateway_id in gateways:
        if seen_due(known.gateways[gateway_id].last_seen_at, now):
            due.setdefault("gateway", []).append(gateway_id)
    for kind, source_id in devices:
        if seen_due(known.devices[(kind, source_id)].last_seen_at, now):
            due.setdefault(kind.value, []).append(source_id)
    tables = {"gateway": Gateway.__table__, **{k.value: t for k, t in DEVICE_TABLES.items()}}
    for name, ids in due.items():
        table = tables[name]
        pk = next(iter(table.primary_key.columns))
        for condition in bulk.one_of(session, pk, ids):
            session.execute(update(table).where(condition).values(last_seen_at=now))


def _results(changes: Sequence[Change], batch: BatchEffects, alert_ids: Mapping[str, int]) -> list[Result]:
    results: list[Result] = []
    for change in changes:
        event_id = change.event.event_id
        if isinstance(change, Rejected):
            results.append(change.error)
        elif isinstance(change, Duplicate):
            if change.stored is not None:
                results.append(IngestResult(event_id, "duplicate", change.stored.alert_id, change.stored.case_id))
            else:
                assert change.first is not None
                first = results[change.first]
                assert isinstance(first, IngestResult)
                results.append(IngestResult(event_id, "duplicate", first.alert_id, first.case_id))
        else:
            case_id = batch.row(change.case).id if change.case is not None else None
            results.append(IngestResult(event_id, change.outcome, alert_ids[event_id], case_id))
    return results

