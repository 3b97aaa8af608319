"""Durable on-disk outbox: alert messages wait here (SQLite, WAL) until the broker has acknowledged them.

Size policy: the outbox holds at most ``max_items`` undelivered messages and ``max_bytes`` of their payloads.
Each message has a tier: *droppable* (an UPDATE of an episode already reported), *vital* (START and END)
or *critical* (vital, of critical severity). When a new message does not fit, a droppable one is refused;
a vital or critical one evicts queued messages, oldest droppable first, then the oldest vital non-critical
ones; critical messages are never evicted. Only when nothing evictable is left is a vital message refused, by
raising OutboxFullError so the caller knows. Every refusal and eviction is counted and logged (at most once
per ``log_interval_s``, as a summary): nothing is dropped silently.

SQLite failures (a full disk, an I/O error) are translated once, here, into OutboxStorageError: the
transaction is rolled back if SQLite has not already done so itself (it does on SQLITE_FULL), the pending
count is re-read from the database, and the error is counted by kind and logged once per interval. A failed
``mark_delivered`` changes nothing, so the caller can retry it. A mark only flips a flag (a page or two);
so that it fits even on a full disk, and delivered messages are not sent again after a restart, the outbox
keeps a reserve file beside the database (``reserve_bytes``, edge/outbox_space.py). A mark that finds the
disk full gives the reserve back and tries again; until the reserve can be laid again, new messages are
refused (counted as disk_full), so the room it left stays for recording deliveries.

Delivered messages leave a small tombstone (id only; payloads are cleared in batches) for the last
``remember_delivered`` messages, so a late second ``put`` of an already delivered event id is still
recognised as a duplicate. When the queue drains, the space freed is given back to the file system
(incremental vacuum, WAL truncate).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from edge.outbox_model import (
    STORAGE_ERROR_KINDS,
    OutboxConfig,
    OutboxCounters,
    OutboxError,
    OutboxFullError,
    OutboxItem,
    OutboxStorageError,
    OutgoingMessage,
    PutOutcome,
    Tier,
    storage_error_kind,
)
from edge.outbox_space import WAL_LIMIT_BYTES, Reserve, give_back_space

__all__ = ["Outbox", "OutboxConfig", "OutboxCounters", "OutboxError", "OutboxFullError", "OutboxItem",
           "OutboxStorageError", "OutgoingMessage", "PutOutcome", "Tier", "storage_error_kind"]

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
# Added after the first release: outboxes written before it get the column (tier from ``droppable``).
_TIER_COLUMN = "ALTER TABLE outbox ADD COLUMN tier INTEGER NOT NULL DEFAULT 2"
_TIER_BACKFILL = "UPDATE outbox SET tier = 0 WHERE droppable = 1"
_TIER_INDEX = "CREATE INDEX IF NOT EXISTS outbox_victims ON outbox (tier, seq) WHERE delivered = 0"

_CLEAR_BATCH_BYTES = 1024 * 1024  # delivered payloads are cleared once this much awaits clearing
_MARK_RECLAIM_RETRY_S = 10.0  # a reclaim that failed (full disk) waits this long before the next try

Connect = Callable[[str], sqlite3.Connection]


class _RateLimitedLog:
    """Counts events by reason and logs a summary at most once per interval (the first one at once)."""

    def __init__(self, interval_s: float, level: int) -> None:
        self._interval_s = interval_s
        self._level = level
        self._last_mono: float | None = None
        self._since: Counter[str] = Counter()

    def note(self, reason: str, n: int, template: str, *args: object) -> None:
        self._since[reason] += n
        now = time.monotonic()
        if self._last_mono is not None and now - self._last_mono < self._interval_s:
            return
        summary = ", ".join(f"{k} {v}" for k, v in sorted(self._since.items()))
        log.log(self._level, template + " [since last report: %s]", *args, summary)
        self._last_mono = now
        self._since.clear()


@dataclass(slots=True)
class _Batch:
    """What one put_many transaction does, applied to the outbox's state only once it committed."""

    count: int
    size: int
    outcomes: list[PutOutcome] = field(default_factory=list)
    evicted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    refused_error: OutboxFullError | None = None


class Outbox:
    """A thread-safe ordered queue of messages on disk, idempotent by event id.

    ``connect`` is the seam to SQLite (tests pass one that limits the file's size to provoke SQLITE_FULL).
    """

    def __init__(self, config: OutboxConfig, *, connect: Connect | None = None) -> None:
        self.config = config
        config.path.parent.mkdir(parents=True, exist_ok=True)
        opener = connect or (lambda path: sqlite3.connect(path, check_same_thread=False, isolation_level=None))
        try:
            self._db = opener(str(config.path))
            self._db.isolation_level = None
            # Must precede the first table; an older file switches over at its first VACUUM (give_back_space).
            self._db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if config.fsync else 'NORMAL'}")
            self._db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(outbox)")}
            if "tier" not in columns:
                self._db.executescript(f"BEGIN; {_TIER_COLUMN}; {_TIER_BACKFILL}; COMMIT;")
            self._db.execute(_TIER_INDEX)
            self._count, self._bytes = self._read_pending()
        except sqlite3.Error as exc:
            raise OutboxStorageError(f"outbox {config.path}: cannot open the SQLite queue: {exc}",
                                     storage_error_kind(exc)) from exc
        self._lock = threading.Lock()
        self._reserve = Reserve(config.path, config.reserve_bytes)
        self._reserve.ensure()
        self._in_sync = True
        self._uncleared_bytes = 1  # delivered payloads not cleared yet: unknown at open, so clear at the first drain
        self._next_forget = 1000
        self._next_reclaim_mono = 0.0
        self._added = self._duplicates = self._refused = self._evicted = self._deleted = 0
        # every kind present from the start: a reader copying it never sees the dict change size
        self._errors = dict.fromkeys(STORAGE_ERROR_KINDS, 0)
        self._drop_log = _RateLimitedLog(config.log_interval_s, logging.WARNING)
        self._error_log = _RateLimitedLog(config.log_interval_s, logging.ERROR)

    # -- writing ------------------------------------------------------------------------------------

    def put(self, event_id: str, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False,
            droppable: bool = False, critical: bool = True) -> PutOutcome:
        """Store a message durably; a second put of the same ``event_id`` is a no-op (DUPLICATE)."""
        return self.put_many([OutgoingMessage(event_id, topic, payload, qos, retain, droppable, critical)])[0]

    def put_many(self, messages: Sequence[OutgoingMessage]) -> list[PutOutcome]:
        """Store several messages in one transaction: one fsync for all of them (alert storms).

        If a vital message is refused, the others are still stored and OutboxFullError is raised after the
        commit, carrying every outcome in ``outcomes``. If SQLite fails, nothing of the batch is stored and
        OutboxStorageError is raised.
        """
        with self._lock:
            self._resync_if_needed()
            if not self._reserve.ensure():
                # The reserve was spent recording deliveries on a full disk: what room there is stays for
                # those records until the reserve can be laid again.
                kind = "disk_full"
                self._errors[kind] += 1
                self._error_log.note(kind, 1, "outbox %s: disk full, no room for its %d-byte reserve: refused"
                                     " %d new message(s)", self.config.path, self.config.reserve_bytes,
                                     len(messages))
                raise OutboxStorageError(f"outbox {self.config.path}: cannot store {len(messages)} message(s):"
                                         " disk full (the reserve for recording deliveries is spent)", kind)
            batch = _Batch(self._count, self._bytes)
            try:
                self._db.execute("BEGIN IMMEDIATE")
                for message in messages:
                    batch.outcomes.append(self._put_one(message, batch))
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self._failed(f"store {len(messages)} message(s)", exc) from exc
            self._count, self._bytes = batch.count, batch.size
            self._added += batch.outcomes.count(PutOutcome.ADDED)
            self._duplicates += batch.outcomes.count(PutOutcome.DUPLICATE)
            self._refused += len(batch.refused)
            self._evicted += len(batch.evicted)
            self._log_drops(batch)
        if batch.refused_error is not None:
            batch.refused_error.outcomes = batch.outcomes
            raise batch.refused_error
        return batch.outcomes

    def _put_one(self, m: OutgoingMessage, b: _Batch) -> PutOutcome:
        if self._db.execute("SELECT 1 FROM outbox WHERE event_id = ?", (m.event_id,)).fetchone():
            return PutOutcome.DUPLICATE
        size, tier = len(m.payload), m.tier
        while b.count + 1 > self.config.max_items or b.size + size > self.config.max_bytes:
            victim = None
            if tier > Tier.DROPPABLE and size <= self.config.max_bytes:
                victim = self._db.execute(
                    "SELECT seq, event_id, LENGTH(payload) FROM outbox WHERE delivered = 0 AND tier < ?"
                    " ORDER BY tier, seq LIMIT 1", (int(Tier.CRITICAL),)).fetchone()
            if victim is None:
                return self._refuse(m, b)
            self._db.execute("DELETE FROM outbox WHERE seq = ?", (victim[0],))
            b.count -= 1
            b.size -= victim[2]
            b.evicted.append(victim[1])
        self._db.execute(
            "INSERT INTO outbox (event_id, topic, payload, qos, retain, droppable, tier, enqueued_ts)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (m.event_id, m.topic, m.payload, m.qos, int(m.retain), int(m.droppable), int(tier), time.time()),
        )
        b.count += 1
        b.size += size
        return PutOutcome.ADDED

    def _refuse(self, m: OutgoingMessage, b: _Batch) -> PutOutcome:
        b.refused.append(m.event_id)
        if m.tier > Tier.DROPPABLE and b.refused_error is None:
            b.refused_error = OutboxFullError(
                f"outbox {self.config.path} holds {b.count} undelivered messages ({b.size} bytes; max_items"
                f" {self.config.max_items}, max_bytes {self.config.max_bytes}) that may not be evicted:"
                f" refused {m.event_id} ({len(m.payload)} bytes); expected the broker to come back first"
            )
        return PutOutcome.REFUSED

    def _log_drops(self, b: _Batch) -> None:
        if b.evicted:
            self._drop_log.note("evicted", len(b.evicted), "outbox %s full: evicted %d queued message(s)"
                                " (e.g. %s) to keep newer ones (%d evicted in all)",
                                self.config.path, len(b.evicted), b.evicted[0], self._evicted)
        if b.refused:
            self._drop_log.note("refused", len(b.refused), "outbox %s full: refused %d new message(s)"
                                " (e.g. %s) (%d refused in all)",
                                self.config.path, len(b.refused), b.refused[0], self._refused)

    # -- draining -----------------------------------------------------------------------------------

    def peek(self, limit: int, after_seq: int = 0) -> list[OutboxItem]:
        """Up to ``limit`` messages in order, starting after ``after_seq``; nothing is removed."""
        with self._lock:
            try:
                rows = self._db.execute(
                    "SELECT seq, event_id, topic, payload, qos, retain, droppable, enqueued_ts FROM outbox"
                    " WHERE delivered = 0 AND seq > ? ORDER BY seq LIMIT ?", (after_seq, limit),
                ).fetchall()
            except sqlite3.Error as exc:
                raise self._failed("read queued messages", exc) from exc
        return [OutboxItem(r[0], r[1], r[2], bytes(r[3]), r[4], bool(r[5]), bool(r[6]), r[7]) for r in rows]

    def mark_delivered(self, seqs: Sequence[int]) -> int:
        """Mark messages delivered (payload cleared, event id kept a while as a tombstone); how many were
        still pending. On OutboxStorageError nothing changed: call again later with the same ``seqs``."""
        if not seqs:
            return 0
        with self._lock:
            self._resync_if_needed()
            try:
                marked, freed = self._mark(seqs)
            except sqlite3.Error as first:
                marked, freed = self._mark_on_full_disk(seqs, first)
            self._count -= marked
            self._bytes -= freed
            self._uncleared_bytes += freed
            self._deleted += marked
            self._maybe_reclaim()
        return marked

    def delete(self, seq: int) -> None:
        """Mark one message delivered (see mark_delivered)."""
        self.mark_delivered([seq])

    def _mark_on_full_disk(self, seqs: Sequence[int], first: sqlite3.Error) -> tuple[int, int]:
        # Move the WAL's frames into the database so the WAL file is written again from its start (its
        # size is kept), then try again; if that is not enough, give the reserve back and try once more.
        self._rollback()
        try:
            self._db.execute("PRAGMA wal_checkpoint(RESTART)")
            return self._mark(seqs)
        except sqlite3.Error:
            self._rollback()
        try:
            if storage_error_kind(first) == "disk_full" and self._reserve.release():
                log.warning("outbox %s: disk full; using the reserve to record deliveries", self.config.path)
            return self._mark(seqs)
        except sqlite3.Error:
            raise self._failed(f"mark {len(seqs)} message(s) delivered", first) from first

    def _mark(self, seqs: Sequence[int]) -> tuple[int, int]:
        # Only the flag: a mark touches a page or two, so it fits in the reserve on a full disk. Payloads
        # are cleared later, in batches (_reclaim).
        marks = ",".join("?" * len(seqs))
        self._db.execute("BEGIN IMMEDIATE")
        marked, freed = self._db.execute(
            f"SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM outbox WHERE delivered = 0 AND seq IN"
            f" ({marks})", tuple(seqs)).fetchone()
        self._db.execute(f"UPDATE outbox SET delivered = 1 WHERE delivered = 0 AND seq IN ({marks})", tuple(seqs))
        self._db.execute("COMMIT")
        return int(marked), int(freed)

    def _maybe_reclaim(self) -> None:
        due = self._count == 0 or self._uncleared_bytes >= _CLEAR_BATCH_BYTES or self._deleted >= self._next_forget
        if due and time.monotonic() >= self._next_reclaim_mono:
            self._reclaim()

    def _reclaim(self) -> None:
        """Clear delivered payloads and forget old tombstones; once drained, give freed pages and WAL space
        back to the file system and lay the reserve again."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("UPDATE outbox SET payload = x'' WHERE delivered = 1 AND LENGTH(payload) > 0")
            self._db.execute(
                "DELETE FROM outbox WHERE delivered = 1 AND seq < (SELECT seq FROM outbox WHERE delivered = 1"
                " ORDER BY seq DESC LIMIT 1 OFFSET ?)", (self.config.remember_delivered,),
            )
            self._db.execute("COMMIT")
            self._uncleared_bytes = 0
            self._next_forget = self._deleted + 1000
            if self._count:
                return
            give_back_space(self._db, self.config.path)
            self._reserve.ensure()
        except sqlite3.Error as exc:  # housekeeping only: the queue is consistent; try again a bit later
            self._rollback()
            self._next_reclaim_mono = time.monotonic() + _MARK_RECLAIM_RETRY_S
            self._note_error("reclaim space", exc)

    # -- errors -------------------------------------------------------------------------------------

    def _failed(self, action: str, exc: sqlite3.Error) -> OutboxStorageError:
        """Roll back what SQLite left open, re-read the pending count, count and log; the error to raise."""
        self._rollback()
        self._in_sync = False
        self._resync_if_needed()
        kind = self._note_error(action, exc)
        return OutboxStorageError(f"outbox {self.config.path}: cannot {action}: {exc} ({kind})", kind)

    def _note_error(self, action: str, exc: sqlite3.Error) -> str:
        kind = storage_error_kind(exc)
        self._errors[kind] += 1
        self._error_log.note(kind, 1, "outbox %s: cannot %s: %s (%d storage error(s) in all)",
                             self.config.path, action, exc, sum(self._errors.values()))
        return kind

    def _rollback(self) -> None:
        # SQLite rolls a transaction back by itself on SQLITE_FULL and some I/O errors; a ROLLBACK then
        # fails with "no transaction is active", so only roll back what is still open.
        if self._db.in_transaction:
            try:
                self._db.execute("ROLLBACK")
            except sqlite3.Error as exc:
                log.debug("outbox %s: rollback failed: %s", self.config.path, exc)

    def _resync_if_needed(self) -> None:
        if self._in_sync:
            return
        try:
            self._count, self._bytes = self._read_pending()
            self._in_sync = True
        except sqlite3.Error as exc:  # still unknown: the next operation tries again
            self._note_error("count pending messages", exc)

    def _read_pending(self) -> tuple[int, int]:
        count, size = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM outbox WHERE delivered = 0").fetchone()
        return int(count), int(size)

    # -- state --------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._count

    @property
    def pending_bytes(self) -> int:
        return self._bytes

    def counters(self) -> OutboxCounters:
        return OutboxCounters(self._added, self._duplicates, self._refused, self._evicted, self._deleted,
                              dict(self._errors), self._count, self._bytes)

    def close(self) -> None:
        with self._lock:
            self._db.close()
