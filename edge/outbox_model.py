"""What the outbox takes, holds and reports: messages and their tiers, its config, counters and errors."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from edge.errors import EdgeError


class OutboxError(EdgeError):
    """Root of the outbox's errors."""


class OutboxFullError(OutboxError):
    """The outbox is full of messages it may not evict and refused a vital one."""

    outcomes: list[PutOutcome] | None = None  # set by put_many: what happened to each message


class OutboxStorageError(OutboxError):
    """SQLite failed (disk full, I/O error...): the operation did not happen; ``kind`` says why."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


class Tier(IntEnum):
    """What the size policy may do with a message: lower tiers go first."""

    DROPPABLE = 0
    VITAL = 1
    CRITICAL = 2


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message to store: idempotency key, where it goes, and whether the size policy may drop it.

    ``droppable``: may be refused or evicted first; ``critical`` (for a vital message): never evicted.
    """

    event_id: str
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False
    droppable: bool = False
    critical: bool = True

    @property
    def tier(self) -> Tier:
        if self.droppable:
            return Tier.DROPPABLE
        return Tier.CRITICAL if self.critical else Tier.VITAL


class OutboxConfig(BaseModel):
    """Where the outbox lives and how much it may hold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path = Field(description="SQLite file of the queue, e.g. var/edge/outbox.sqlite")
    max_items: int = Field(100_000, ge=1, le=10_000_000,
                           description="undelivered messages held before the size policy acts")
    max_bytes: int = Field(256 * 1024 * 1024, ge=1024, le=1 << 40,
                           description="payload bytes of undelivered messages held before the size policy acts")
    reserve_bytes: int = Field(2 * 1024 * 1024, ge=0, le=1 << 30,
                               description="disk space held back so delivered messages can be marked on a"
                               " full disk")
    remember_delivered: int = Field(10_000, ge=0, le=1_000_000,
                                    description="delivered event ids kept to recognise late duplicates")
    fsync: bool = Field(True, description="fsync every put (synchronous=FULL): survives a power cut")
    log_interval_s: float = Field(30.0, gt=0, le=3600,
                                  description="drops and storage errors are logged at most this often")


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One queued message; ``seq`` orders the drain."""

    seq: int
    event_id: str
    topic: str
    payload: bytes
    qos: int
    retain: bool
    droppable: bool
    enqueued_ts: float


class PutOutcome(StrEnum):
    ADDED = "added"
    DUPLICATE = "duplicate"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class OutboxCounters:
    """Totals since open. ``refused``: new messages not stored for lack of room; ``evicted``: queued messages
    removed to make room; ``storage_errors``: SQLite failures by kind (every one of STORAGE_ERROR_KINDS)."""

    added: int
    duplicates: int
    refused: int
    evicted: int
    deleted: int
    storage_errors: dict[str, int] = field(default_factory=dict)
    pending: int = 0
    pending_bytes: int = 0


STORAGE_ERROR_KINDS = ("disk_full", "io_error", "corrupt", "busy", "database_error")


def storage_error_kind(exc: sqlite3.Error) -> str:
    """A short name for a SQLite failure: disk_full, io_error, corrupt, busy or database_error."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code == sqlite3.SQLITE_FULL or "disk is full" in str(exc):
        return "disk_full"
    if code == sqlite3.SQLITE_IOERR or "disk i/o error" in str(exc).lower():
        return "io_error"
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return "corrupt"
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return "busy"
    return "database_error"
