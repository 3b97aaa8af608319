"""The per-camera frame loop: frame -> motion gate -> (shared scheduler) detect -> track -> rules -> evidence
-> publish, every stage timed into the camera's stats.

The loop has two halves because inference is shared: ``on_frame`` runs on the camera's reader thread
(motion gate, hand-off to the scheduler), ``on_detected`` on the scheduler's delivery thread once
detections exist (track, rules, evidence, publish). ``motion_rules`` turn each motion verdict into events
of rules of kind motion; without a model that is all a camera runs (motion-only).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from edge.motion import MotionGate, MotionVerdict
from edge.scheduler import DetectResult, InferenceScheduler
from edge.stats import CameraStatsCollector
from edge.types import Detections, Frame
from gridwatch.contracts.messages import AlertEvent

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DownstreamStages:
    """What happens after detection, as plain callables (the worker wires tracker, rule engine, evidence and
    publisher in; tests pass small fakes)."""

    track: Callable[[Detections, Frame], Detections]
    rules: Callable[[Detections, Frame], Sequence[Any]]
    evidence: Callable[[Any, Frame], AlertEvent]
    publish: Callable[[AlertEvent], object]
    motion_rules: Callable[[MotionVerdict, Frame], Sequence[Any]] | None = None


class CameraPipeline:
    """One camera's path through the gateway; holds only the camera's motion gate, stages and stats."""

    def __init__(self, camera_id: str, motion: MotionGate, stages: DownstreamStages,
                 stats: CameraStatsCollector, *, scheduler: InferenceScheduler | None,
                 every_frame: bool = False, motion_interval_s: float = 0.0) -> None:
        self.camera_id = camera_id
        self._motion = motion
        self._stages = stages
        self.stats = stats
        self._scheduler = scheduler
        self._every_frame = every_frame
        self._motion_interval_s = motion_interval_s
        self._last_motion_s = float("-inf")
        self.alerts_emitted = 0

    def _timed(self, stage: str, fn: Callable[..., T], *args: Any) -> T:
        start = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.stats.stage(stage, (time.perf_counter() - start) * 1000.0)

    # -- reader thread --------------------------------------------------------------------------------

    def on_decoded(self, decode_ms: float) -> None:
        self.stats.stage("decode", decode_ms)

    def on_bad_frame(self) -> None:
        self.stats.count("bad")

    def on_frame(self, frame: Frame) -> None:
        self.stats.count("captured")
        if self._scheduler is not None and (
                not self._scheduler.is_due(self.camera_id)
                or frame.captured_mono - self._last_motion_s < self._motion_interval_s):
            # the detect rate limit would drop this frame anyway, so a still scene is not checked for
            # motion more often than it could be detected either
            self.stats.count("skipped_rate")
            return
        self._last_motion_s = frame.captured_mono
        verdict = self._timed("motion", self._motion.check, frame.image_bgr, frame.captured_mono)
        if self._stages.motion_rules is not None:  # rules of kind motion, with or without a model
            self._emit(self._timed("motion_rules", self._stages.motion_rules, verdict, frame), frame)
        if self._scheduler is None:
            return
        if not verdict.needs_inference:
            self.stats.count("skipped_motion")
            return
        self._scheduler.submit(frame, wait=self._every_frame)

    # -- scheduler threads (budget skips on the inference thread, detections on the delivery thread) ----

    def on_budget_skip(self, frame: Frame, wait_ms: float) -> None:
        self.stats.count("skipped_budget")
        log.debug("camera %s: frame %d skipped, %.0f ms old at its turn", self.camera_id, frame.index,
                  wait_ms)

    def on_detected(self, result: DetectResult) -> None:
        frame = result.frame
        self.stats.count("detected")
        self.stats.frame_age(result.age_ms)
        for stage in ("preprocess", "inference", "postprocess"):
            value = getattr(result.times, f"{stage}_ms", None)
            if value is not None:
                self.stats.stage(stage, float(value))
        tracked = self._timed("track", self._stages.track, result.detections, frame)
        events = self._timed("rules", self._stages.rules, tracked, frame)
        self._emit(events, frame)

    def _emit(self, events: Sequence[Any], frame: Frame) -> None:
        for event in events:
            alert = self._timed("evidence", self._stages.evidence, event, frame)
            self._timed("publish", self._stages.publish, alert)
            self.alerts_emitted += 1
