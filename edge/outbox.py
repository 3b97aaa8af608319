"""Durable on-disk outbox: alert messages wait here (SQLite, WAL) until the broker has acknowledged them.

Size policy: the outbox holds at most ``max_items`` messages. Messages are either *droppable* (an UPDATE of
an episode already reported) or *vital* (START and END: an alarm or its clearing). When full, a droppable
message is refused; a vital one first evicts the oldest droppable message; only when everything queued is
vital is a vital message refused, by raising OutboxFullError so the caller knows. Every refusal and eviction
is counted and logged (rate-limited): nothing is dropped silently.

Delivered messages leave a small tombstone (id only, payload cleared) for the last ``remember_delivered``
messages, so a late second ``put`` of an already delivered event id is still recognised as a duplicate.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from edge.errors import EdgeError

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    droppable INTEGER NOT NULL,
    enqueued_ts REAL NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (seq) WHERE delivered = 0;
"""


class OutboxFullError(EdgeError):
    """The outbox is full of vital messages and refused another one."""

    outcomes: list[PutOutcome] | None = None  # set by put_many: what happened to each message


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message to store: idempotency key, where it goes, and whether the size policy may drop it."""

    event_id: str
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False
    droppable: bool = False


class OutboxConfig(BaseModel):
    """Where the outbox lives and how much it may hold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path = Field(description="SQLite file of the queue, e.g. var/edge/outbox.sqlite")
    max_items: int = Field(100_000, ge=1, le=10_000_000,
                           description="undelivered messages held before the size policy acts")
    remember_delivered: int = Field(10_000, ge=0, le=1_000_000,
                                    description="delivered event ids kept to recognise late duplicates")
    fsync: bool = Field(True, description="fsync every put (synchronous=FULL): survives a power cut")


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
    added: int
    duplicates: int
    refused: int
    evicted: int
    deleted: int


class Outbox:
    """A thread-safe ordered queue of messages on disk, idempotent by event id."""

    def __init__(self, config: OutboxConfig) -> None:
        self.config = config
        config.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(str(config.path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if config.fsync else 'NORMAL'}")
            self._db.executescript(_SCHEMA)
            (self._count,) = self._db.execute("SELECT COUNT(*) FROM outbox WHERE delivered = 0").fetchone()
        except sqlite3.Error as exc:
            raise EdgeError(f"outbox {config.path}: cannot open the SQLite queue: {exc}") from exc
        self._lock = threading.Lock()
        self._added = self._duplicates = self._refused = self._evicted = self._deleted = 0
        self._last_warning_mono = 0.0

    # -- writing ------------------------------------------------------------------------------------

    def put(self, event_id: str, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False,
            droppable: bool = False) -> PutOutcome:
        """Store a message durably; a second put of the same ``event_id`` is a no-op (DUPLICATE)."""
        return self.put_many([OutgoingMessage(event_id, topic, payload, qos, retain, droppable)])[0]

    def put_many(self, messages: Sequence[OutgoingMessage]) -> list[PutOutcome]:
        """Store several messages in one transaction: one fsync for all of them (alert storms).

        If a vital message is refused, the others are still stored and OutboxFullError is raised after the
        commit, carrying every outcome in ``outcomes``.
        """
        outcomes: list[PutOutcome] = []
        refused: OutboxFullError | None = None
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for message in messages:
                    try:
                        outcomes.append(self._put_one(message))
                    except OutboxFullError as exc:
                        outcomes.append(PutOutcome.REFUSED)
                        refused = refused or exc
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                (self._count,) = self._db.execute(
                    "SELECT COUNT(*) FROM outbox WHERE delivered = 0").fetchone()
                raise
        if refused is not None:
            refused.outcomes = outcomes
            raise refused
        return outcomes

    def _put_one(self, m: OutgoingMessage) -> PutOutcome:
        if self._count >= self.config.max_items:
            if self._db.execute("SELECT 1 FROM outbox WHERE event_id = ?", (m.event_id,)).fetchone():
                self._duplicates += 1
                return PutOutcome.DUPLICATE
            if not self._make_room(m.event_id, m.droppable):
                return PutOutcome.REFUSED
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO outbox (event_id, topic, payload, qos, retain, droppable, enqueued_ts)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (m.event_id, m.topic, m.payload, m.qos, int(m.retain), int(m.droppable), time.time()),
        )
        if cursor.rowcount == 0:
            self._duplicates += 1
            return PutOutcome.DUPLICATE
        self._count += 1
        self._added += 1
        return PutOutcome.ADDED

    def _make_room(self, event_id: str, droppable: bool) -> bool:
        if droppable:
            self._refused += 1
            self._warn("outbox %s full (%d): refused droppable message %s (%d refused so far)",
                       self.config.path, self._count, event_id, self._refused)
            return False
        row = self._db.execute(
            "SELECT seq, event_id FROM outbox WHERE droppable = 1 AND delivered = 0 ORDER BY seq LIMIT 1")
        victim = row.fetchone()
        if victim is None:
            self._refused += 1
            log.error("outbox %s full of %d vital messages: refused vital message %s",
                      self.config.path, self._count, event_id)
            raise OutboxFullError(
                f"outbox {self.config.path} holds {self._count} undelivered vital messages (max_items"
                f" {self.config.max_items}): refused {event_id}; expected the broker to come back first"
            )
        self._db.execute("DELETE FROM outbox WHERE seq = ?", (victim[0],))
        self._count -= 1
        self._evicted += 1
        self._warn("outbox %s full: evicted droppable message %s to keep vital %s (%d evicted so far)",
                   self.config.path, victim[1], event_id, self._evicted)
        return True

    def _warn(self, msg: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._last_warning_mono >= 5.0:
            self._last_warning_mono = now
            log.warning(msg, *args)

    # -- draining -----------------------------------------------------------------------------------

    def peek(self, limit: int, after_seq: int = 0) -> list[OutboxItem]:
        """Up to ``limit`` messages in order, starting after ``after_seq``; nothing is removed."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, event_id, topic, payload, qos, retain, droppable, enqueued_ts FROM outbox"
                " WHERE delivered = 0 AND seq > ? ORDER BY seq LIMIT ?", (after_seq, limit),
            ).fetchall()
        return [OutboxItem(r[0], r[1], r[2], bytes(r[3]), r[4], bool(r[5]), bool(r[6]), r[7]) for r in rows]

    def delete(self, seq: int) -> None:
        """Mark a message delivered: its payload goes, its event id stays a while as a tombstone."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE outbox SET delivered = 1, payload = x'' WHERE seq = ? AND delivered = 0", (seq,))
            if cursor.rowcount:
                self._count -= 1
                self._deleted += 1
                if self._deleted % 1000 == 0:
                    self._forget_old_tombstones()

    def _forget_old_tombstones(self) -> None:
        self._db.execute(
            "DELETE FROM outbox WHERE delivered = 1 AND seq < (SELECT seq FROM outbox WHERE delivered = 1"
            " ORDER BY seq DESC LIMIT 1 OFFSET ?)", (self.config.remember_delivered,),
        )

    # -- state --------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._count

    def counters(self) -> OutboxCounters:
        return OutboxCounters(self._added, self._duplicates, self._refused, self._evicted, self._deleted)

    def close(self) -> None:
        with self._lock:
            self._db.close()
