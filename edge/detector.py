"""The YOLO detector: an ONNX Runtime session with timed preprocess -> inference -> postprocess stages."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from edge.decode import DecodeParams, decode_anchors, decode_end_to_end
from edge.errors import EdgeError
from edge.letterbox import Letterbox, fit, letterbox_image, to_blob, to_frame_xyxy
from edge.types import Detections, StageTimes
from models.errors import ModelError
from models.spec import ModelSpec, OutputLayout, open_session, spec_from_session

log = logging.getLogger(__name__)

# Accelerators first when their ONNX Runtime build is installed; CPU is always the last resort.
PROVIDER_PREFERENCE = (
    "TensorrtExecutionProvider", "CUDAExecutionProvider", "OpenVINOExecutionProvider",
    "CoreMLExecutionProvider", "CPUExecutionProvider",
)


def choose_providers(requested: Sequence[str] | None, available: Sequence[str]) -> list[str]:
    """The execution providers to use: ``requested`` (all must be installed), else the best installed ones."""
    if requested:
        missing = [p for p in requested if p not in available]
        if missing:
            raise ModelError(f"execution providers {missing} are not installed; available: {list(available)}")
        return list(requested)
    chosen = [p for p in PROVIDER_PREFERENCE if p in available]
    return chosen or ["CPUExecutionProvider"]


@dataclass(frozen=True, slots=True)
class PreparedFrame:
    """A frame converted to network input: its (1, 3, H, W) blob and the letterbox that maps boxes back."""

    blob: npt.NDArray[np.float32]
    box: Letterbox
    preprocess_ms: float


class Detector:
    """Runs one ONNX detector on BGR frames; safe to call from one worker thread while others capture."""

    def __init__(
        self,
        model_path: Path,
        *,
        threads: int = 2,
        providers: Sequence[str] | None = None,
        conf_threshold: float = 0.25,
        iou_threshold: float = 0.45,
        max_detections: int = 300,
        classes: Sequence[int] | None = None,
    ) -> None:
        for name, value in (("conf_threshold", conf_threshold), ("iou_threshold", iou_threshold)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within 0..1, got {value}")
        if threads < 1 or max_detections < 1:
            raise ValueError(f"threads and max_detections must be >= 1, got {threads} and {max_detections}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1  # the graph is one sequential chain; a second pool only costs cores
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # No busy-waiting between operators: on a 2-core gateway the spinning threads would take the CPU
        # that camera decoding, preprocessing and rules need (measured: about half the CPU per inference).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        chosen = choose_providers(providers, ort.get_available_providers())
        self._session = open_session(Path(model_path), options=options, providers=chosen)
        self.spec: ModelSpec = spec_from_session(Path(model_path), self._session)
        self._params = DecodeParams(
            conf_threshold=conf_threshold, iou_threshold=iou_threshold, max_detections=max_detections,
            classes=None if classes is None else np.asarray(classes, dtype=np.int32),
        )
        self._input_dtype = np.float16 if self.spec.input_dtype == "float16" else np.float32
        log.info("detector %s (%s, %s, input %dx%d) on %s with %d threads", self.spec.path.name,
                 self.spec.family, self.spec.layout.value, *self.spec.input_hw[::-1],
                 self._session.get_providers()[0], threads)

    @property
    def providers(self) -> list[str]:
        return list(self._session.get_providers())

    def warmup(self, runs: int = 2) -> None:
        """Run a blank frame through the network so the first real frame does not pay for allocations."""
        blank = np.full((*self.spec.input_hw, 3), 114, np.uint8)
        for _ in range(runs):
            self.detect(blank)

    def detect(self, image_bgr: npt.NDArray[np.uint8]) -> tuple[Detections, StageTimes]:
        """Objects in one BGR frame, boxes in that frame's pixels."""
        return self.detect_prepared([self.prepare(image_bgr)])[0]

    def detect_batch(
        self, images_bgr: Sequence[npt.NDArray[np.uint8]],
    ) -> list[tuple[Detections, StageTimes]]:
        """Objects in several frames: one network run per micro-batch when the model's batch is dynamic."""
        return self.detect_prepared([self.prepare(image) for image in images_bgr])

    def prepare(self, image_bgr: npt.NDArray[np.uint8]) -> PreparedFrame:
        """Letterbox and convert one frame to the network's input (the preprocess stage).

        Separate from inference so a gateway can prepare frames on the camera threads while the one
        inference thread runs the network on the previous ones.
        """
        t0 = time.perf_counter()
        box = self._fit(image_bgr)
        blob = to_blob([letterbox_image(image_bgr, box)])
        return PreparedFrame(blob, box, (time.perf_counter() - t0) * 1e3)

    def detect_prepared(self, frames: Sequence[PreparedFrame]) -> list[tuple[Detections, StageTimes]]:
        """Run the network on prepared frames; one run per micro-batch when the model's batch allows it.

        Each frame's ``inference_ms`` is the whole run it was part of (the time it waited on the network).
        """
        size = 1 if self.spec.batch == 1 else (self.spec.batch or max(len(frames), 1))
        results: list[tuple[Detections, StageTimes]] = []
        for start in range(0, len(frames), size):
            results.extend(self._run_chunk(frames[start:start + size]))
        return results

    def _run_chunk(self, chunk: Sequence[PreparedFrame]) -> list[tuple[Detections, StageTimes]]:
        blob = chunk[0].blob if len(chunk) == 1 else np.concatenate([f.blob for f in chunk])
        if self.spec.batch is not None and len(chunk) < self.spec.batch:  # fixed batch larger than we have
            blob = np.concatenate([blob, np.zeros((self.spec.batch - len(chunk), *blob.shape[1:]), blob.dtype)])
        t0 = time.perf_counter()
        output = self._infer(blob)
        inference_ms = (time.perf_counter() - t0) * 1e3
        results = []
        for i, frame in enumerate(chunk):
            p0 = time.perf_counter()
            detections = self._postprocess(output[i], frame.box)
            post_ms = (time.perf_counter() - p0) * 1e3
            results.append((detections, StageTimes(frame.preprocess_ms, inference_ms, post_ms)))
        return results

    def _fit(self, image_bgr: npt.NDArray[np.uint8]) -> Letterbox:
        if image_bgr.ndim != 3 or image_bgr.shape[2] != 3 or image_bgr.dtype != np.uint8:
            raise EdgeError(f"detector expects an HxWx3 uint8 BGR image, got shape {image_bgr.shape} "
                            f"dtype {image_bgr.dtype}")
        return fit((int(image_bgr.shape[0]), int(image_bgr.shape[1])), self.spec.input_hw)

    def _infer(self, blob: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        feed = blob if self._input_dtype is np.float32 else blob.astype(self._input_dtype)
        output = self._session.run([self.spec.output_name], {self.spec.input_name: feed})[0]
        return np.asarray(output, dtype=np.float32)

    def _postprocess(self, output: npt.NDArray[np.float32], box: Letterbox) -> Detections:
        if self.spec.layout is OutputLayout.ANCHORS:
            xyxy, confidence, class_id = decode_anchors(output, self._params)
        else:
            xyxy, confidence, class_id = decode_end_to_end(output, self._params)
        if len(confidence) == 0:
            return Detections.empty()
        return Detections(to_frame_xyxy(xyxy, box), confidence, class_id)
