"""Schedule table: weekdays, daily windows (also past midnight) and time zones."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from edge.rules.schedule import is_armed
from kernel.camera_config import ScheduleConfig


def at(text: str, zone: str = "UTC") -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


@pytest.mark.parametrize(("schedule", "when", "armed"), [
    (None, "2026-11-28T03:00", True),
    ({}, "2026-11-28T03:00", True),
    ({"weekdays": ["sat", "sun"]}, "2026-11-28T03:00", True),        # a Saturday
    ({"weekdays": ["mon"]}, "2026-11-28T03:00", False),
    ({"windows": ["08:00-18:00"]}, "2026-11-30T08:00", True),          # start is inclusive
    ({"windows": ["08:00-18:00"]}, "2026-11-30T18:00", False),         # end is exclusive
    ({"windows": ["08:00-12:00", "13:00-17:00"]}, "2026-11-30T12:30", False),
    ({"windows": ["22:00-06:00"]}, "2026-11-30T23:59", True),
    ({"windows": ["22:00-06:00"]}, "2026-11-30T05:59", True),
    ({"windows": ["22:00-06:00"]}, "2026-11-30T06:00", False),
    ({"windows": ["22:00-06:00"], "weekdays": ["sun"]}, "2026-11-30T02:00", True),  # Sun night, Mon 2am
    ({"windows": ["22:00-06:00"], "weekdays": ["mon"]}, "2026-11-30T02:00", False),
    ({"windows": ["22:00-06:00"], "weekdays": ["mon"]}, "2026-11-30T22:30", True),
])
def test_is_armed(schedule: dict | None, when: str, armed: bool) -> None:
    config = None if schedule is None else ScheduleConfig.model_validate(schedule)
    assert is_armed(config, at(when)) is armed


def test_windows_are_in_the_schedules_time_zone_across_daylight_saving() -> None:
    config = ScheduleConfig(timezone="Europe/Amsterdam", windows=("09:00-10:00",))  # type: ignore[arg-type]
    assert is_armed(config, at("2026-07-01T09:30", "Europe/Amsterdam"))   # summer, UTC+2
    assert is_armed(config, at("2026-12-01T09:30", "Europe/Amsterdam"))   # winter, UTC+1
    assert not is_armed(config, at("2026-07-01T09:30"))                   # 11:30 in Amsterdam
