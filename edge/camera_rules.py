"""One camera's detections-to-events half: class prefilter, tracker, then the rule engine (built on the
first frame, because zones in pixels need the frame size)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edge.config import CameraConfig
from edge.motion import MotionVerdict
from edge.rules.engine import RuleEngine
from edge.tracker import Tracker
from edge.types import Detections, Frame


class CameraRules:
    """Tracker plus rule engine of one camera; the engine is built on the first frame (it needs the size)."""

    def __init__(self, camera: CameraConfig, class_names: Sequence[str] | None) -> None:
        self._camera = camera
        self._class_names = tuple(class_names) if class_names else None
        self._tracker = Tracker(camera.track, camera.detect.detect_fps)
        self._engine: RuleEngine | None = None
        self._keep_classes = frozenset(camera.detect.classes)

    def engine(self, frame: Frame) -> RuleEngine:
        size = (frame.width_px, frame.height_px)
        if self._engine is None or self._engine.frame_size != size:
            if self._class_names:
                self._engine = RuleEngine(self._camera, size, self._class_names)
            else:
                self._engine = RuleEngine(self._camera, size)
        return self._engine

    def track(self, detections: Detections, frame: Frame) -> Detections:
        # Classes the camera ignores never reach the tracker (the rule engine's filter re-checks the rest).
        keep = detections.confidence >= self._camera.detect.conf_threshold
        if self._keep_classes and self._class_names:
            names = self._class_names
            keep &= np.array([0 <= c < len(names) and names[c] in self._keep_classes
                              for c in detections.class_id.tolist()], bool)
        return self._tracker.update(detections.select(keep), frame.captured_ts)

    def rules(self, tracked: Detections, frame: Frame) -> list[object]:
        return list(self.engine(frame).update(tracked, self._tracker.tracks, frame.captured_ts))

    def motion_rules(self, verdict: MotionVerdict, frame: Frame) -> list[object]:
        return list(self.engine(frame).update_motion(verdict.moving, frame.captured_ts))
