"""The manifest written beside a model file (name, version, hash, classes) so a fleet can roll it out."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.errors import ModelError
from models.spec import ModelSpec

MANIFEST_SCHEMA = 1


class ModelManifest(BaseModel):
    """One model release: enough for a gateway to check it got the right bytes and knows the classes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = Field(MANIFEST_SCHEMA, alias="schema", description="manifest format version")
    name: str = Field(min_length=1, description="model name, e.g. 'yolo11n-coco-320'")
    version: str = Field(min_length=1, description="release version chosen by whoever exported it")
    file: str = Field(description="model file name, in the same folder as the manifest")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="sha256 of the model file")
    family: str = Field(description="detector family, e.g. 'yolo11'")
    input_hw: tuple[int, int] = Field(description="network input (height, width) in pixels")
    layout: str = Field(description="output layout: 'anchors' (needs NMS) or 'end-to-end'")
    classes: list[str] = Field(description="class names, index = class id")
    created_utc: str = Field(description="when the manifest was written, ISO 8601 UTC")


def manifest_path(model_path: Path) -> Path:
    return model_path.with_suffix(".manifest.json")


def manifest_for(spec: ModelSpec, *, name: str, version: str) -> ModelManifest:
    return ModelManifest(
        schema=MANIFEST_SCHEMA, name=name, version=version, file=spec.path.name, sha256=spec.sha256,
        family=spec.family, input_hw=spec.input_hw, layout=spec.layout.value, classes=list(spec.class_names),
        created_utc=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    )


def write_manifest(spec: ModelSpec, *, name: str, version: str) -> Path:
    """Write ``<model>.manifest.json`` beside the model and return its path."""
    path = manifest_path(spec.path)
    manifest = manifest_for(spec, name=name, version=version)
    path.write_text(json.dumps(manifest.model_dump(by_alias=True), indent=2) + "\n", encoding="utf-8")
    return path


def read_manifest(path: Path) -> ModelManifest:
    try:
        return ModelManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError) as exc:
        raise ModelError(f"{path}: not a valid model manifest ({exc})") from exc
