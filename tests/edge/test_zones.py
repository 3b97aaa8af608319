"""Runtime zone geometry: anchors, point-in-polygon, object masks, line sides and crossings."""

from __future__ import annotations

import numpy as np
import pytest

from edge.rules import COCO_CLASS_NAMES
from edge.types import Detections
from edge.zones import PixelPolygon, SceneGeometry, anchor_points
from kernel.camera_config import Anchor, CameraConfig, LineDirection

W, H = 640, 480


def boxes(*xyxy: tuple[float, float, float, float], class_id: int = 0) -> Detections:
    n = len(xyxy)
    return Detections(np.array(xyxy, np.float32).reshape(n, 4), np.full(n, 0.9, np.float32),
                      np.full(n, class_id, np.int32))


def camera(**sections: object) -> CameraConfig:
    return CameraConfig.model_validate({"camera_id": "c", "source": {"url": "x.mp4"}, **sections})


@pytest.mark.parametrize(("anchor", "expected"), [
    (Anchor.BOTTOM_CENTRE, [[[30, 40]]]),
    (Anchor.CENTRE, [[[30, 30]]]),
    (Anchor.TOP_CENTRE, [[[30, 20]]]),
    (Anchor.ANY_CORNER, [[[20, 20], [40, 20], [40, 40], [20, 40]]]),
])
def test_anchor_points(anchor: Anchor, expected: list) -> None:
    np.testing.assert_allclose(anchor_points(boxes((20, 20, 40, 40)), anchor), expected)


def test_anchor_points_of_no_boxes_is_empty() -> None:
    assert anchor_points(Detections.empty(), Anchor.CENTRE).shape == (0, 1, 2)


SQUARE = ((0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75))
CONCAVE_U = ((0.0, 0.0), (0.3, 0.0), (0.3, 0.7), (0.7, 0.7), (0.7, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))


@pytest.mark.parametrize(("polygon", "points", "inside"), [
    (SQUARE, [], []),
    (SQUARE, [(320, 240)], [True]),
    (SQUARE, [(0, 0), (639, 479), (100, 240)], [False, False, False]),
    (SQUARE, [(160, 240), (480, 360)], [True, True]),  # on the left edge and the bottom-right corner
    (CONCAVE_U, [(320, 100), (100, 100), (320, 400)], [False, True, True]),  # the notch is outside
    (((0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)), [(320, 480), (640, 479)], [True, True]),  # frame edge
])
def test_point_in_polygon(polygon: tuple, points: list, inside: list) -> None:
    poly = PixelPolygon.from_norm(polygon, W, H)
    assert poly.contains(np.array(points, np.float32).reshape(-1, 2)).tolist() == inside


def test_point_in_polygon_agrees_with_opencv_on_random_points() -> None:
    import cv2
    rng = np.random.default_rng(7)
    poly = PixelPolygon.from_norm(CONCAVE_U, W, H)
    points = rng.uniform(0, [W, H], size=(500, 2)).astype(np.float32)
    ours = poly.contains(points)
    contour = poly.vertices.reshape(-1, 1, 2)
    theirs = np.array([cv2.pointPolygonTest(contour, (float(x), float(y)), True) for x, y in points])
    clear = np.abs(theirs) > 1.0  # away from the outline, where rounding may differ
    assert (ours[clear] == (theirs[clear] > 0)).all()


def test_zone_membership_uses_the_zone_anchor() -> None:
    cam = camera(zones=[
        {"id": "feet", "polygon": SQUARE},
        {"id": "corner", "polygon": SQUARE, "anchor": "any_corner"},
    ])
    geometry = SceneGeometry(cam, W, H)
    # Box above the square whose bottom-right corner dips into it; its bottom centre is outside.
    dets = boxes((100, 50, 200, 130), (300, 200, 340, 300))
    assert geometry.in_zone("feet", dets).tolist() == [False, True]
    assert geometry.in_zone("corner", dets).tolist() == [True, True]
    assert geometry.in_zone(None, dets).tolist() == [True, True]


def test_object_masks_drop_anchored_detections_of_their_classes() -> None:
    cam = camera(masks=[
        {"id": "parking", "polygon": ((0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)), "classes": ["car"]},
        {"id": "tree", "polygon": ((0.9, 0.0), (1.0, 0.0), (1.0, 0.2))},
    ])
    geometry = SceneGeometry(cam, W, H)
    car = COCO_CLASS_NAMES.index("car")
    dets = Detections(
        np.array([[10, 10, 50, 50], [10, 10, 50, 50], [400, 10, 420, 50], [630, 0, 639, 10]], np.float32),
        np.full(4, 0.9, np.float32), np.array([car, 0, car, 0], np.int32))
    assert geometry.unmasked(dets, COCO_CLASS_NAMES).tolist() == [False, True, True, False]


@pytest.mark.parametrize(("previous", "current", "expected"), [
    ((320, 100), (320, 300), 1),    # downwards across a left-to-right line: from a (above) to b
    ((320, 300), (320, 100), -1),
    ((320, 100), (320, 200), 0),    # approaches but does not cross
    ((320, 300), (320, 400), 0),    # stays on side b
    ((600, 100), (600, 300), 0),    # crosses the line's extension, beyond its end point
])
def test_line_crossing_direction(previous: tuple, current: tuple, expected: int) -> None:
    cam = camera(lines=[{"id": "kerb", "points": ((0.1, 0.5), (0.8, 0.5))}])
    line = SceneGeometry(cam, W, H).lines["kerb"]
    crossed = line.crossings(np.array([previous], np.float32), np.array([current], np.float32))
    assert crossed.tolist() == [expected]


@pytest.mark.parametrize(("line_dir", "rule_dir", "crossing", "counts"), [
    (LineDirection.BOTH, None, 1, True),
    (LineDirection.BOTH, None, -1, True),
    (LineDirection.A_TO_B, None, -1, False),
    (LineDirection.A_TO_B, LineDirection.B_TO_A, -1, True),
    (LineDirection.BOTH, LineDirection.B_TO_A, 1, False),
    (LineDirection.BOTH, None, 0, False),
])
def test_line_direction_filter(line_dir, rule_dir, crossing, counts) -> None:
    cam = camera(lines=[{"id": "l", "points": ((0, 0.5), (1, 0.5)), "direction": line_dir}])
    assert SceneGeometry(cam, W, H).lines["l"].counts(crossing, rule_dir) is counts
