"""Typed values that flow between the edge pipeline's stages: frames, detections and detector stage times."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from edge.errors import EdgeError


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded camera frame. ``captured_ts`` is wall-clock (epoch s), ``captured_mono`` monotonic s."""

    camera_id: str
    index: int
    captured_ts: float
    captured_mono: float
    image_bgr: npt.NDArray[np.uint8]

    @property
    def width_px(self) -> int:
        return int(self.image_bgr.shape[1])

    @property
    def height_px(self) -> int:
        return int(self.image_bgr.shape[0])


def _check_rows(name: str, array: np.ndarray, rows: int, shape_tail: tuple[int, ...]) -> None:
    if array.shape[1:] != shape_tail or array.shape[0] != rows:
        raise EdgeError(
            f"Detections.{name}: expected shape ({rows}, {', '.join(map(str, shape_tail))}) "
            f"got {array.shape}".replace(", )", ")")
        )


@dataclass(frozen=True, slots=True)
class Detections:
    """Parallel arrays for N objects in frame pixels: ``xyxy`` (N,4) float32, ``confidence`` (N,) float32,
    ``class_id`` (N,) int32 and, once tracked, ``track_id`` (N,) int64 (-1 = not tracked)."""

    xyxy: npt.NDArray[np.float32]
    confidence: npt.NDArray[np.float32]
    class_id: npt.NDArray[np.int32]
    track_id: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))

    def __post_init__(self) -> None:
        n = len(self.confidence)
        _check_rows("xyxy", self.xyxy, n, (4,))
        _check_rows("class_id", self.class_id, n, ())
        if len(self.track_id) not in (0, n):
            raise EdgeError(f"Detections.track_id: expected 0 or {n} entries, got {len(self.track_id)}")

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.empty((0, 4), np.float32), np.empty(0, np.float32), np.empty(0, np.int32))

    def __len__(self) -> int:
        return len(self.confidence)

    @property
    def tracked(self) -> bool:
        return len(self.track_id) == len(self) and len(self) > 0

    def select(self, mask: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> Detections:
        """The subset picked by a boolean mask or index array, all arrays kept parallel."""
        return Detections(
            self.xyxy[mask], self.confidence[mask], self.class_id[mask],
            self.track_id[mask] if len(self.track_id) else np.empty(0, np.int64),
        )

    def with_tracks(self, track_id: npt.NDArray[np.int64]) -> Detections:
        return Detections(self.xyxy, self.confidence, self.class_id, track_id.astype(np.int64))

    def anchors_bottom_centre(self) -> npt.NDArray[np.float32]:
        """(N,2) bottom-centre points, the default anchor for zone membership."""
        x = (self.xyxy[:, 0] + self.xyxy[:, 2]) / 2
        return np.stack([x, self.xyxy[:, 3]], axis=1).astype(np.float32)


@dataclass(frozen=True, slots=True)
class StageTimes:
    """Wall time of each detector stage for one frame, in milliseconds."""

    preprocess_ms: float
    inference_ms: float
    postprocess_ms: float

    @property
    def total_ms(self) -> float:
        return self.preprocess_ms + self.inference_ms + self.postprocess_ms
