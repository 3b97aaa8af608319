"""Runtime zone geometry for one frame size: pixel polygons, anchor tests, object masks, line crossings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge.types import Detections
from kernel.camera_config import Anchor, CameraConfig, LineDirection
from kernel.camera_config.geometry import NormPoint
from kernel.errors import ConfigError

FloatArray = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]


def anchor_points(detections: Detections, anchor: Anchor) -> FloatArray:
    """(N, K, 2) pixel points per box: K = 1, or 4 corners for ``any_corner``."""
    x1, y1, x2, y2 = (detections.xyxy[:, i].astype(np.float32) for i in range(4))
    cx, cy = ((x1 + x2) / 2).astype(np.float32), ((y1 + y2) / 2).astype(np.float32)
    if anchor is Anchor.BOTTOM_CENTRE:
        points: list[tuple[FloatArray, FloatArray]] = [(cx, y2)]
    elif anchor is Anchor.CENTRE:
        points = [(cx, cy)]
    elif anchor is Anchor.TOP_CENTRE:
        points = [(cx, y1)]
    else:
        points = [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]
    stacked = np.stack([np.stack(p, axis=-1) for p in points], axis=1).astype(np.float32)
    return stacked.reshape(-1, len(points), 2)


@dataclass(frozen=True, slots=True)
class PixelPolygon:
    """A polygon in frame pixels with a vectorised point-in-polygon test (crossing number)."""

    vertices: FloatArray  # (V, 2)

    @classmethod
    def from_norm(cls, polygon: tuple[NormPoint, ...], width_px: int, height_px: int) -> PixelPolygon:
        scale = np.array([width_px, height_px], np.float32)
        return cls(np.asarray(polygon, np.float32) * scale)

    def contains(self, points: FloatArray) -> BoolArray:
        """(N,) bool for (N, 2) points; points on an edge (within half a pixel) count as inside."""
        if len(points) == 0:
            return np.zeros(0, bool)
        px, py = points[:, 0:1], points[:, 1:2]  # (N, 1) against (V,) edges
        x1, y1 = self.vertices[:, 0], self.vertices[:, 1]
        x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
        straddles = (y1 > py) != (y2 > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_cross = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
        inside = np.asarray(np.count_nonzero(straddles & (px < x_cross), axis=1) % 2 == 1)
        return inside | self._on_boundary(px, py, x1, y1, x2, y2)

    @staticmethod
    def _on_boundary(px: FloatArray, py: FloatArray, x1: FloatArray, y1: FloatArray,
                     x2: FloatArray, y2: FloatArray) -> BoolArray:
        # Feet on the frame's bottom row sit exactly on a zone edge drawn at y = 1.0: count them in.
        cross = (x2 - x1) * (py - y1) - (y2 - y1) * (px - x1)
        within = (np.minimum(x1, x2) - 0.5 <= px) & (px <= np.maximum(x1, x2) + 0.5)
        within &= (np.minimum(y1, y2) - 0.5 <= py) & (py <= np.maximum(y1, y2) + 0.5)
        length = np.hypot(x2 - x1, y2 - y1)
        return np.asarray(np.any(within & (np.abs(cross) <= 0.5 * np.maximum(length, 1e-6)), axis=1))

    def contains_boxes(self, detections: Detections, anchor: Anchor) -> BoolArray:
        """(N,) bool: the box's anchor (any corner for ``any_corner``) lies in the polygon."""
        points = anchor_points(detections, anchor)
        n, k = points.shape[:2]
        return np.asarray(self.contains(points.reshape(-1, 2)).reshape(n, k).any(axis=1), bool)


@dataclass(frozen=True, slots=True)
class PixelLine:
    """A segment in pixels; side a is left of a->b in image coordinates (above a left-to-right line)."""

    a: FloatArray
    b: FloatArray
    direction: LineDirection
    anchor: Anchor

    def side(self, points: FloatArray) -> FloatArray:
        """(N,) signed: < 0 on side a, >= 0 on side b (a point on the line is on side b)."""
        d = self.b - self.a
        return (d[0] * (points[:, 1] - self.a[1]) - d[1] * (points[:, 0] - self.a[0])).astype(np.float32)

    def crossings(self, previous: FloatArray, current: FloatArray) -> npt.NDArray[np.int8]:
        """(N,) per movement previous->current: +1 crossed a->b, -1 crossed b->a, 0 no crossing."""
        # A point exactly on the line counts as side b, so touching the line and stepping back is one
        # crossing each way, never a crossing counted twice or missed.
        b0, b1 = self.side(previous) >= 0, self.side(current) >= 0
        changed = b0 != b1
        # The movement must cross the segment itself, not the line's extension beyond its end points.
        m = current - previous
        t0 = (m[:, 0] * (self.a[1] - previous[:, 1]) - m[:, 1] * (self.a[0] - previous[:, 0]))
        t1 = (m[:, 0] * (self.b[1] - previous[:, 1]) - m[:, 1] * (self.b[0] - previous[:, 0]))
        on_segment = ((t0 < 0) != (t1 < 0)) | (t0 == 0) | (t1 == 0)
        hit = changed & on_segment
        return np.where(hit, np.where(b1, 1, -1), 0).astype(np.int8)

    def counts(self, crossing: int, direction: LineDirection | None = None) -> bool:
        wanted = direction or self.direction
        if crossing == 0:
            return False
        return wanted is LineDirection.BOTH or (crossing > 0) == (wanted is LineDirection.A_TO_B)


class SceneGeometry:
    """A camera's zones, lines and object masks in pixels for one frame size, computed once."""

    def __init__(self, camera: CameraConfig, width_px: int, height_px: int) -> None:
        if width_px <= 0 or height_px <= 0:
            raise ConfigError(f"camera '{camera.camera_id}': frame size {width_px}x{height_px} is not > 0")
        self.size = (width_px, height_px)
        self.zones = {z.id: PixelPolygon.from_norm(z.polygon, width_px, height_px) for z in camera.zones}
        self.zone_anchor = {z.id: z.anchor for z in camera.zones}
        scale = np.array([width_px, height_px], np.float32)
        self.lines = {
            ln.id: PixelLine(np.asarray(ln.points[0], np.float32) * scale,
                             np.asarray(ln.points[1], np.float32) * scale, ln.direction, ln.anchor)
            for ln in camera.lines
        }
        self._masks = [
            (PixelPolygon.from_norm(m.polygon, width_px, height_px), m.anchor, frozenset(m.classes))
            for m in camera.masks
        ]

    def in_zone(self, zone_id: str | None, detections: Detections) -> BoolArray:
        """(N,) bool: inside the zone by its anchor; ``None`` is the whole frame."""
        if zone_id is None:
            return np.ones(len(detections), bool)
        return self.zones[zone_id].contains_boxes(detections, self.zone_anchor[zone_id])

    def unmasked(self, detections: Detections, class_names: tuple[str, ...]) -> BoolArray:
        """(N,) bool: False for detections anchored inside an object mask that applies to their class."""
        keep = np.ones(len(detections), bool)
        for polygon, anchor, classes in self._masks:
            inside = polygon.contains_boxes(detections, anchor)
            if classes:
                inside &= np.array([_name(class_names, c) in classes for c in detections.class_id], bool)
            keep &= ~inside
        return keep


def _name(class_names: tuple[str, ...], class_id: int) -> str:
    return class_names[class_id] if 0 <= class_id < len(class_names) else str(class_id)
