"""Motion gating: a cheap check on a downscaled grey frame that decides whether a frame needs inference.

A running-average background is compared with each frame; pixels that differ by more than ``threshold``
(0-255 grey levels), outside the motion masks, form contours, and the frame "moves" when the largest
contour covers at least ``min_area_frac`` of the (unmasked) picture. A still scene is still passed to the
detector every ``recheck_interval_s`` so parked vehicles and lingering smoke are not missed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, cast

import cv2
import numpy as np
import numpy.typing as npt

Polygon = Sequence[Sequence[float]]
_DILATE_KERNEL = np.ones((3, 3), np.uint8)  # what cv2.dilate uses for kernel=None


class MotionSection(Protocol):
    """The camera config's ``motion`` section, as far as the gate needs it."""

    @property
    def enabled(self) -> bool: ...
    @property
    def downscale_width_px(self) -> int: ...
    @property
    def threshold(self) -> int: ...
    @property
    def min_area_frac(self) -> float: ...
    @property
    def masks(self) -> Sequence[object]: ...
    @property
    def recheck_interval_s(self) -> float: ...


@dataclass(frozen=True, slots=True)
class MotionVerdict:
    """What the gate decided for one frame. ``recheck``: passed only because the scene was quiet too long."""

    moving: bool
    recheck: bool
    area_frac: float

    @property
    def needs_inference(self) -> bool:
        return self.moving or self.recheck


def mask_points(mask: object) -> list[tuple[float, float]]:
    """Normalised polygon points of one mask entry: a list of (x, y) pairs or an object with ``points``."""
    points = cast(Sequence[Sequence[float]], getattr(mask, "points", mask))
    return [(float(p[0]), float(p[1])) for p in points]


def keep_mask(masks: Sequence[object], width_px: int, height_px: int) -> npt.NDArray[np.uint8]:
    """255 where motion counts, 0 inside any motion mask (masks in normalised 0..1 coordinates)."""
    keep = np.full((height_px, width_px), 255, np.uint8)
    for mask in masks:
        pts = np.array(mask_points(mask), np.float32) * np.array([width_px, height_px], np.float32)
        cv2.fillPoly(keep, [np.round(pts).astype(np.int32)], 0)  # type: ignore[call-overload]
    return keep


class MotionGate:
    """Stateful motion detector for one camera; ``check(image_bgr, now_s)`` returns a MotionVerdict."""

    def __init__(self, section: MotionSection, *, learn_rate: float = 0.1) -> None:
        self._section = section
        self._learn_rate = learn_rate
        self._background: npt.NDArray[np.float32] | None = None
        self._keep: npt.NDArray[np.uint8] | None = None
        self._keep_px = 1
        self._last_pass_s: float | None = None

    def _small_grey(self, image_bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        height, width = image_bgr.shape[:2]
        target_w = min(width, int(self._section.downscale_width_px))
        target_h = max(1, round(height * target_w / width))
        small = cv2.resize(image_bgr, (target_w, target_h), interpolation=cv2.INTER_AREA)
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        return cast(npt.NDArray[np.uint8], cv2.GaussianBlur(grey, (5, 5), 0))

    def check(self, image_bgr: npt.NDArray[np.uint8], now_s: float) -> MotionVerdict:
        if not self._section.enabled:
            return MotionVerdict(moving=True, recheck=False, area_frac=1.0)
        grey = self._small_grey(image_bgr)
        if self._background is None or self._background.shape != grey.shape:
            self._background = grey.astype(np.float32)
            self._keep = keep_mask(self._section.masks, grey.shape[1], grey.shape[0])
            self._keep_px = max(1, int(np.count_nonzero(self._keep)))
            self._last_pass_s = now_s
            return MotionVerdict(moving=True, recheck=False, area_frac=1.0)  # first frame: look once
        diff = cv2.absdiff(grey, cv2.convertScaleAbs(self._background))
        cv2.accumulateWeighted(grey, self._background, self._learn_rate)
        _, changed = cv2.threshold(diff, int(self._section.threshold), 255, cv2.THRESH_BINARY)
        keep = self._keep if self._keep is not None else np.full_like(changed, 255)
        changed = cv2.dilate(cv2.bitwise_and(changed, keep), _DILATE_KERNEL, iterations=2)
        contours, _ = cv2.findContours(changed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        largest = max((cv2.contourArea(c) for c in contours), default=0.0)
        area_frac = float(largest) / self._keep_px
        moving = area_frac >= float(self._section.min_area_frac)
        last_pass_s = now_s if self._last_pass_s is None else self._last_pass_s
        recheck = not moving and now_s - last_pass_s >= float(self._section.recheck_interval_s)
        if moving or recheck:
            self._last_pass_s = now_s
        return MotionVerdict(moving=moving, recheck=recheck, area_frac=area_frac)
