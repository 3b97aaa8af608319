"""Stats: percentiles of samples and per-window counters turned into CameraStats."""

from __future__ import annotations

import pytest

from edge.stats import CameraStatsCollector, percentiles


@pytest.mark.parametrize(
    ("values", "p50", "p95"),
    [
        ([], None, None),
        ([7.0], 7.0, 7.0),
        ([1.0, 2.0], 1.5, 1.95),
        (list(range(1, 101)), 50.5, 95.05),
        ([5.0] * 10 + [1000.0], 5.0, 502.5),
    ],
)
def test_percentiles_table(values: list[float], p50: float | None, p95: float | None) -> None:
    result = percentiles(values)
    if p50 is None:
        assert result is None
    else:
        assert result is not None
        assert (result.p50, result.p95) == (pytest.approx(p50), pytest.approx(p95))


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_snapshot_reports_rates_counts_and_latencies_then_opens_a_new_window() -> None:
    clock = _Clock()
    stats = CameraStatsCollector("gw-1", "cam-1", clock=clock)
    stats.count("captured", 20)
    stats.count("skipped_motion", 8)
    stats.count("skipped_budget", 2)
    stats.count("detected", 10)
    for ms in (10.0, 20.0, 30.0):
        stats.stage("inference", ms)
        stats.frame_age(ms * 2)
    stats.stage("track", 1.0)
    clock.now += 2.0
    snap = stats.snapshot()
    assert (snap.window_s, snap.capture_fps, snap.detect_fps) == (2.0, 10.0, 5.0)
    assert (snap.frames_captured, snap.frames_skipped_motion, snap.frames_skipped_budget) == (20, 8, 2)
    assert snap.inference_ms is not None and snap.inference_ms.p50 == 20.0
    assert snap.frame_age_ms is not None and snap.frame_age_ms.p50 == 40.0
    assert list(snap.stage_latency_ms) == ["inference", "track"]  # pipeline order
    clock.now += 1.0
    empty = stats.snapshot()
    assert (empty.frames_captured, empty.capture_fps, empty.frame_age_ms) == (0, 0.0, None)
    assert stats.totals["captured"] == 20
