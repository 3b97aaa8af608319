"""Ingest: alert events in, cases out. Each batch is read (``known``), decided (``decide``) and written
(``case_writer``) in one transaction; a single event is a batch of one."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central import known
from central.case_writer import CaseConflict, CaseWriter, IngestResult, Result
from central.clock import Clock
from central.db.engine import Database
from central.decide import Rules, decide
from central.dispatch import Dispatcher
from central.errors import IngestRejected, Invalid
from central.evidence import EvidenceStore
from central.metrics import HubMetrics
from central.settings import CaseSettings, IngestSettings
from kernel.contracts.messages import AlertEvent

log = logging.getLogger(__name__)

__all__ = ["IngestResult", "Ingestor"]


class Ingestor:
    def __init__(
        self,
        db: Database,
        settings: IngestSettings,
        cases: CaseSettings,
        clock: Clock,
        evidence: EvidenceStore,
        dispatcher: Dispatcher,
        metrics: HubMetrics,
    ) -> None:
        self.db = db
        self.settings = settings
        self.cases = cases
        self.clock = clock
        self.evidence = evidence
        self.metrics = metrics
        self.rules = Rules.of(cases)
        self.writer = CaseWriter(cases, dispatcher, evidence)

    def ingest(self, event: AlertEvent, transport: str) -> IngestResult:
        """Store one event in its own transaction; raise IngestRejected (counted, logged) if refused."""
        result = self.ingest_batch([event], transport)[0]
        if isinstance(result, IngestRejected):
            raise result
        return result

    def ingest_batch(self, events: list[AlertEvent], transport: str) -> list[Result]:
        """Store many events in one transaction; a refused event spoils only itself."""
        now = self.clock.now()
        snapshots = {e.event_id: self._snapshot(e) for e in events if e.snapshot is not None}
        try:
            with self.db.session() as session:
                results = self.write(session, events, snapshots, now)
        except (IntegrityError, CaseConflict):
            # A replica stored one of these events or opened (re-opened) one of these cases meanwhile: redo
            # the batch one event at a time, where each conflict is resolved on its own.
            log.info("batch of %d events conflicted with a concurrent writer; retrying one by one", len(events))
            with self.db.session() as session:
                results = [self._one(session, e, snapshots, now) for e in events]
        for event, result in zip(events, results, strict=True):
            self._count(event, result, transport)
        self.metrics.batch_size.observe(len(events))
        return results

    def write(
        self,
        session: Session,
        events: Sequence[AlertEvent],
        snapshots: dict[str, bytes | IngestRejected],
        now: datetime,
    ) -> list[Result]:
        """Read what the batch needs, decide, write: the whole of ingest, in the caller's transaction."""
        bad = {k: v for k, v in snapshots.items() if isinstance(v, IngestRejected)}
        reads = known.read(
            session,
            events,
            bad,
            auto_register=self.settings.auto_register,
            reopen_window_s=self.cases.reopen_window_s,
            now=now,
        )
        changes = decide(events, reads.known, self.rules)
        good = {k: v for k, v in snapshots.items() if isinstance(v, bytes)}
        return self.writer.write(session, changes, reads, good, now)

    def _one(
        self, session: Session, event: AlertEvent, snapshots: dict[str, bytes | IngestRejected], now: datetime
    ) -> Result:
        for attempt in (1, 2):
            try:
                with session.begin_nested():
                    return self.write(session, [event], snapshots, now)[0]
            except (IntegrityError, CaseConflict):
                # Another replica stored the same event or opened the same case between our read and
                # write; the second attempt sees its row and attaches or reports a duplicate.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _snapshot(self, event: AlertEvent) -> bytes | IngestRejected:
        """The event's snapshot image, checked (not yet stored), or why it is refused."""
        assert event.snapshot is not None
        try:
            data = event.snapshot.jpeg_bytes()
        except Exception as exc:  # noqa: BLE001 - binascii and ContractError alike mean "bad snapshot"
            return IngestRejected("bad_snapshot", f"event {event.event_id}: snapshot unreadable: {exc}")
        try:
            self.evidence.check_image(data)
        except Invalid as exc:
            reason = "oversized_snapshot" if exc.status_code == 413 else "bad_snapshot"
            return IngestRejected(reason, f"event {event.event_id}: snapshot refused: {exc}", exc.status_code)
        return data

    def _count(self, event: AlertEvent, result: Result, transport: str) -> None:
        if isinstance(result, IngestRejected):
            self.metrics.rejected.labels(result.reason, transport).inc()
            log.warning(
                "event %s from %s rejected (%s): %s", event.event_id, event.gateway_id, result.reason, result
            )
        else:
            self.metrics.ingested.labels(result.outcome, transport).inc()
