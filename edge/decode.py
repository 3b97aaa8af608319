"""Raw detector outputs -> boxes, scores, class ids in network-input pixels (vectorised, class-aware NMS)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class DecodeParams:
    """Thresholds applied while decoding; ``classes`` keeps only those class ids (None = all)."""

    conf_threshold: float = 0.25
    iou_threshold: float = 0.45
    max_detections: int = 300
    classes: npt.NDArray[np.int32] | None = None


Decoded = tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.int32]]


def _empty() -> Decoded:
    return np.empty((0, 4), np.float32), np.empty(0, np.float32), np.empty(0, np.int32)


def decode_anchors(output: npt.NDArray[np.float32], params: DecodeParams) -> Decoded:
    """One image's ``(4 + nc, N)`` output (cx, cy, w, h, class scores) -> NMS-filtered xyxy, score, class."""
    scores = output[4:]  # (nc, N) view: no transpose copy of the whole tensor
    best = scores.max(axis=0)
    candidates = np.flatnonzero(best > params.conf_threshold)
    if candidates.size == 0:
        return _empty()
    class_id = scores[:, candidates].argmax(axis=0).astype(np.int32)
    confidence = best[candidates].astype(np.float32, copy=False)
    if params.classes is not None:
        keep = np.isin(class_id, params.classes)
        candidates, class_id, confidence = candidates[keep], class_id[keep], confidence[keep]
        if candidates.size == 0:
            return _empty()
    cxcywh = output[:4, candidates].T.astype(np.float32)  # (n, 4), n = candidates only
    xyxy = np.empty_like(cxcywh)
    half_wh = cxcywh[:, 2:] / 2
    xyxy[:, :2] = cxcywh[:, :2] - half_wh
    xyxy[:, 2:] = cxcywh[:, :2] + half_wh
    keep_idx = nms_per_class(xyxy, confidence, class_id, params.iou_threshold)[: params.max_detections]
    return xyxy[keep_idx], confidence[keep_idx], class_id[keep_idx]


def decode_end_to_end(output: npt.NDArray[np.float32], params: DecodeParams) -> Decoded:
    """One image's ``(K, 6)`` output (x1, y1, x2, y2, score, class), already suppressed by the model."""
    confidence = output[:, 4]
    keep = confidence > params.conf_threshold
    class_id = output[:, 5].astype(np.int32)
    if params.classes is not None:
        keep &= np.isin(class_id, params.classes)
    idx = np.flatnonzero(keep)
    idx = idx[np.argsort(-confidence[idx], kind="stable")][: params.max_detections]
    return output[idx, :4].astype(np.float32), confidence[idx].astype(np.float32), class_id[idx]


def nms_per_class(
    xyxy: npt.NDArray[np.float32], confidence: npt.NDArray[np.float32], class_id: npt.NDArray[np.int32],
    iou_threshold: float,
) -> npt.NDArray[np.intp]:
    """Indices kept by class-aware greedy NMS, highest score first (OpenCV's C++ NMS, one call in all)."""
    if len(confidence) == 0:
        return np.empty(0, np.intp)
    xywh = xyxy.copy()
    xywh[:, 2:] -= xyxy[:, :2]
    # score_threshold 0: candidates are already thresholded. Different classes never suppress each other.
    found = cv2.dnn.NMSBoxesBatched(xywh, confidence, class_id, 0.0, iou_threshold)  # type: ignore[arg-type]
    kept = np.asarray(found, dtype=np.intp).reshape(-1)
    # OpenCV returns per-class runs; re-sort so callers get one list, highest score first.
    return kept[np.argsort(-confidence[kept], kind="stable")]
