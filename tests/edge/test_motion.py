"""Motion gate: still scenes skip inference, movement passes, masks hide it, still scenes are re-checked."""

from __future__ import annotations

import numpy as np
import pytest

from edge.motion import MotionGate, keep_mask
from kernel.camera_config.sections import MotionConfig

H, W = 120, 160


def _scene(box: tuple[int, int, int, int] | None = None) -> np.ndarray:
    image = np.full((H, W, 3), 100, np.uint8)
    if box is not None:
        x1, y1, x2, y2 = box
        image[y1:y2, x1:x2] = 250
    return image


def _gate(**overrides: object) -> MotionGate:
    values = {"downscale_width_px": 80, "recheck_interval_s": 10.0, **overrides}
    return MotionGate(MotionConfig.model_validate(values))


@pytest.mark.parametrize(
    ("box", "min_area_frac", "moving"),
    [
        (None, 0.002, False),                   # nothing changed
        ((70, 50, 90, 90), 0.002, True),        # a figure appears
        ((70, 50, 90, 90), 0.5, False),         # ... but is smaller than the area that counts
        ((0, 0, 2, 2), 0.01, False),            # a couple of pixels of noise
        ((0, 0, W, H), 0.9, True),              # the whole picture changes (lights on)
    ],
)
def test_motion_verdict_table(box: tuple[int, int, int, int] | None, min_area_frac: float,
                              moving: bool) -> None:
    gate = _gate(min_area_frac=min_area_frac)
    first = gate.check(_scene(), 0.0)
    assert first.needs_inference  # the first frame is always looked at once
    verdict = gate.check(_scene(box), 0.1)
    assert verdict.moving is moving
    assert verdict.needs_inference is moving
    assert not verdict.recheck


def test_motion_inside_a_mask_is_ignored() -> None:
    gate = _gate(masks=[[(0.4, 0.3), (0.6, 0.3), (0.6, 0.8), (0.4, 0.8)]])
    gate.check(_scene(), 0.0)
    assert not gate.check(_scene((70, 50, 90, 90)), 0.1).moving
    assert gate.check(_scene((10, 10, 40, 40)), 0.2).moving


def test_still_scene_is_rechecked_at_the_interval() -> None:
    gate = _gate(recheck_interval_s=2.0)
    still = _scene()
    decisions = [gate.check(still, t / 10).needs_inference for t in range(0, 45)]  # 4.4 s at 10 fps
    passed_at = [i / 10 for i, needed in enumerate(decisions) if needed]
    assert passed_at == [0.0, 2.0, 4.0]


def test_disabled_gate_passes_every_frame() -> None:
    gate = _gate(enabled=False)
    assert all(gate.check(_scene(), t).needs_inference for t in range(5))


@pytest.mark.parametrize(
    ("masks", "kept_frac"),
    [((), 1.0), ([[(0, 0), (0.5, 0), (0.5, 1), (0, 1)]], 0.5), ([[(0, 0), (1, 0), (1, 1), (0, 1)]], 0.0)],
)
def test_keep_mask_fraction(masks: list, kept_frac: float) -> None:
    keep = keep_mask(masks, 100, 50)
    assert np.count_nonzero(keep) / keep.size == pytest.approx(kept_frac, abs=0.03)
