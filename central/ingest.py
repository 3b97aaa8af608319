"""Ingest: validate alerts against the registry, store them idempotently with their evidence, correlate."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.batch import BatchWriter
from central.clock import Clock
from central.correlate import Correlator
from central.db.engine import Database
from central.db.models import Alert, Camera, Evidence, Gateway, Sensor
from central.errors import IngestRejected, Invalid
from central.evidence import EvidenceStore
from central.metrics import HubMetrics
from central.settings import IngestSettings
from central.sources import Placement, locate, seen_due
from gridwatch.contracts.messages import AlertEvent, SourceKind

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What became of one event: ``outcome`` is created, repeated, updated, cleared, reopened, folded or
    duplicate."""

    event_id: str
    outcome: str
    alert_id: int | None
    case_id: int | None


class Ingestor:
    def __init__(
        self,
        db: Database,
        settings: IngestSettings,
        clock: Clock,
        evidence: EvidenceStore,
        correlator: Correlator,
        metrics: HubMetrics,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.evidence = evidence
        self.correlator = correlator
        self.metrics = metrics
        self.batch = BatchWriter(correlator, correlator.settings.reopen_window_s)

    def ingest(self, event: AlertEvent, transport: str) -> IngestResult:
        """Store one event in its own transaction; raise IngestRejected (counted, logged) if refused."""
        results = self.ingest_batch([event], transport)
        result = results[0]
        if isinstance(result, IngestRejected):
            raise result
        return result

    def ingest_batch(self, events: list[AlertEvent], transport: str) -> list[IngestResult | IngestRejected]:
        """Store many events in one transaction: the common ones set-based, the rest one by one in a
        savepoint each, so a refusal spoils only itself."""
        now = self.clock.now()
        try:
            with self.db.session() as session:
                results = self.batch.write(session, events, now, IngestResult)
                for i, result in enumerate(results):
                    if result is None:
                        results[i] = self._one(session, events[i], now, transport)
        except IntegrityError:
            # A replica wrote one of these events or opened one of these cases meanwhile: redo the batch
            # one event at a time, where each conflict is resolved on its own.
            log.info(
                "batch of %d events conflicted with a concurrent writer; retrying one by one", len(events)
            )
            with self.db.session() as session:
                results = [self._one(session, e, now, transport) for e in events]
        for event, result in zip(events, results, strict=True):
            self._count(event, result, transport)
        self.metrics.batch_size.observe(len(events))
        return results

    def _count(self, event: AlertEvent, result: IngestResult | IngestRejected, transport: str) -> None:
        if isinstance(result, IngestRejected):
            self.metrics.rejected.labels(result.reason, transport).inc()
            log.warning(
                "event %s from %s rejected (%s): %s", event.event_id, event.gateway_id, result.reason, result
            )
        else:
            self.metrics.ingested.labels(result.outcome, transport).inc()

    def _one(
        self, session: Session, event: AlertEvent, now: datetime, transport: str
    ) -> IngestResult | IngestRejected:
        for attempt in (1, 2):
            try:
                with session.begin_nested():
                    return self._store(session, event, now)
            except IngestRejected as exc:
                return exc
            except IntegrityError:
                # Another replica stored the same event or opened the same case between our read and
                # write; the second attempt sees its row and attaches or reports a duplicate.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _store(self, session: Session, event: AlertEvent, now: datetime) -> IngestResult:
        existing = session.scalars(select(Alert).where(Alert.event_id == event.event_id)).first()
        if existing is not None:
            return IngestResult(event.event_id, "duplicate", existing.id, existing.case_id)
        where = self._check_source(session, event, now)
        evidence_id = self._store_snapshot(session, event, now)
        alert = Alert(
            event_id=event.event_id,
            episode_id=event.episode_id,
            phase=event.phase.value,
            gateway_id=event.gateway_id,
            source_kind=event.source_kind.value,
            source_id=event.source_id,
            alert_type=event.alert_type.value,
            severity=event.severity.value,
            title=event.title,
            detail=event.detail.model_dump(mode="json"),
            observed_at=event.observed_ts,
            received_at=now,
            cleared=False,
            evidence_id=evidence_id,
        )
        session.add(alert)
        session.flush()
        outcome = self.correlator.place(session, alert, event, where, now)
        return IngestResult(event.event_id, outcome, alert.id, alert.case_id)

    def _check_source(self, session: Session, event: AlertEvent, now: datetime) -> Placement:
        """The event's gateway and device from the registry (auto-registered in demo mode), checked."""
        gateway = session.get(Gateway, event.gateway_id)
        if gateway is None:
            if not self.settings.auto_register:
                raise IngestRejected(
                    "unknown_gateway",
                    f"gateway {event.gateway_id!r} is not registered: register it at POST /api/v1/gateways first",
                )
            gateway = Gateway(
                gateway_id=event.gateway_id,
                name=event.gateway_id,
                auto_registered=True,
                retired=False,
                state="online",
                config_revision=0,
            )
            session.add(gateway)
            log.info("auto-registered gateway %s (ingest.auto_register is on)", event.gateway_id)
        device: Camera | Sensor | None = None
        if event.source_kind is not SourceKind.GATEWAY and not gateway.retired:
            model = Camera if event.source_kind is SourceKind.CAMERA else Sensor
            device = session.get(model, event.source_id)
            if device is None and self.settings.auto_register:
                # Demo mode also takes in unknown devices of registered gateways, placed in the gateway's grid.
                device = model(
                    **{"camera_id" if model is Camera else "device_id": event.source_id},
                    gateway_id=event.gateway_id,
                    area_id=gateway.area_id,
                    retired=False,
                    state="online",
                )
                session.add(device)
        where = locate(gateway, device, event)
        for row in (gateway, device):
            if row is not None and seen_due(row.last_seen_at, now):
                row.last_seen_at = now
        return where

    def _store_snapshot(self, session: Session, event: AlertEvent, now: datetime) -> int | None:
        if event.snapshot is None:
            return None
        try:
            data = event.snapshot.jpeg_bytes()
        except Exception as exc:  # noqa: BLE001 - binascii and ContractError alike mean "bad snapshot"
            raise IngestRejected(
                "bad_snapshot", f"event {event.event_id}: snapshot unreadable: {exc}"
            ) from exc
        try:
            stored = self.evidence.put_image(data)
        except Invalid as exc:
            reason = "oversized_snapshot" if exc.status_code == 413 else "bad_snapshot"
            raise IngestRejected(
                reason, f"event {event.event_id}: snapshot refused: {exc}", exc.status_code
            ) from exc
        row = Evidence(
            sha256=stored.sha256,
            relpath=stored.relpath,
            content_type=stored.content_type,
            size_bytes=stored.size_bytes,
            original_name=None,
            created_at=now,
        )
        session.add(row)
        session.flush()
        return row.id
