"""ModelSpec: what the shared detectors and the tiny synthetic ones are; plain errors for the rest."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from models.errors import ModelError
from models.spec import OutputLayout, _family, _output_layout, _parse_names, read_spec

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "detector"
COCO_80 = tuple(str(i) for i in range(80))

SHARED = [
    # file, family, input (h, w), layout, boxes, sha256 (from ../shared/README.md)
    ("yolov8n-coco-int8-640.onnx", "yolov8", (640, 640), OutputLayout.ANCHORS, 8400,
     "83de8f0d2cd521e00ae2b138c340a03dece35b060b3898509bdc69afff417312"),
    ("yolo11n-coco-int8-320.onnx", "yolo11", (320, 320), OutputLayout.ANCHORS, 2100,
     "5ea9b19c6c4d89041175fd2d4f9d2e1581d16f37b817021d547278fc5e2f2b58"),
    ("yolo26n-coco-int8-640-nms-free.onnx", "yolo26", (640, 640), OutputLayout.END_TO_END, 300,
     "912af18b308425e7214fb2ea198261a8a336522579c55c8422d5e40dca1c2a5d"),
]


@pytest.mark.needs_models
@pytest.mark.parametrize(("name", "family", "input_hw", "layout", "boxes", "sha256"), SHARED,
                         ids=[row[0] for row in SHARED])
def test_shared_models_are_described_from_their_metadata(
    shared_model, name: str, family: str, input_hw: tuple[int, int], layout: OutputLayout, boxes: int,
    sha256: str,
) -> None:
    spec = read_spec(shared_model(name))
    assert (spec.family, spec.input_hw, spec.layout, spec.num_boxes) == (family, input_hw, layout, boxes)
    assert spec.needs_nms is (layout is OutputLayout.ANCHORS)
    assert spec.task == "detect" and spec.batch == 1 and not spec.dynamic_batch
    assert spec.input_name == "images" and spec.input_dtype == "float32"
    assert spec.num_classes == 80
    assert spec.class_names[:3] == ("person", "bicycle", "car") and spec.class_name(79) == "toothbrush"
    assert spec.stride == 32 and spec.licence is not None and "AGPL" in spec.licence
    assert spec.sha256 == sha256


def test_tiny_dynamic_batch_model() -> None:
    spec = read_spec(FIXTURES / "tiny-anchors-dynamic.onnx")
    assert spec.batch is None and spec.dynamic_batch
    assert spec.layout is OutputLayout.ANCHORS and spec.class_names == ("alpha", "beta")
    assert spec.input_hw == (32, 32) and spec.num_boxes == 512


def test_tiny_end_to_end_model() -> None:
    spec = read_spec(FIXTURES / "tiny-end2end.onnx")
    assert spec.layout is OutputLayout.END_TO_END and not spec.needs_nms and spec.batch == 1
    assert spec.class_name(1) == "beta" and spec.class_name(7) == "7"


def test_text_file_named_onnx_is_not_an_onnx_model(tmp_path: Path) -> None:
    path = tmp_path / "notes.onnx"
    path.write_text("this is not a model\n")
    with pytest.raises(ModelError, match=r"notes\.onnx is not an ONNX model .*expected an Ultralytics"):
        read_spec(path)


@pytest.mark.needs_models
def test_truncated_model_is_not_an_onnx_model(shared_model, tmp_path: Path) -> None:
    path = tmp_path / "cut.onnx"
    path.write_bytes(shared_model("yolo11n-coco-int8-320.onnx").read_bytes()[:200_000])
    with pytest.raises(ModelError, match=r"cut\.onnx is not an ONNX model"):
        read_spec(path)


def test_model_with_another_output_layout_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "flat.onnx"
    shutil.copy(FIXTURES / "tiny-wrong-layout.onnx", path)
    expected = r"flat\.onnx: output shape is \[1, 3072\]; expected .*1x\(4\+classes\)xN"
    with pytest.raises(ModelError, match=expected):
        read_spec(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such model file"):
        read_spec(tmp_path / "absent.onnx")


@pytest.mark.parametrize(("raw", "expected"), [
    (None, ()),
    ("{0: 'person', 1: 'bus'}", ("person", "bus")),
    ("{1: 'b', 0: 'a'}", ("a", "b")),
    ("['x', 'y']", ("x", "y")),
])
def test_names_parse_as_literals(raw: str | None, expected: tuple[str, ...]) -> None:
    assert _parse_names(Path("m.onnx"), raw) == expected


@pytest.mark.parametrize("raw", [
    "__import__('os').system('true')",  # never evaluated, only parsed as a literal
    "{0: 'a', 2: 'c'}",
    "'person'",
    "{0: 'a',",
])
def test_bad_names_metadata_is_a_model_error(raw: str) -> None:
    with pytest.raises(ModelError, match="m.onnx: metadata 'names'"):
        _parse_names(Path("m.onnx"), raw)


@pytest.mark.parametrize(("shape", "names", "end2end", "layout", "num_classes"), [
    ([1, 84, 8400], COCO_80, "False", OutputLayout.ANCHORS, 80),
    ([1, 84, 2100], (), None, OutputLayout.ANCHORS, 80),  # no names: classes from the shape
    ([1, 300, 6], COCO_80, "True", OutputLayout.END_TO_END, 80),
    ([1, 300, 6], (), None, OutputLayout.END_TO_END, 0),
    ([1, 6, 8400], ("a", "b"), None, OutputLayout.ANCHORS, 2),  # 2 classes: 4 + 2 = 6 rows
    ([1, 6, 6], ("a", "b"), "True", OutputLayout.END_TO_END, 2),  # the one ambiguous shape: metadata decides
    (["batch", 84, 8400], COCO_80, None, OutputLayout.ANCHORS, 80),
])
def test_output_layout_table(shape: list[object], names: tuple[str, ...], end2end: str | None,
                             layout: OutputLayout, num_classes: int) -> None:
    found, _, found_names = _output_layout(Path("m.onnx"), shape, names, end2end)
    assert found is layout and len(found_names) == num_classes


@pytest.mark.parametrize(("shape", "names"), [
    ([1, 116, 8400], COCO_80),  # segmentation head: 4 + 80 + 32 mask coefficients
    ([1, 56, 8400], ("person",)),  # pose head
    ([1, 3072], ()),
    ([1, 300, 7], ()),
])
def test_unknown_output_layouts_are_rejected(shape: list[object], names: tuple[str, ...]) -> None:
    with pytest.raises(ModelError, match=r"m\.onnx: output shape .* expected an Ultralytics-style detector"):
        _output_layout(Path("m.onnx"), shape, names, None)


@pytest.mark.parametrize(("description", "family"), [
    ("Ultralytics YOLOv8n model trained on coco.yaml", "yolov8"),
    ("Ultralytics YOLO11n model trained on /usr/src/coco.yaml", "yolo11"),
    ("Ultralytics YOLO26n model trained on coco.yaml", "yolo26"),
    ("", "unknown"),
])
def test_family_from_description(description: str, family: str) -> None:
    assert _family({"description": description}) == family
