"""Manifests beside models, and `models export` with and without Ultralytics (a fake stands in for it)."""

from __future__ import annotations

import json
import shutil
import sys
import types
from pathlib import Path

import pytest

from models.errors import ModelError
from models.export import ExportRequest, export_model
from models.manifest import manifest_path, read_manifest, write_manifest
from models.spec import read_spec

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "detector" / "tiny-anchors-dynamic.onnx"


def test_manifest_round_trip(tmp_path: Path) -> None:
    model = tmp_path / "tiny.onnx"
    shutil.copy(TINY, model)
    spec = read_spec(model)
    path = write_manifest(spec, name="tiny", version="3")
    assert path == tmp_path / "tiny.manifest.json" == manifest_path(model)
    manifest = read_manifest(path)
    assert (manifest.name, manifest.version, manifest.file) == ("tiny", "3", "tiny.onnx")
    assert manifest.sha256 == spec.sha256 and manifest.classes == ["alpha", "beta"]
    assert manifest.layout == "anchors" and manifest.input_hw == (32, 32)
    assert json.loads(path.read_text())["schema"] == 1
    assert manifest.created_utc.endswith("Z")


def test_bad_manifest_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "m.manifest.json"
    path.write_text('{"name": "x"}')
    with pytest.raises(ModelError, match=r"m\.manifest\.json: not a valid model manifest"):
        read_manifest(path)


def test_export_without_ultralytics_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    monkeypatch.setitem(sys.modules, "ultralytics", None)  # makes `import ultralytics` raise ImportError
    with pytest.raises(ModelError, match=r"pip install 'gridwatch\[export\]'"):
        export_model(ExportRequest(weights="yolo11n.pt", out_dir=tmp_path))


class _FakeYolo:
    """Stands in for ultralytics.YOLO: 'exports' by copying the tiny model next to the weights."""

    calls: list[dict[str, object]] = []

    def __init__(self, weights: str) -> None:
        self.weights = Path(weights)

    def export(self, **options: object) -> str:
        _FakeYolo.calls.append(options)
        out = self.weights.with_suffix(".onnx")
        shutil.copy(TINY, out)
        return str(out)


def test_export_moves_the_model_and_writes_its_manifest(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    monkeypatch.setitem(sys.modules, "ultralytics", types.SimpleNamespace(YOLO=_FakeYolo))
    weights = tmp_path / "work" / "yolo11n.pt"
    weights.parent.mkdir()
    request = ExportRequest(weights=str(weights), imgsz=320, out_dir=tmp_path / "store", version="7")
    result = export_model(request)
    assert _FakeYolo.calls[-1] == {"format": "onnx", "imgsz": 320, "int8": False}
    assert result.spec.path == tmp_path / "store" / "yolo11n-320.onnx" and result.spec.path.is_file()
    manifest = read_manifest(result.manifest_path)
    assert (manifest.name, manifest.version, manifest.sha256) == ("yolo11n-320", "7", result.spec.sha256)


def test_export_failure_is_a_model_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    class Broken:
        def __init__(self, weights: str) -> None:
            raise FileNotFoundError(f"{weights} does not exist")

    monkeypatch.setitem(sys.modules, "ultralytics", types.SimpleNamespace(YOLO=Broken))
    with pytest.raises(ModelError, match="Ultralytics could not export nope.pt: nope.pt does not exist"):
        export_model(ExportRequest(weights="nope.pt", out_dir=tmp_path))
