"""Model resolution: explicit path, then the search folders in order, a gateway-friendly default, a how-to."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.errors import ModelError
from models.registry import DEFAULT_STORE, MODELS_DIR_ENV, find_models, model_dirs, resolve_model


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # ./models/store is relative to where the command runs


def _touch(folder: Path, *names: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / name for name in names]
    for path in paths:
        path.write_bytes(b"")
    return paths


def test_search_order_is_env_then_data_dir_then_store(tmp_path: Path) -> None:
    dirs = model_dirs(tmp_path / "data", env={MODELS_DIR_ENV: str(tmp_path / "env")})
    assert dirs == [tmp_path / "env", tmp_path / "data" / "models", DEFAULT_STORE]
    assert model_dirs(None, env={}) == [DEFAULT_STORE]


def test_explicit_path_wins_and_must_exist(tmp_path: Path) -> None:
    (model,) = _touch(tmp_path, "mine.onnx")
    _touch(tmp_path / DEFAULT_STORE, "yolo11n-320.onnx")
    assert resolve_model(model, env={}) == model
    with pytest.raises(ModelError, match="missing.onnx: no such model file"):
        resolve_model(tmp_path / "missing.onnx", env={})


@pytest.mark.parametrize(("names", "chosen"), [
    (["yolov8n-coco-int8-640.onnx", "yolo11n-coco-int8-320.onnx", "yolo26n-640.onnx"],
     "yolo11n-coco-int8-320.onnx"),
    (["yolo11n-640.onnx", "yolo11n-320.onnx"], "yolo11n-320.onnx"),
    (["yolov8s-320.onnx", "yolov8n-640.onnx"], "yolov8n-640.onnx"),
    (["custom-garbage.onnx"], "custom-garbage.onnx"),
])
def test_default_prefers_yolo11n_320(tmp_path: Path, names: list[str], chosen: str) -> None:
    _touch(tmp_path / DEFAULT_STORE, *names, "readme.txt")
    assert resolve_model(None, env={}).name == chosen


def test_first_folder_with_models_wins(tmp_path: Path) -> None:
    _touch(tmp_path / DEFAULT_STORE, "yolo11n-320.onnx")
    (override,) = _touch(tmp_path / "env", "operator-choice.onnx")
    _touch(tmp_path / "data" / "models", "yolo11n-320.onnx")
    env = {MODELS_DIR_ENV: str(tmp_path / "env")}
    assert resolve_model(None, data_dir=tmp_path / "data", env=env) == override
    data_model = tmp_path / "data" / "models" / "yolo11n-320.onnx"
    assert resolve_model(None, data_dir=tmp_path / "data", env={}) == data_model


def test_find_models_lists_only_onnx_files_in_search_order(tmp_path: Path) -> None:
    store = _touch(tmp_path / DEFAULT_STORE, "b.onnx", "a.onnx")
    (env_model,) = _touch(tmp_path / "env", "z.onnx")
    (tmp_path / "env" / "sub.onnx").mkdir()
    found = find_models([tmp_path / "env", tmp_path / "absent", DEFAULT_STORE])
    assert found == [env_model, DEFAULT_STORE / "a.onnx", DEFAULT_STORE / "b.onnx"]
    assert {p.name for p in store} == {"a.onnx", "b.onnx"}


def test_nothing_found_says_how_to_get_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as raised:
        resolve_model(None, data_dir=tmp_path / "data", env={})
    message = str(raised.value)
    assert "no detector model found" in message and str(tmp_path / "data" / "models") in message
    assert "gridwatch models export --weights yolo11n.pt --imgsz 320" in message
    assert "pip install 'gridwatch[export]'" in message
    assert "copy an Ultralytics detector ONNX file" in message
