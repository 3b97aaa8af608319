"""What a detector ONNX file is: family, input size, output layout and class names, read from its metadata."""

from __future__ import annotations

import ast
import enum
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnxruntime as ort

from models.errors import ModelError

_FAMILY_RE = re.compile(r"\bYOLO\s*(v?\d+)", re.IGNORECASE)
_EXPECTED = (
    "expected an Ultralytics-style detector: input 1x3xHxW and one output laid out "
    "1x(4+classes)xN (YOLOv8/11, needs NMS) or 1xKx6 (YOLOv10/26 end-to-end)"
)


class OutputLayout(enum.StrEnum):
    """How a detector's first output is laid out."""

    ANCHORS = "anchors"  # 1 x (4 + nc) x N: cx, cy, w, h, then one score per class; needs NMS
    END_TO_END = "end-to-end"  # 1 x K x 6: x1, y1, x2, y2, score, class; already suppressed


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """Everything the detector and the tooling need to know about one model file."""

    path: Path
    sha256: str
    family: str  # "yolov8", "yolo11", "yolo26", ... or "unknown"
    task: str
    input_name: str
    input_hw: tuple[int, int]  # (height, width) in pixels
    input_dtype: str  # numpy dtype name of the input tensor: "float32" or "float16"
    batch: int | None  # fixed batch size, or None when the batch dimension is dynamic
    output_name: str
    layout: OutputLayout
    num_boxes: int | None  # N anchors or K end-to-end slots (None when dynamic)
    class_names: tuple[str, ...]
    stride: int | None
    licence: str | None
    producer_version: str | None  # e.g. the Ultralytics version that exported it

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def needs_nms(self) -> bool:
        return self.layout is OutputLayout.ANCHORS

    @property
    def dynamic_batch(self) -> bool:
        return self.batch is None

    def class_name(self, class_id: int) -> str:
        """The class's name from the metadata, or its number when the model has none for it."""
        return self.class_names[class_id] if 0 <= class_id < len(self.class_names) else str(class_id)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (for `gridwatch models inspect --json` and manifests)."""
        return {
            "path": str(self.path), "sha256": self.sha256, "family": self.family, "task": self.task,
            "input_name": self.input_name, "input_hw": list(self.input_hw), "input_dtype": self.input_dtype,
            "batch": self.batch, "output_name": self.output_name, "layout": self.layout.value,
            "needs_nms": self.needs_nms, "num_boxes": self.num_boxes, "num_classes": self.num_classes,
            "class_names": list(self.class_names), "stride": self.stride, "licence": self.licence,
            "producer_version": self.producer_version,
        }


def open_session(
    path: Path, *, options: ort.SessionOptions | None = None, providers: list[str] | None = None,
) -> ort.InferenceSession:
    """An ONNX Runtime session on ``path``; anything ORT cannot load becomes a ModelError naming the file."""
    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    try:
        return ort.InferenceSession(
            str(path), sess_options=options, providers=providers or ["CPUExecutionProvider"],
        )
    except Exception as exc:  # ORT raises its own pybind classes (InvalidProtobuf, Fail, ...), no common root
        text = str(exc).strip() or type(exc).__name__
        # Keep ORT's reason, drop its "[ONNXRuntimeError] : 7 : ... Load model from <path> failed:" prefix.
        detail = text.rsplit("failed:", 1)[-1].strip().splitlines()[0].rstrip(".")
        if "INVALID_PROTOBUF" in text:
            raise ModelError(f"{path} is not an ONNX model ({detail}); {_EXPECTED}") from exc
        raise ModelError(f"{path}: onnxruntime could not load it ({detail})") from exc


def read_spec(path: Path) -> ModelSpec:
    """Load ``path`` once and describe it; raises ModelError when it is not a detector we support."""
    return spec_from_session(path, open_session(path))


def spec_from_session(path: Path, session: ort.InferenceSession) -> ModelSpec:
    """Describe the model behind an already open session."""
    meta = session.get_modelmeta().custom_metadata_map
    inputs, outputs = session.get_inputs(), session.get_outputs()
    task = meta.get("task", "detect")
    if task != "detect":
        raise ModelError(f"{path}: metadata says task {task!r}; expected a 'detect' model")
    if len(inputs) != 1 or not outputs:
        raise ModelError(f"{path}: has {len(inputs)} inputs and {len(outputs)} outputs; {_EXPECTED}")
    names = _parse_names(path, meta.get("names"))
    batch, input_hw = _input_geometry(path, inputs[0].shape, meta.get("imgsz"))
    layout, num_boxes, names = _output_layout(path, outputs[0].shape, names, meta.get("end2end"))
    return ModelSpec(
        path=path,
        sha256=file_sha256(path),
        family=_family(meta),
        task=task,
        input_name=inputs[0].name,
        input_hw=input_hw,
        input_dtype="float16" if inputs[0].type == "tensor(float16)" else "float32",
        batch=batch,
        output_name=outputs[0].name,
        layout=layout,
        num_boxes=num_boxes,
        class_names=names,
        stride=int(meta["stride"]) if meta.get("stride", "").isdigit() else None,
        licence=meta.get("license"),
        producer_version=meta.get("version"),
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _parse_names(path: Path, raw: str | None) -> tuple[str, ...]:
    """Ultralytics writes ``names`` as a Python dict literal ({0: 'person', ...}); never eval it."""
    if raw is None:
        return ()
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError) as exc:
        raise ModelError(f"{path}: metadata 'names' is not a dict literal ({raw[:60]!r}...)") from exc
    if isinstance(value, list):
        value = dict(enumerate(value))
    if not isinstance(value, dict) or sorted(value) != list(range(len(value))):
        raise ModelError(f"{path}: metadata 'names' must map 0..n-1 to class names, got {raw[:60]!r}")
    return tuple(str(value[i]) for i in range(len(value)))


def _input_geometry(path: Path, shape: list[Any], imgsz: str | None) -> tuple[int | None, tuple[int, int]]:
    if len(shape) != 4 or shape[1] != 3:
        raise ModelError(f"{path}: input shape is {shape}; {_EXPECTED}")
    batch = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else None
    h, w = shape[2], shape[3]
    if not (isinstance(h, int) and isinstance(w, int)):
        h, w = _imgsz_from_metadata(path, imgsz, shape)
    return batch, (h, w)


def _imgsz_from_metadata(path: Path, imgsz: str | None, shape: list[Any]) -> tuple[int, int]:
    try:
        value = ast.literal_eval(imgsz) if imgsz else None
    except (ValueError, SyntaxError):
        value = None
    if isinstance(value, int):
        return value, value
    if isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return int(value[0]), int(value[1])
    raise ModelError(f"{path}: input height/width are dynamic ({shape}) and metadata has no usable 'imgsz'")


def _output_layout(
    path: Path, shape: list[Any], names: tuple[str, ...], end2end: str | None,
) -> tuple[OutputLayout, int | None, tuple[str, ...]]:
    """Tell 1x(4+nc)xN from 1xKx6; the metadata's end2end flag settles the one ambiguous case (nc = 2)."""
    if len(shape) != 3:
        raise ModelError(f"{path}: output shape is {shape}; {_EXPECTED}")
    rows, cols = shape[1], shape[2]
    is_e2e_shape = cols == 6
    # Without class names, trust the shape only when there are more anchors than rows, as in every real head.
    anchors_fit = rows == 4 + len(names) if names else not isinstance(cols, int) or cols > rows
    is_anchor_shape = isinstance(rows, int) and rows > 4 and anchors_fit
    if is_e2e_shape and (end2end == "True" or not is_anchor_shape):
        return OutputLayout.END_TO_END, rows if isinstance(rows, int) else None, names
    if is_anchor_shape and end2end != "True":
        names = names or tuple(str(i) for i in range(rows - 4))
        return OutputLayout.ANCHORS, cols if isinstance(cols, int) else None, names
    detail = f" with {len(names)} class names in metadata" if names else ""
    raise ModelError(f"{path}: output shape is {shape}{detail}; {_EXPECTED}")


def _family(meta: dict[str, str]) -> str:
    match = _FAMILY_RE.search(meta.get("description", ""))
    return f"yolo{match.group(1).lower()}" if match else "unknown"
