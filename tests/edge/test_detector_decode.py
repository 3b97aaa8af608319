"""Decoding raw outputs of both layouts on small synthetic arrays: thresholds, NMS per class, limits."""

from __future__ import annotations

import numpy as np
import pytest

from edge.decode import DecodeParams, decode_anchors, decode_end_to_end, nms_per_class

NC = 3


def anchors(*rows: tuple[float, float, float, float, int, float]) -> np.ndarray:
    """(4 + NC, N) output from (cx, cy, w, h, class, score) rows; other classes score 0.01."""
    out = np.full((4 + NC, max(len(rows), 1)), 0.01, np.float32)
    out[:4] = 0
    for i, (cx, cy, w, h, cls, score) in enumerate(rows):
        out[:4, i] = (cx, cy, w, h)
        out[4 + cls, i] = score
    return out


A = (50, 50, 20, 20)  # a box at (40, 40)-(60, 60)
A_SHIFTED = (52, 51, 20, 20)  # IoU with A about 0.76
FAR = (150, 150, 20, 20)

ANCHOR_CASES = [
    ("empty", anchors(), DecodeParams(), []),
    ("below threshold", anchors((*A, 0, 0.2)), DecodeParams(), []),
    ("at threshold is out", anchors((*A, 0, 0.25)), DecodeParams(), []),
    ("one", anchors((*A, 1, 0.9)), DecodeParams(), [(1, 0.9)]),
    ("overlap same class: best kept", anchors((*A, 0, 0.8), (*A_SHIFTED, 0, 0.9)), DecodeParams(),
     [(0, 0.9)]),
    ("overlap different classes: both kept", anchors((*A, 0, 0.8), (*A_SHIFTED, 2, 0.9)), DecodeParams(),
     [(2, 0.9), (0, 0.8)]),
    ("overlap below IoU threshold kept", anchors((*A, 0, 0.8), (*A_SHIFTED, 0, 0.9)),
     DecodeParams(iou_threshold=0.8), [(0, 0.9), (0, 0.8)]),
    ("apart same class: both kept", anchors((*A, 0, 0.5), (*FAR, 0, 0.7)), DecodeParams(),
     [(0, 0.7), (0, 0.5)]),
    ("class filter", anchors((*A, 0, 0.5), (*FAR, 1, 0.7)), DecodeParams(classes=np.array([0], np.int32)),
     [(0, 0.5)]),
    ("max detections, best first", anchors((*A, 0, 0.5), (*FAR, 1, 0.7), (250, 250, 10, 10, 2, 0.6)),
     DecodeParams(max_detections=2), [(1, 0.7), (2, 0.6)]),
]


@pytest.mark.parametrize(("output", "params", "expected"), [c[1:] for c in ANCHOR_CASES],
                         ids=[c[0] for c in ANCHOR_CASES])
def test_decode_anchors_table(
    output: np.ndarray, params: DecodeParams, expected: list[tuple[int, float]],
) -> None:
    xyxy, score, class_id = decode_anchors(output, params)
    assert class_id.tolist() == [c for c, _ in expected]
    assert score.tolist() == pytest.approx([s for _, s in expected], abs=1e-6)
    assert xyxy.shape == (len(expected), 4) and xyxy.dtype == np.float32 and class_id.dtype == np.int32


def test_decode_anchors_converts_centre_size_to_corners() -> None:
    xyxy, _, _ = decode_anchors(anchors((*A, 0, 0.9)), DecodeParams())
    np.testing.assert_allclose(xyxy, [[40, 40, 60, 60]])


def end_to_end(*rows: tuple[float, float, float, float, float, int], k: int = 8) -> np.ndarray:
    out = np.zeros((k, 6), np.float32)
    out[: len(rows)] = np.array(rows, np.float32).reshape(-1, 6) if rows else out[:0]
    return out


E2E_CASES = [
    ("empty", end_to_end(), DecodeParams(), []),
    ("one", end_to_end((1, 2, 30, 40, 0.9, 3)), DecodeParams(), [(3, 0.9)]),
    ("below threshold", end_to_end((1, 2, 30, 40, 0.1, 3)), DecodeParams(), []),
    ("overlap kept: the model already suppressed", end_to_end((1, 2, 30, 40, 0.6, 0), (1, 2, 30, 41, 0.8, 0)),
     DecodeParams(), [(0, 0.8), (0, 0.6)]),
    ("class filter", end_to_end((1, 2, 30, 40, 0.6, 0), (5, 5, 9, 9, 0.8, 1)),
     DecodeParams(classes=np.array([0, 2], np.int32)), [(0, 0.6)]),
    ("max detections", end_to_end((1, 2, 3, 4, 0.6, 0), (5, 5, 9, 9, 0.8, 1), (0, 0, 1, 1, 0.7, 2)),
     DecodeParams(max_detections=2), [(1, 0.8), (2, 0.7)]),
]


@pytest.mark.parametrize(("output", "params", "expected"), [c[1:] for c in E2E_CASES],
                         ids=[c[0] for c in E2E_CASES])
def test_decode_end_to_end_table(output: np.ndarray, params: DecodeParams,
                                 expected: list[tuple[int, float]]) -> None:
    xyxy, score, class_id = decode_end_to_end(output, params)
    assert class_id.tolist() == [c for c, _ in expected]
    assert score.tolist() == pytest.approx([s for _, s in expected], abs=1e-6)
    assert xyxy.shape == (len(expected), 4)


def test_end_to_end_boxes_pass_through_unchanged() -> None:
    xyxy, _, _ = decode_end_to_end(end_to_end((1.5, 2.5, 30, 40, 0.9, 3)), DecodeParams())
    np.testing.assert_allclose(xyxy, [[1.5, 2.5, 30, 40]])


def test_nms_keeps_highest_first_across_classes() -> None:
    xyxy = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10], [50, 50, 60, 60]], np.float32)
    score = np.array([0.9, 0.8, 0.7, 0.95], np.float32)
    kept = nms_per_class(xyxy, score, np.array([0, 0, 1, 0], np.int32), 0.45)
    assert kept.tolist() == [3, 0, 2]
    none = nms_per_class(np.empty((0, 4), np.float32), np.empty(0, np.float32), np.empty(0, np.int32), 0.5)
    assert none.size == 0
