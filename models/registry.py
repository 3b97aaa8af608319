"""Where model files live and which one a gateway uses when none is named."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from models.errors import ModelError

MODELS_DIR_ENV = "GRIDWATCH_MODELS_DIR"
DEFAULT_STORE = Path("models/store")

HOW_TO_GET_ONE = (
    "get one with `gridwatch models export --weights yolo11n.pt --imgsz 320` on a workstation with "
    "the export extra (pip install 'gridwatch[export]'), or copy an Ultralytics detector ONNX file "
    "into one of those folders (or pass --model FILE)"
)


def model_dirs(data_dir: Path | None = None, env: Mapping[str, str] | None = None) -> list[Path]:
    """The folders searched for models, in order: $GRIDWATCH_MODELS_DIR, <data-dir>/models, ./models/store."""
    env = os.environ if env is None else env
    dirs = [Path(env[MODELS_DIR_ENV])] if env.get(MODELS_DIR_ENV) else []
    if data_dir is not None:
        dirs.append(data_dir / "models")
    dirs.append(DEFAULT_STORE)
    return dirs


def find_models(dirs: list[Path]) -> list[Path]:
    """Every ``*.onnx`` file in ``dirs`` (not recursive), in search order, each folder sorted by name."""
    found: list[Path] = []
    for folder in dirs:
        if folder.is_dir():
            found.extend(sorted(p for p in folder.glob("*.onnx") if p.is_file()))
    return found


def default_preference(path: Path) -> tuple[int, int, int]:
    """Sort key, smaller first: a gateway has two cores, so prefer YOLO11n at 320, then any nano, then 320."""
    stem = path.stem.lower()
    return ("yolo11n" not in stem, not any(n in stem for n in ("yolo11n", "yolov8n", "yolo26n")),
            "320" not in stem)


def resolve_model(
    explicit: Path | None = None, *, data_dir: Path | None = None, env: Mapping[str, str] | None = None,
) -> Path:
    """The model file to load: ``explicit`` if given (it must exist), else the preferred one found."""
    if explicit is not None:
        if not explicit.is_file():
            raise ModelError(f"{explicit}: no such model file")
        return explicit
    dirs = model_dirs(data_dir, env)
    found = find_models(dirs)
    if not found:
        searched = ", ".join(str(d) for d in dirs)
        raise ModelError(f"no detector model found (searched {searched}); {HOW_TO_GET_ONE}")
    # The first folder with a model wins (an operator's override beats the demo store); within it, preference.
    first_dir = found[0].parent
    return min((p for p in found if p.parent == first_dir), key=default_preference)
