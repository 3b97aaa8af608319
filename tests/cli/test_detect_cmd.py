"""`gridwatch detect` on photos and clips: text and JSON lines, annotated copies, errors for bad media."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from gridwatch.cli.main import app

pytestmark = pytest.mark.needs_models
runner = CliRunner()
MODEL = "yolo11n-coco-int8-320.onnx"


def _clip(source: Path, out: Path, frames: int) -> Path:
    """The first ``frames`` frames of a video, re-encoded: a short real clip for fast tests."""
    capture = cv2.VideoCapture(str(source))
    writer = None
    for _ in range(frames):
        ok, image = capture.read()
        assert ok
        if writer is None:
            writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), 10.0, image.shape[1::-1])
        writer.write(image)
    capture.release()
    assert writer is not None
    writer.release()
    return out


def test_text_output_lists_class_score_and_box(shared_model, shared_media) -> None:
    bus = shared_media("bus.jpg")
    result = runner.invoke(app, ["detect", str(bus), "--model", str(shared_model(MODEL))])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"{bus}: 5 detections"
    assert sum(line.split()[0] == "person" for line in lines[1:]) == 4
    assert any(line.split()[0] == "bus" and "[" in line for line in lines[1:])


def test_json_lines_parse_and_save_writes_annotated_image(shared_model, shared_media, tmp_path: Path) -> None:
    out = tmp_path / "annotated" / "bus.jpg"
    bus = shared_media("bus.jpg")
    result = runner.invoke(app, ["detect", str(bus), "--model", str(shared_model(MODEL)), "--json",
                                 "--conf", "0.5", "--save", str(out)])
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    record = json.loads(line)
    assert record["source"] == str(bus) and record["frame"] == 0
    assert {d["class_name"] for d in record["detections"]} == {"person", "bus"}
    assert all(d["score"] > 0.5 and len(d["xyxy"]) == 4 and isinstance(d["class_id"], int)
               for d in record["detections"])
    saved = cv2.imread(str(out))
    original = cv2.imread(str(bus))
    assert saved is not None and saved.shape == original.shape and not np.array_equal(saved, original)


def test_video_prints_one_json_line_per_frame_and_saves_a_video(
    shared_model, shared_media, tmp_path: Path,
) -> None:
    clip = _clip(shared_media("pedestrians-768x576-10fps-150f.mp4"), tmp_path / "clip.mp4", frames=6)
    out = tmp_path / "annotated.mp4"
    result = runner.invoke(app, ["detect", str(clip), "--model", str(shared_model(MODEL)), "--json",
                                 "--save", str(out)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["frame"] for r in records] == list(range(6))
    assert sum(len(r["detections"]) for r in records) > 6  # about five people per frame
    capture = cv2.VideoCapture(str(out))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 6
    capture.release()


def test_truncated_video_is_a_clear_error(shared_model, shared_media, tmp_path: Path) -> None:
    data = shared_media("pedestrians-768x576-10fps-150f.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 3])
    result = runner.invoke(app, ["detect", str(cut), "--model", str(shared_model(MODEL))])
    assert result.exit_code == 1
    assert f"error: {cut}:" in result.stderr and "truncated" in result.stderr


@pytest.mark.parametrize("kind", ["truncated-jpeg", "text", "missing"])
def test_unreadable_image_is_a_clear_error(shared_model, shared_media, tmp_path: Path, kind: str) -> None:
    path = tmp_path / "snapshot.jpg"
    if kind == "truncated-jpeg":
        path.write_bytes(shared_media("bus.jpg").read_bytes()[:20_000])
    elif kind == "text":
        path.write_text("not a picture")
    result = runner.invoke(app, ["detect", str(path), "--model", str(shared_model(MODEL))])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path}:") and "Traceback" not in result.output


def test_missing_model_says_how_to_get_one(
    shared_media, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRIDWATCH_MODELS_DIR", raising=False)
    monkeypatch.delenv("GRIDWATCH_MODEL", raising=False)
    monkeypatch.delenv("GRIDWATCH_DATA_DIR", raising=False)
    result = runner.invoke(app, ["detect", str(shared_media("bus.jpg"))])
    assert result.exit_code == 1 and "gridwatch models export" in result.stderr
