"""Dead letters: messages acknowledged without being processed (refused, or failing on their own), kept,
counted by reason and listed for admins, so one poison message is never redelivered forever."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, func, select

from central.db.engine import Database
from central.db.models import DeadLetter
from central.metrics import HubMetrics

log = logging.getLogger(__name__)

_MAX_ERROR_CHARS = 2000


@dataclass(frozen=True, slots=True)
class Poison:
    """One message that will not be processed: where it came from, why, and its bytes."""

    transport: str
    topic: str
    gateway_id: str | None
    reason: str
    error: str
    payload: bytes


class DeadLetterPublic(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    received_at: datetime
    transport: str
    topic: str
    gateway_id: str | None
    reason: str = Field(description="invalid_schema, topic_mismatch, an ingest refusal, or processing_error")
    error: str
    payload_bytes: int = Field(description="size of the whole payload")
    payload_kept_bytes: int = Field(description="how much of it is kept (and shown in payload_text)")
    payload_text: str = Field(description="the kept payload as text (undecodable bytes replaced)")


class DeadLetters:
    """Writes poison messages (pruning to the newest ``keep``), counts them, and lists them."""

    def __init__(self, db: Database, metrics: HubMetrics, keep: int, payload_bytes: int) -> None:
        self.db = db
        self.metrics = metrics
        self.keep = keep
        self.payload_bytes = payload_bytes

    def add(self, poisons: list[Poison], now: datetime) -> None:
        """Store ``poisons`` in one transaction (raises if the database is away: the caller retries)."""
        if not poisons:
            return
        with self.db.session() as session:
            session.add_all(
                DeadLetter(
                    received_at=now,
                    transport=p.transport,
                    topic=_text(p.topic, 1000),
                    gateway_id=_text(p.gateway_id, 64) if p.gateway_id else None,
                    reason=_text(p.reason, 64),
                    error=_text(p.error, _MAX_ERROR_CHARS),
                    payload=p.payload[: self.payload_bytes],
                    payload_bytes=len(p.payload),
                )
                for p in poisons
            )
            session.flush()
            newest = session.scalar(select(func.max(DeadLetter.id)))
            if newest is not None and newest > self.keep:
                session.execute(delete(DeadLetter).where(DeadLetter.id <= newest - self.keep))
        first: dict[str, Poison] = {}
        for p in poisons:
            self.metrics.dead_letters.labels(p.reason, p.transport).inc()
            first.setdefault(p.reason, p)
        for reason, p in first.items():  # one line per reason: a flood must not flood the log too
            count = sum(1 for q in poisons if q.reason == reason)
            log.warning("%d dead letter(s) (%s), e.g. from %s: %s", count, reason, p.topic, p.error)

    def list(self, *, after_id: int, reason: str | None, limit: int) -> list[DeadLetterPublic]:
        query = select(DeadLetter).where(DeadLetter.id > after_id).order_by(DeadLetter.id).limit(limit)
        if reason is not None:
            query = query.where(DeadLetter.reason == reason)
        with self.db.session() as session:
            return [_public(row) for row in session.scalars(query)]


def _text(value: str, max_chars: int) -> str:
    """Text any database stores: NUL characters (which PostgreSQL refuses) shown as \\u0000, and cut short."""
    return value.replace("\x00", "\\u0000")[:max_chars]


def _public(row: DeadLetter) -> DeadLetterPublic:
    return DeadLetterPublic(
        id=row.id,
        received_at=row.received_at,
        transport=row.transport,
        topic=row.topic,
        gateway_id=row.gateway_id,
        reason=row.reason,
        error=row.error,
        payload_bytes=row.payload_bytes,
        payload_kept_bytes=len(row.payload),
        payload_text=row.payload.decode("utf-8", errors="replace"),
    )
