"""Whether a rule's schedule (weekdays and daily windows in a time zone) is armed at a given instant."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from kernel.camera_config import ScheduleConfig
from kernel.camera_config.rules import TimeWindow, Weekday

_WEEKDAYS = tuple(Weekday)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _in_window(window: TimeWindow, local: datetime, weekdays: tuple[Weekday, ...]) -> bool:
    now = local.time()
    if window.start < window.end:
        return _WEEKDAYS[local.weekday()] in weekdays and window.start <= now < window.end
    # The window wraps past midnight: after midnight it belongs to the day it started on.
    if now >= window.start:
        return _WEEKDAYS[local.weekday()] in weekdays
    started = local - timedelta(days=1)
    return now < window.end and _WEEKDAYS[started.weekday()] in weekdays


def is_armed(schedule: ScheduleConfig | None, ts: float) -> bool:
    """True when ``ts`` (epoch s) falls on a scheduled weekday and inside a window (no windows: all day)."""
    if schedule is None:
        return True
    local = datetime.fromtimestamp(ts, _zone(schedule.timezone))
    if not schedule.windows:
        return _WEEKDAYS[local.weekday()] in schedule.weekdays
    return any(_in_window(w, local, schedule.weekdays) for w in schedule.windows)
