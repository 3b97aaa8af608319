"""Synthesise small demo and test clips with OpenCV, so demos and tests run offline without shared media.

The scene is a textured street with figures walking across it (or none, for a static scene); the file is
MPEG-4 (``mp4v``), which the FFmpeg backend of every OpenCV build both writes and reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from edge.errors import SourceError


@dataclass(frozen=True, slots=True)
class ClipSpec:
    """Size, rate and length of a synthetic clip; ``walkers`` figures cross the scene (0 = static scene)."""

    width_px: int = 320
    height_px: int = 240
    fps: float = 10.0
    frames: int = 30
    walkers: int = 2
    seed: int = 7


def _background(spec: ClipSpec, rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    image = np.full((spec.height_px, spec.width_px, 3), (90, 100, 105), np.uint8)
    horizon = spec.height_px // 3
    image[:horizon] = (200, 170, 140)  # sky
    noise = rng.integers(-12, 12, size=image.shape, dtype=np.int16)
    image = np.clip(image.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    for x in range(0, spec.width_px, max(8, spec.width_px // 8)):
        cv2.rectangle(image, (x, horizon - 30), (x + spec.width_px // 12, horizon), (60, 60, 70), -1)
    return image


def render_frame(spec: ClipSpec, index: int, background: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Frame ``index``: the background with each walker at its position for that time."""
    image = background.copy()
    h, w = spec.height_px, spec.width_px
    for k in range(spec.walkers):
        person_h = h // 3
        person_w = max(6, person_h // 3)
        speed = (w + person_w) / max(1, spec.frames - 1)
        x = int((index * speed * (1 + 0.3 * k) + k * w / max(1, spec.walkers)) % (w + person_w)) - person_w
        y = h - person_h - 10 - k * (h // 10)
        colour = ((40 + 80 * k) % 255, 60, 200 - 50 * k)
        cv2.rectangle(image, (x, y + person_h // 5), (x + person_w, y + person_h), colour, -1)
        cv2.circle(image, (x + person_w // 2, y + person_h // 10), max(3, person_w // 2), (150, 170, 210), -1)
    return image


def write_clip(path: Path, spec: ClipSpec = ClipSpec()) -> Path:
    """Write the clip to ``path`` (parents created); raise SourceError if OpenCV cannot write it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), spec.fps,
                             (spec.width_px, spec.height_px))
    if not writer.isOpened():
        raise SourceError(f"cannot write sample clip {path}: OpenCV has no mp4v writer here")
    try:
        background = _background(spec, np.random.default_rng(spec.seed))
        for index in range(spec.frames):
            writer.write(render_frame(spec, index, background))
    finally:
        writer.release()
    return path
