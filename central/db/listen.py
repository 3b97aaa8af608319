"""PostgreSQL LISTEN on a connection of its own, in a thread that calls back on each notification."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import URL

log = logging.getLogger(__name__)

_RECONNECT_S = 1.0


class PgListener:
    """Calls ``on_notify`` for every notification on ``channel``, and once after each (re)connect (anything
    sent while it was not listening is then picked up by whoever it wakes). Reconnects until stopped."""

    def __init__(self, url: URL, channel: str, on_notify: Callable[[], None]) -> None:
        if not channel.isidentifier():
            raise ValueError(f"notification channel {channel!r}: expected a plain identifier")
        # SQLAlchemy's URL names its driver (postgresql+psycopg); psycopg takes the plain libpq form.
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._channel = channel
        self._on_notify = on_notify
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hub-feed-listen", daemon=True)
        self._thread.start()

    def stop(self, wait: bool = True) -> None:
        """Stop listening (within about half a second); ``wait`` for the thread to end."""
        self._stop.set()
        if wait:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {self._channel}")
                    self._on_notify()
                    while not self._stop.is_set():
                        # Returns after the timeout with none, so a stop is seen within it.
                        for _ in connection.notifies(timeout=0.5):
                            self._on_notify()
            except psycopg.Error as exc:
                log.warning("feed listener: %s; reconnecting in %.0f s", exc, _RECONNECT_S)
                self._stop.wait(_RECONNECT_S)
