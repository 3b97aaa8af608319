"""Object filtering before rules: kept classes, per-class score/size, object masks, k-of-n per track."""

from __future__ import annotations

from collections import deque

import numpy as np
import numpy.typing as npt

from edge.types import Detections
from edge.zones import SceneGeometry
from kernel.camera_config import CameraConfig, ClassFilter

COCO_CLASS_NAMES: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
    "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)
"""Class names of the 80-class COCO detectors, used when the caller passes no names from model metadata."""


def class_name(class_names: tuple[str, ...], class_id: int) -> str:
    """The name of a class id, or the id as text when the model does not name it."""
    return class_names[class_id] if 0 <= class_id < len(class_names) else str(class_id)


class ObjectFilter:
    """Drops detections the camera does not care about; keeps k-of-n hit history per track (stateful)."""

    def __init__(
        self, camera: CameraConfig, class_names: tuple[str, ...], frame_size: tuple[int, int]
    ) -> None:
        self._class_names = class_names
        self._keep_classes = frozenset(camera.detect.classes)
        self._conf_threshold = camera.detect.conf_threshold
        self._filters = dict(camera.classes)
        self._frame_area_px = float(frame_size[0] * frame_size[1])
        self._hits: dict[int, deque[bool]] = {}

    def apply(self, detections: Detections, geometry: SceneGeometry) -> Detections:
        """The detections that pass every filter on this frame."""
        if len(detections) == 0:
            return detections
        names = [class_name(self._class_names, int(c)) for c in detections.class_id]
        keep = detections.confidence >= self._conf_threshold
        if self._keep_classes:
            keep &= np.array([n in self._keep_classes for n in names], bool)
        keep &= geometry.unmasked(detections, self._class_names)
        passed = keep & self._passes_class_filters(detections, names)
        return detections.select(passed & self._confirmed(detections, names, passed))

    def _passes_class_filters(self, detections: Detections, names: list[str]) -> npt.NDArray[np.bool_]:
        if not self._filters:
            return np.ones(len(detections), bool)
        w = detections.xyxy[:, 2] - detections.xyxy[:, 0]
        h = detections.xyxy[:, 3] - detections.xyxy[:, 1]
        area = np.clip(w, 0, None) * np.clip(h, 0, None)
        ok = np.ones(len(detections), bool)
        for i, name in enumerate(names):
            rule = self._filters.get(name)
            if rule is not None:
                ok[i] = (detections.confidence[i] >= rule.min_score and area[i] >= rule.min_area_px
                         and area[i] >= rule.min_area_frac * self._frame_area_px)
        return ok

    def _confirmed(self, detections: Detections, names: list[str], passed: npt.NDArray[np.bool_]
                   ) -> npt.NDArray[np.bool_]:
        """k of n: a track's detection counts once it passed in min_hits of its last hits_window frames."""
        confirmed = np.ones(len(detections), bool)
        track_ids = detections.track_id if detections.tracked else np.full(len(detections), -1)
        for i, name in enumerate(names):
            rule: ClassFilter | None = self._filters.get(name)
            if rule is None or rule.min_hits <= 1:
                continue
            tid = int(track_ids[i])
            if tid < 0:
                confirmed[i] = False  # no history to score over
                continue
            hits = self._hits.setdefault(tid, deque(maxlen=rule.hits_window))
            hits.append(bool(passed[i]))
            confirmed[i] = sum(hits) >= rule.min_hits
        return confirmed

    def forget(self, live_track_ids: set[int]) -> None:
        """Drop hit history of tracks that have ended."""
        for tid in [t for t in self._hits if t not in live_track_ids]:
            del self._hits[tid]
