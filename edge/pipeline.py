"""One camera's frame path: the motion gate in front of the shared detector, then one step per detected frame
through track -> zones -> rules -> evidence -> alert, every stage timed into the camera's stats.

Capture hands each decoded frame to ``admit`` (on the camera's reader thread): the motion gate decides
whether it is worth a detector run, rules of kind motion see every verdict, and a frame worth it goes to the
shared scheduler. The scheduler hands the camera its detections, and ``step`` takes them to alerts (on the
scheduler's delivery thread, so a JPEG encode never delays the next inference). Without a model a camera
runs motion-only: ``admit`` is all there is.

Between stages only typed frozen values travel: Frame -> Detections (tracked) -> FrameView (placed in the
zones) -> RuleEvent -> AlertEvent. A stage that raises costs that frame only: it is logged and counted
(``failed``), and the camera goes on with the next frame.
"""

from __future__ import annotations

import logging
from typing import Protocol

import numpy as np

from edge.evidence import build_alert
from edge.motion import MotionGate
from edge.rules.engine import RuleEngine
from edge.rules.events import RuleEvent
from edge.scheduler import DetectResult, InferenceScheduler
from edge.stats import CameraStatsCollector
from edge.tracker import Tracker
from edge.types import Detections, Frame
from kernel.camera_config import CameraConfig
from kernel.contracts.messages import AlertEvent

log = logging.getLogger(__name__)


class AlertSink(Protocol):
    """Where a camera's alerts go (edge.publisher.AlertPublisher: durable once ``publish`` returns)."""

    def publish(self, alert: AlertEvent) -> bool: ...


class CameraPipeline:
    """One camera's path through the gateway: its motion gate, tracker, rule engine and stats."""

    def __init__(self, camera: CameraConfig, gateway_id: str, sink: AlertSink, *,
                 scheduler: InferenceScheduler | None, every_frame: bool = False,
                 stats: CameraStatsCollector | None = None) -> None:
        self.camera = camera
        self.camera_id = camera.camera_id
        self.gateway_id = gateway_id
        self.stats = stats or CameraStatsCollector(gateway_id, camera.camera_id)
        self.alerts_emitted = 0
        self._sink = sink
        self._scheduler = scheduler
        self._every_frame = every_frame
        self._motion = MotionGate(camera.motion)
        # motion is checked at most at the detect rate (less half a 10 fps frame of slack)
        self._motion_interval_s = max(0.0, 1.0 / camera.detect.detect_fps - 0.05)
        self._last_motion_s = float("-inf")
        self._tracker = Tracker(camera.track, camera.detect.detect_fps)
        self._class_names = scheduler.class_names if scheduler is not None else None
        self._keep_classes = frozenset(camera.detect.classes)
        self._engine: RuleEngine | None = None

    # -- the scheduler's side (delivery thread) ---------------------------------------------------------

    def step(self, detected: DetectResult) -> None:
        """One detected frame through the camera: track -> zones -> rules -> evidence -> alert."""
        frame = detected.frame
        self._record_detection(detected)
        with self.stats.timed("track"):
            tracked: Detections = self._tracker.update(self._watched(detected.detections), frame.captured_ts)
        engine = self._rules_for(frame)
        with self.stats.timed("zones"):
            placed = engine.place(tracked, self._tracker.tracks, frame.captured_ts)
        with self.stats.timed("rules"):
            events = engine.evaluate(placed)
        for event in events:
            self._alert(event, frame)  # evidence -> alert

    def on_detected(self, detected: DetectResult) -> None:
        """``step``, where a failure costs this frame only (logged, counted)."""
        try:
            self.step(detected)
        except Exception:  # noqa: BLE001 - one bad frame never stops the camera (nor the others)
            self.stats.count("failed")
            log.exception("camera %s: frame %d failed after detection; skipped", self.camera_id,
                          detected.frame.index)

    def on_budget_skip(self, frame: Frame, wait_ms: float) -> None:
        self.stats.count("skipped_budget")
        log.debug("camera %s: frame %d skipped, %.0f ms old at its turn", self.camera_id, frame.index,
                  wait_ms)

    # -- the capture side (reader thread) -------------------------------------------------------------

    def admit(self, frame: Frame) -> None:
        """A decoded frame: motion gate, rules of kind motion, then (worth it) on to the shared detector."""
        self.stats.count("captured")
        scheduler = self._scheduler
        if scheduler is not None and (
                not scheduler.is_due(self.camera_id)
                or frame.captured_mono - self._last_motion_s < self._motion_interval_s):
            # the detect rate limit would drop this frame anyway, so a still scene is not checked for
            # motion more often than it could be detected either
            self.stats.count("skipped_rate")
            return
        self._last_motion_s = frame.captured_mono
        with self.stats.timed("motion"):
            verdict = self._motion.check(frame.image_bgr, frame.captured_mono)
        with self.stats.timed("motion_rules"):  # with or without a model
            events = self._rules_for(frame).update_motion(verdict.moving, frame.captured_ts)
        for event in events:
            self._alert(event, frame)
        if scheduler is None:
            return
        if not verdict.needs_inference:
            self.stats.count("skipped_motion")
            return
        scheduler.submit(frame, wait=self._every_frame)

    def on_frame(self, frame: Frame) -> None:
        """``admit``, where a failure costs this frame only (logged, counted): the reader thread goes on."""
        try:
            self.admit(frame)
        except Exception:  # noqa: BLE001 - one bad frame never stops the camera's reader
            self.stats.count("failed")
            log.exception("camera %s: frame %d failed before detection; skipped", self.camera_id, frame.index)

    def on_decoded(self, decode_ms: float) -> None:
        self.stats.stage("decode", decode_ms)

    def on_bad_frame(self) -> None:
        self.stats.count("bad")

    # -- stages ---------------------------------------------------------------------------------------

    def _record_detection(self, detected: DetectResult) -> None:
        self.stats.count("detected")
        self.stats.frame_age(detected.age_ms)
        self.stats.stage("preprocess", detected.times.preprocess_ms)
        self.stats.stage("inference", detected.times.inference_ms)
        self.stats.stage("postprocess", detected.times.postprocess_ms)

    def _watched(self, detections: Detections) -> Detections:
        """Scores and classes the camera ignores never reach the tracker (the rule engine re-checks)."""
        keep = detections.confidence >= self.camera.detect.conf_threshold
        names = self._class_names
        if self._keep_classes and names:
            keep &= np.array([0 <= c < len(names) and names[c] in self._keep_classes
                              for c in detections.class_id.tolist()], bool)
        return detections.select(keep)

    def _rules_for(self, frame: Frame) -> RuleEngine:
        """The camera's rule engine for this frame size (zones in pixels need it: built on the first frame)."""
        size = (frame.width_px, frame.height_px)
        if self._engine is None or self._engine.frame_size != size:
            if self._class_names:
                self._engine = RuleEngine(self.camera, size, self._class_names)
            else:
                self._engine = RuleEngine(self.camera, size)
        return self._engine

    def _alert(self, event: RuleEvent, frame: Frame) -> None:
        """Evidence (snapshot) and the AlertEvent, handed to the sink (durable once it returns)."""
        with self.stats.timed("evidence"):
            alert = build_alert(event, frame, self.camera, self.gateway_id)
        with self.stats.timed("publish"):
            self._sink.publish(alert)
        self.alerts_emitted += 1

