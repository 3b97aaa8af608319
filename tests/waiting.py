"""Waiting in tests: poll a condition until it holds, and fail naming what was awaited and the last value seen.

Tests wait on events, never on fixed sleeps: a sleep long enough on a loaded machine is slow everywhere else,
and one short enough here is flaky there. Where a component offers a real signal (a Condition, an Event, a
broker acknowledgement) a test waits on that; everything else polls through ``wait_until``.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

POLL_S = 0.05


class WaitTimeout(AssertionError):
    """What a test waited for did not happen in time; the message says what and the last value seen."""


def wait_until(
    probe: Callable[[], T],
    timeout_s: float = 15.0,
    *,
    until: Callable[[T], object] = bool,
    what: str | None = None,
    ignoring: tuple[type[BaseException], ...] = (),
    poll_s: float = POLL_S,
) -> T:
    """Call ``probe`` every ``poll_s`` until its value is true (or ``until(value)`` is), and return the value.

    ``until`` lets the probe return what is worth showing on failure (stats, a response) while the condition
    is checked on it: ``wait_until(reader.stats, until=lambda s: s.accepted >= 10)``. ``ignoring``: exceptions
    that mean "not yet" (a server still starting); any other exception from ``probe`` fails the wait at once (a
    crashed process says so instead of timing out). On timeout raises WaitTimeout naming ``what`` (by default
    the source line of the condition) and the last value or exception seen.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            value = probe()
        except ignoring as exc:
            last: object = exc
        else:
            if until(value):
                return value
            last = value
        if time.monotonic() >= deadline:
            awaited = what or _describe(probe if until is bool else until)
            raise WaitTimeout(f"waited {timeout_s:g} s for {awaited}; last seen: {_show(last)}")
        time.sleep(poll_s)


def _describe(probe: Callable[..., object]) -> str:
    """The probe's own source line for a lambda, else its name."""
    name = getattr(probe, "__qualname__", repr(probe))
    if name.endswith("<lambda>"):
        try:
            return inspect.getsource(probe).strip()
        except (OSError, TypeError):
            pass
    return name


def _show(value: object) -> str:
    text = f"{type(value).__name__}: {value}" if isinstance(value, BaseException) else repr(value)
    return text if len(text) <= 500 else text[:500] + "..."
