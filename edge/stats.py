"""Per-camera pipeline statistics: counters and latency samples gathered over a window, as CameraStats."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

import numpy as np

from kernel.contracts.messages import CameraStats, Percentiles, utc_now

STAGES = (
    "decode", "motion", "motion_rules", "preprocess", "inference", "postprocess", "track", "zones", "rules",
    "evidence", "publish",
)
"""Stage names, in pipeline order, under which latencies are recorded."""


def percentiles(values_ms: Iterable[float]) -> Percentiles | None:
    """p50/p95 of the samples (linear interpolation), or None for no samples."""
    data = np.fromiter(values_ms, dtype=np.float64)
    if data.size == 0:
        return None
    p50, p95 = np.percentile(data, [50, 95])
    return Percentiles(p50=round(float(p50), 3), p95=round(float(p95), 3))


class CameraStatsCollector:
    """Thread-safe window of counters and samples for one camera; ``snapshot`` closes the window."""

    def __init__(self, gateway_id: str, camera_id: str, *, max_samples: int = 2048,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.gateway_id = gateway_id
        self.camera_id = camera_id
        self._clock = clock
        self._lock = threading.Lock()
        self._max = max_samples
        self._window_start = clock()
        self._counts = dict.fromkeys(
            ("captured", "skipped_rate", "skipped_motion", "skipped_budget", "bad", "detected", "failed"), 0)
        self.totals = dict(self._counts)
        self._stages: dict[str, deque[float]] = {}
        self._frame_age: deque[float] = deque(maxlen=max_samples)

    def count(self, what: str, n: int = 1) -> None:
        """Add ``n`` to a counter: captured, skipped_rate (not due for detection), skipped_motion,
        skipped_budget, bad, detected or failed (a stage raised on the frame; in ``totals`` and the metrics,
        not in CameraStats)."""
        with self._lock:
            self._counts[what] += n
            self.totals[what] += n

    def stage(self, name: str, latency_ms: float) -> None:
        with self._lock:
            samples = self._stages.get(name)
            if samples is None:
                samples = self._stages[name] = deque(maxlen=self._max)
            samples.append(latency_ms)

    def timed(self, stage: str) -> StageTimer:
        """``with stats.timed("track"): ...`` records the block's wall time under ``stage``."""
        return StageTimer(self, stage)

    def frame_age(self, age_ms: float) -> None:
        with self._lock:
            self._frame_age.append(age_ms)

    def snapshot(self, *, reset: bool = True) -> CameraStats:
        """The figures since the window opened (and, with ``reset``, open a new window)."""
        with self._lock:
            now = self._clock()
            window_s = max(now - self._window_start, 1e-3)
            counts = dict(self._counts)
            stages = {name: list(samples) for name, samples in self._stages.items()}
            ages = list(self._frame_age)
            if reset:
                self._window_start = now
                self._counts = dict.fromkeys(self._counts, 0)
                self._stages = {}
                self._frame_age.clear()
        latency = {name: p for name in STAGES if name in stages and (p := percentiles(stages[name]))}
        return CameraStats(
            gateway_id=self.gateway_id, camera_id=self.camera_id, ts=utc_now(), window_s=round(window_s, 3),
            capture_fps=round(counts["captured"] / window_s, 3),
            detect_fps=round(counts["detected"] / window_s, 3),
            frames_captured=counts["captured"], frames_skipped_motion=counts["skipped_motion"],
            frames_skipped_budget=counts["skipped_budget"], frames_bad=counts["bad"],
            stage_latency_ms=latency, frame_age_ms=percentiles(ages),
            inference_ms=latency.get("inference"),
        )


class StageTimer:
    """Context manager that records the wall time of its block as one stage latency sample."""

    __slots__ = ("_stats", "_stage", "_start")

    def __init__(self, stats: CameraStatsCollector, stage: str) -> None:
        self._stats, self._stage, self._start = stats, stage, 0.0

    def __enter__(self) -> None:
        self._start = time.perf_counter()

    def __exit__(self, *_exc: object) -> None:
        self._stats.stage(self._stage, (time.perf_counter() - self._start) * 1000.0)
