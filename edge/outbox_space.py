"""Disk space of the outbox's SQLite file: a reserve that lets deliveries be recorded on a full disk, and
freed pages and WAL given back to the file system once the queue drains."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)

WAL_LIMIT_BYTES = 4 * 1024 * 1024  # a drained outbox's WAL is truncated past this
_RECLAIM_FREE_PAGES = 256  # vacuum when a drained outbox has this many free pages (1 MiB at 4 KiB pages)


class Reserve:
    """A file of ``size_bytes`` really allocated beside the database, given back when a record of a
    delivery finds the disk full and laid again once there is room."""

    def __init__(self, db_path: Path, size_bytes: int) -> None:
        self.path = Path(f"{db_path}-reserve")
        self.size_bytes = size_bytes
        self.laid = self.path.is_file() and os.path.getsize(self.path) >= size_bytes

    def ensure(self) -> bool:
        """Lay the reserve if it is missing; False when there is no room for it (tried again later)."""
        if not self.size_bytes or self.laid:
            return True
        try:
            with open(self.path, "wb") as f:
                os.posix_fallocate(f.fileno(), 0, self.size_bytes)  # allocated blocks, not a sparse file
        except OSError as exc:
            self.path.unlink(missing_ok=True)
            log.debug("%s: no room for the %d-byte reserve yet: %s", self.path, self.size_bytes, exc)
            return False
        self.laid = True
        return True

    def release(self) -> bool:
        """Give the reserve's space back to the file system; False if there was none to give."""
        if not self.path.exists():
            return False
        self.path.unlink()
        self.laid = False
        return True


def give_back_space(db: sqlite3.Connection, db_path: Path) -> None:
    """Vacuum the free pages of a drained database and truncate its WAL (raises sqlite3.Error)."""
    (free_pages,) = db.execute("PRAGMA freelist_count").fetchone()
    vacuum = free_pages >= _RECLAIM_FREE_PAGES
    if vacuum:
        (mode,) = db.execute("PRAGMA auto_vacuum").fetchone()
        # executescript steps the pragma to its end; execute() would free a single page
        db.executescript("PRAGMA incremental_vacuum;" if mode == 2 else "VACUUM;")
    wal = Path(f"{db_path}-wal")
    if vacuum or (wal.is_file() and os.path.getsize(wal) > WAL_LIMIT_BYTES):
        # the database file shrinks only once the vacuumed pages are checkpointed
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
