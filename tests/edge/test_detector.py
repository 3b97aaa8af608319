"""The Detector end to end: reproduces Ultralytics' recorded detections, batches, refuses bad input."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.detector import Detector, StageTimes, choose_providers
from edge.errors import EdgeError
from edge.types import Detections
from models.errors import ModelError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "detector"
REFERENCES = sorted(FIXTURES.glob("*__*.json"))
SHARED_MODELS = ("yolov8n-coco-int8-640.onnx", "yolo11n-coco-int8-320.onnx",
                 "yolo26n-coco-int8-640-nms-free.onnx")


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x1, y1 = np.maximum(box[0], boxes[:, 0]), np.maximum(box[1], boxes[:, 1])
    x2, y2 = np.minimum(box[2], boxes[:, 2]), np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / (area + areas - inter)


def assert_matches_reference(found: Detections, reference: list[dict]) -> None:
    """Same classes and count; each reference box matched once: same class, IoU >= 0.9, score +-0.03."""
    assert sorted(found.class_id.tolist()) == sorted(r["class_id"] for r in reference)
    unused = np.ones(len(found), bool)
    for ref in reference:
        iou = _iou(np.array(ref["xyxy"], np.float32), found.xyxy)
        iou[~unused | (found.class_id != ref["class_id"])] = -1
        best = int(iou.argmax())
        assert iou[best] >= 0.9, f"{ref['class_name']} {ref['xyxy']}: best IoU {iou[best]:.3f}"
        assert abs(float(found.confidence[best]) - ref["score"]) <= 0.03, f"{ref} vs {found.confidence[best]}"
        unused[best] = False


@pytest.mark.needs_models
@pytest.mark.parametrize("fixture", REFERENCES, ids=[p.stem for p in REFERENCES])
def test_reproduces_ultralytics_reference(fixture: Path, shared_model, shared_media) -> None:
    ref = json.loads(fixture.read_text())
    model = shared_model(ref["model"])
    detector = Detector(model, conf_threshold=ref["params"]["conf"], iou_threshold=ref["params"]["iou"],
                        max_detections=ref["params"]["max_det"])
    assert detector.spec.sha256 == ref["model_sha256"], f"{model} is not the file the reference used"
    image = cv2.imread(str(shared_media(ref["image"])))
    detections, times = detector.detect(image)
    assert_matches_reference(detections, ref["detections"])
    assert min(times.preprocess_ms, times.inference_ms, times.postprocess_ms) >= 0


def test_reference_fixtures_cover_every_shared_model_on_both_photos() -> None:
    pairs = {(json.loads(p.read_text())["model"], json.loads(p.read_text())["image"]) for p in REFERENCES}
    assert pairs == {(m, i) for m in SHARED_MODELS for i in ("bus.jpg", "zidane.jpg")}


@pytest.mark.needs_models
def test_bus_photo_with_each_model_finds_four_people_and_a_bus(shared_model, shared_media) -> None:
    image = cv2.imread(str(shared_media("bus.jpg")))
    for name in SHARED_MODELS:
        detector = Detector(shared_model(name))
        detections, _ = detector.detect(image)
        names = sorted(detector.spec.class_name(int(c)) for c in detections.class_id)
        assert names == ["bus", "person", "person", "person", "person"], name
        h, w = image.shape[:2]
        assert (detections.xyxy >= 0).all() and (detections.xyxy[:, 0::2] <= w).all()
        assert (detections.xyxy[:, 1::2] <= h).all()


@pytest.mark.needs_models
def test_class_filter_and_threshold(shared_model, shared_media) -> None:
    image = cv2.imread(str(shared_media("bus.jpg")))
    only_bus, _ = Detector(shared_model("yolo11n-coco-int8-320.onnx"), classes=[5]).detect(image)
    assert only_bus.class_id.tolist() == [5]
    strict, _ = Detector(shared_model("yolo11n-coco-int8-320.onnx"), conf_threshold=0.8).detect(image)
    assert len(strict) == 1 and float(strict.confidence[0]) > 0.8


@pytest.mark.needs_models
def test_batch_on_fixed_batch_model_equals_one_by_one(shared_model, shared_media) -> None:
    detector = Detector(shared_model("yolo11n-coco-int8-320.onnx"))
    images = [cv2.imread(str(shared_media(n))) for n in ("bus.jpg", "zidane.jpg", "bus.jpg")]
    batch = detector.detect_batch(images)
    assert len(batch) == 3
    for image, (detections, times) in zip(images, batch, strict=True):
        single, _ = detector.detect(image)
        np.testing.assert_allclose(detections.xyxy, single.xyxy)
        assert isinstance(times, StageTimes)


def test_dynamic_batch_is_one_run_and_equals_one_by_one() -> None:
    detector = Detector(FIXTURES / "tiny-anchors-dynamic.onnx", conf_threshold=0.5)
    rng = np.random.default_rng(7)
    images = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in ((32, 32), (48, 64), (90, 30))]
    calls: list[tuple[int, ...]] = []
    run = detector._session.run

    def counting_run(names, feed):  # type: ignore[no-untyped-def]
        calls.append(next(iter(feed.values())).shape)
        return run(names, feed)

    detector._session.run = counting_run  # type: ignore[method-assign]
    batch = detector.detect_batch(images)
    assert calls == [(3, 3, 32, 32)]
    for image, (detections, times) in zip(images, batch, strict=True):
        single, _ = detector.detect(image)
        assert len(single) > 0
        np.testing.assert_allclose(detections.xyxy, single.xyxy, atol=1e-5)
        np.testing.assert_array_equal(detections.class_id, single.class_id)
        assert times.inference_ms >= 0 and times.total_ms >= times.inference_ms
    assert detector.detect_batch([]) == []


def test_prepared_frames_give_the_same_detections_as_detect() -> None:
    detector = Detector(FIXTURES / "tiny-anchors-dynamic.onnx", conf_threshold=0.5)
    image = np.random.default_rng(3).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    prepared = detector.prepare(image)
    assert prepared.blob.shape == (1, 3, *detector.spec.input_hw)
    assert prepared.preprocess_ms >= 0
    (detections, times), = detector.detect_prepared([prepared])
    single, _ = detector.detect(image)
    np.testing.assert_allclose(detections.xyxy, single.xyxy, atol=1e-5)
    assert times.preprocess_ms == prepared.preprocess_ms


def test_end_to_end_model_runs_without_nms() -> None:
    detector = Detector(FIXTURES / "tiny-end2end.onnx", conf_threshold=0.1)
    detections, _ = detector.detect(np.full((20, 40, 3), 200, np.uint8))
    assert len(detections) > 0 and (detections.xyxy[:, 2] <= 40).all() and (detections.xyxy[:, 3] <= 20).all()


def test_warmup_and_providers() -> None:
    detector = Detector(FIXTURES / "tiny-end2end.onnx", threads=1)
    detector.warmup(runs=1)
    assert detector.providers[-1] == "CPUExecutionProvider"


@pytest.mark.parametrize("image", [
    np.zeros((32, 32), np.uint8),
    np.zeros((32, 32, 4), np.uint8),
    np.zeros((32, 32, 3), np.float32),
], ids=["grey", "bgra", "float"])
def test_non_bgr_images_are_refused_with_their_shape(image: np.ndarray) -> None:
    detector = Detector(FIXTURES / "tiny-end2end.onnx")
    with pytest.raises(EdgeError, match=r"expects an HxWx3 uint8 BGR image, got shape"):
        detector.detect(image)


def test_bad_models_and_arguments(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="tiny-wrong-layout.onnx: output shape"):
        Detector(FIXTURES / "tiny-wrong-layout.onnx")
    text = tmp_path / "x.onnx"
    text.write_text("hello")
    with pytest.raises(ModelError, match="is not an ONNX model"):
        Detector(text)
    with pytest.raises(ValueError, match="conf_threshold must be within 0..1"):
        Detector(FIXTURES / "tiny-end2end.onnx", conf_threshold=1.5)


@pytest.mark.parametrize(("requested", "available", "chosen"), [
    (None, ["AzureExecutionProvider", "CPUExecutionProvider"], ["CPUExecutionProvider"]),
    (None, ["CPUExecutionProvider", "CUDAExecutionProvider"],
     ["CUDAExecutionProvider", "CPUExecutionProvider"]),
    (["CPUExecutionProvider"], ["CUDAExecutionProvider", "CPUExecutionProvider"], ["CPUExecutionProvider"]),
    (None, [], ["CPUExecutionProvider"]),
])
def test_choose_providers(requested: list[str] | None, available: list[str], chosen: list[str]) -> None:
    assert choose_providers(requested, available) == chosen


def test_requesting_a_missing_provider_is_a_model_error() -> None:
    with pytest.raises(ModelError, match=r"\['CUDAExecutionProvider'\] are not installed; available"):
        choose_providers(["CUDAExecutionProvider"], ["CPUExecutionProvider"])
