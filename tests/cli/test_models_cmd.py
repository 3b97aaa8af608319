"""`gridwatch models inspect|list|export` as a user runs them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridwatch.cli.main import app

runner = CliRunner()

SHARED = [
    ("yolov8n-coco-int8-640.onnx", "yolov8", "640x640", "anchors layout, 1x84x8400", "yes"),
    ("yolo11n-coco-int8-320.onnx", "yolo11", "320x320", "anchors layout, 1x84x2100", "yes"),
    ("yolo26n-coco-int8-640-nms-free.onnx", "yolo26", "640x640", "end-to-end layout, 1x300x6", "no"),
]


@pytest.mark.needs_models
@pytest.mark.parametrize(("name", "family", "size", "layout", "nms"), SHARED, ids=[s[0] for s in SHARED])
def test_inspect_prints_family_input_layout_classes_and_nms(
    shared_model, name: str, family: str, size: str, layout: str, nms: str,
) -> None:
    result = runner.invoke(app, ["models", "inspect", str(shared_model(name))])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"family:       {family}" in out
    assert f"images {size} px" in out
    assert f"output0 {layout}" in out
    assert f"needs NMS:    {nms}" in out
    assert "classes:      80" in out and "0=person" in out and "79=toothbrush" in out


@pytest.mark.needs_models
@pytest.mark.parametrize("name", [s[0] for s in SHARED])
def test_inspect_json(shared_model, name: str) -> None:
    result = runner.invoke(app, ["models", "inspect", "--json", str(shared_model(name))])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["num_classes"] == 80 and info["class_names"][0] == "person"
    assert info["needs_nms"] is (info["layout"] == "anchors")


@pytest.mark.parametrize("content", [b"just some text\n", b"\x08\x07" + bytes(range(256)) * 4],
                         ids=["text", "garbage"])
def test_inspect_non_onnx_file_is_one_line_exit_1(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(content)
    result = runner.invoke(app, ["models", "inspect", str(path)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path} is not an ONNX model")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


def test_inspect_wrong_layout_says_what_was_expected() -> None:
    path = Path(__file__).resolve().parents[1] / "fixtures" / "detector" / "tiny-wrong-layout.onnx"
    result = runner.invoke(app, ["models", "inspect", str(path)])
    assert result.exit_code == 1
    assert "output shape is [1, 3072]; expected an Ultralytics-style detector" in result.stderr


def test_list_marks_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("yolov8n-640.onnx", "yolo11n-320.onnx"):
        (tmp_path / name).write_bytes(b"")
    result = runner.invoke(app, ["models", "list"], env={"GRIDWATCH_MODELS_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert f"* {tmp_path / 'yolo11n-320.onnx'}" in result.stdout
    assert f"  {tmp_path / 'yolov8n-640.onnx'}" in result.stdout


def test_list_with_nothing_says_how_to_get_a_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRIDWATCH_MODELS_DIR", raising=False)
    result = runner.invoke(app, ["models", "list"])
    assert result.exit_code == 1
    assert "gridwatch models export --weights yolo11n.pt --imgsz 320" in result.stderr


def test_export_without_ultralytics(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "ultralytics", None)
    result = runner.invoke(app, ["models", "export", "--weights", "yolo11n.pt", "--out-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "pip install 'gridwatch[export]'" in result.stderr and "Traceback" not in result.output


def test_help_teaches_by_example() -> None:
    for command in (["models", "--help"], ["models", "inspect", "--help"], ["models", "export", "--help"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 0 and "gridwatch models" in result.stdout
