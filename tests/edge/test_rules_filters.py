"""Object filter table: kept classes, confidence, per-class score and size limits, masks."""

from __future__ import annotations

import numpy as np
import pytest

from edge.rules.filters import COCO_CLASS_NAMES, ObjectFilter, class_name
from edge.types import Detections
from edge.zones import SceneGeometry
from kernel.camera_config import CameraConfig

W, H = 100, 100
PERSON, CAR = 0, 2


def one(xyxy: tuple, score: float = 0.9, class_id: int = PERSON) -> Detections:
    return Detections(np.array([xyxy], np.float32), np.array([score], np.float32),
                      np.array([class_id], np.int32))


@pytest.mark.parametrize(("config", "detection", "kept"), [
    ({}, one((10, 10, 20, 20)), True),
    ({"detect": {"conf_threshold": 0.5}}, one((10, 10, 20, 20), score=0.4), False),
    ({"detect": {"classes": ["car"]}}, one((10, 10, 20, 20)), False),
    ({"detect": {"classes": ["car"]}}, one((10, 10, 20, 20), class_id=CAR), True),
    ({"classes": {"person": {"min_score": 0.95}}}, one((10, 10, 20, 20)), False),
    ({"classes": {"person": {"min_score": 0.95}}}, one((10, 10, 20, 20), class_id=CAR), True),  # other class
    ({"classes": {"person": {"min_area_px": 101}}}, one((10, 10, 20, 20)), False),              # 100 px
    ({"classes": {"person": {"min_area_px": 100}}}, one((10, 10, 20, 20)), True),               # boundary
    ({"classes": {"person": {"min_area_frac": 0.02}}}, one((10, 10, 20, 20)), False),           # 1 %
    ({"classes": {"person": {"min_area_frac": 0.01}}}, one((10, 10, 20, 20)), True),
    ({"masks": [{"id": "m", "polygon": [[0, 0], [0.5, 0], [0.5, 0.5]]}]}, one((10, 10, 20, 20)), True),
    ({"masks": [{"id": "m", "polygon": [[0, 0], [0.5, 0], [0, 0.5]]}]}, one((10, 10, 20, 20)), False),
])
def test_object_filter(config: dict, detection: Detections, kept: bool) -> None:
    camera = CameraConfig.model_validate({"camera_id": "c", "source": {"url": "x"}, **config})
    filtered = ObjectFilter(camera, COCO_CLASS_NAMES, (W, H)).apply(detection, SceneGeometry(camera, W, H))
    assert len(filtered) == int(kept)


def test_filter_of_nothing_is_nothing() -> None:
    camera = CameraConfig.model_validate({"camera_id": "c", "source": {"url": "x"}})
    assert len(ObjectFilter(camera, COCO_CLASS_NAMES, (W, H)).apply(Detections.empty(),
                                                                   SceneGeometry(camera, W, H))) == 0


@pytest.mark.parametrize(("class_id", "name"), [(0, "person"), (79, "toothbrush"), (80, "80"), (-1, "-1")])
def test_class_names_fall_back_to_the_id(class_id: int, name: str) -> None:
    assert class_name(COCO_CLASS_NAMES, class_id) == name
