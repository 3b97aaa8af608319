"""Supervised threads of the gateway: a loop whose failure is logged, counted and followed by a restart, and
which beats after every round, so a dead or stalled thread shows in the metrics instead of going quiet."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

Step = Callable[[], bool | None]
"""One round of a thread's work; returns False when the thread is done (anything else: go on)."""


@dataclass(frozen=True, slots=True)
class ThreadState:
    """What the metrics show of one thread: running, restarts so far, last beat (epoch s, None: never)."""

    name: str
    alive: bool
    restarts: int
    last_beat_ts: float | None


class ThreadHealth:
    """The gateway's register of threads that matter: liveness, beats and restarts, by thread name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._alive: dict[str, Callable[[], bool]] = {}
        self._beats: dict[str, float] = {}
        self._restarts: dict[str, int] = {}

    def watch(self, name: str, alive: Callable[[], bool]) -> None:
        """Show ``name`` (a thread this module does not run itself, e.g. a capture reader)."""
        with self._lock:
            self._alive[name] = alive
            self._restarts.setdefault(name, 0)

    def forget(self, name: str) -> None:
        """Stop showing ``name`` (its camera was removed); its restart count goes with it."""
        with self._lock:
            self._alive.pop(name, None)
            self._restarts.pop(name, None)
            self._beats.pop(name, None)

    def beat(self, name: str) -> None:
        self._beats[name] = time.time()  # one dict store: cheap enough for every frame

    def restarted(self, name: str) -> None:
        with self._lock:
            self._restarts[name] = self._restarts.get(name, 0) + 1

    def restarts(self, name: str) -> int:
        with self._lock:
            return self._restarts.get(name, 0)

    def states(self) -> list[ThreadState]:
        with self._lock:
            watched = list(self._alive.items())
            restarts = dict(self._restarts)
        return [ThreadState(name, bool(alive()), restarts.get(name, 0), self._beats.get(name))
                for name, alive in sorted(watched)]


class SupervisedThread:
    """Runs ``step`` over and over on a daemon thread until ``stop()`` (or ``step`` returns False).

    A step that raises does not end the thread's work: the error is logged with its traceback, counted as a
    restart of ``name`` and the loop starts again after ``restart_delay_s`` (a fault that repeats is retried
    at that pace, never in a tight loop). ``step`` must return within about a second so the beat and
    ``stop()`` stay timely.
    """

    def __init__(self, name: str, step: Step, health: ThreadHealth, *, restart_delay_s: float = 1.0) -> None:
        self.name = name
        self._step = step
        self._health = health
        self._restart_delay_s = restart_delay_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        health.watch(name, self._thread.is_alive)

    def start(self) -> SupervisedThread:
        self._thread.start()
        return self

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout_s: float) -> bool:
        """Wait for the loop to end by itself (its step returned False); True if it did in time."""
        if threading.current_thread() is not self._thread and self._thread.is_alive():
            self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Ask the loop to end after its current step and wait for it."""
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self._step() is False:
                    return
            except Exception:  # noqa: BLE001 - the supervisor's job: nothing ends this thread but stop()
                self._health.restarted(self.name)
                log.exception("thread %s failed (restart %d); restarting it in %.1f s", self.name,
                              self._health.restarts(self.name), self._restart_delay_s)
                self._stop.wait(self._restart_delay_s)
                continue
            self._health.beat(self.name)
