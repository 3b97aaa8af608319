"""Engine, sessions and schema upgrades: the one place that opens the database and runs Alembic."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as SqlAlchemyTimeout
from sqlalchemy.orm import Session, sessionmaker

from central.errors import HubError

log = logging.getLogger(__name__)


class Database:
    """An engine and its session factory; ``session()`` is one transaction (commit or roll back)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine = _make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (run at every start; a no-op when current)."""
        config = Config()
        config.set_main_option("script_location", str(resources.files("central") / "migrations"))
        try:
            with self.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except SQLAlchemyError as exc:
            raise HubError(f"database {self.safe_url()}: migration failed: {exc}") from exc

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    @staticmethod
    def is_transient(error: BaseException) -> bool:
        """Whether ``error`` says the database is away, locked or timing out (worth retrying as it is), rather
        than refusing the data (which retrying cannot fix)."""
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        return isinstance(error, OperationalError | SqlAlchemyTimeout)

    def safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; take it over so writers take the lock up front
        # (BEGIN IMMEDIATE) instead of failing with "database is locked" on upgrade from read to write.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _private_sqlite_file(url: str) -> None:
    """Create the SQLite file readable by its owner only (0600): it holds password hashes and every case.
    SQLite gives its -wal and -shm files the database file's permissions."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.parent.is_dir():
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        if path.stat().st_mode & 0o077:
            log.warning("database file %s was readable by others: made it 0600", path)
            path.chmod(0o600)


def _sqlite_pragmas(dbapi_connection: Any, record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see above)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
