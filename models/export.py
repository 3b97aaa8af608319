"""`gridwatch models export`: Ultralytics weights -> ONNX detector plus its manifest (on a workstation)."""

from __future__ import annotations

import importlib
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.errors import ModelError
from models.manifest import write_manifest
from models.spec import ModelSpec, read_spec

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'gridwatch[export]'"


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What to export and where to put it."""

    weights: str  # a .pt file or an Ultralytics model name such as 'yolo11n.pt' (downloaded by Ultralytics)
    imgsz: int = 320
    int8: bool = False
    calibration_data: str | None = None  # dataset YAML for int8 calibration; Ultralytics' default when None
    out_dir: Path = Path("models/store")
    name: str | None = None  # manifest name; defaults to "<weights stem>-<imgsz>[-int8]"
    version: str = "1"


@dataclass(frozen=True, slots=True)
class ExportResult:
    spec: ModelSpec
    manifest_path: Path


def _ultralytics_yolo() -> Any:
    """Ultralytics' YOLO class; it is an optional extra, imported here and nowhere else in gridwatch."""
    try:
        return importlib.import_module("ultralytics").YOLO
    except ImportError as exc:
        raise ModelError(
            f"exporting needs Ultralytics, which is not installed here: {INSTALL_HINT} on a workstation, "
            "export there, then copy the .onnx file (and its .manifest.json) to the gateway's models folder"
        ) from exc


def export_model(request: ExportRequest) -> ExportResult:
    """Run Ultralytics' ONNX export, move the file into ``out_dir`` and write its manifest beside it."""
    yolo = _ultralytics_yolo()
    name = request.name or f"{Path(request.weights).stem}-{request.imgsz}" + ("-int8" if request.int8 else "")
    options: dict[str, Any] = {"format": "onnx", "imgsz": request.imgsz, "int8": request.int8}
    if request.calibration_data:
        options["data"] = request.calibration_data
    log.info("exporting %s with Ultralytics (%s)", request.weights, options)
    try:
        exported = Path(str(yolo(request.weights).export(**options)))
    except Exception as exc:  # Ultralytics raises plain Exception/RuntimeError/FileNotFoundError alike
        raise ModelError(f"Ultralytics could not export {request.weights}: {exc}") from exc
    request.out_dir.mkdir(parents=True, exist_ok=True)
    target = request.out_dir / f"{name}.onnx"
    if exported.resolve() != target.resolve():
        shutil.move(str(exported), target)
    spec = read_spec(target)  # also proves the exported file is a layout the detector supports
    manifest = write_manifest(spec, name=name, version=request.version)
    return ExportResult(spec=spec, manifest_path=manifest)
