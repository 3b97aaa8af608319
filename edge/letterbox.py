"""Letterbox preprocessing for the detector and the inverse mapping of boxes back to frame pixels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

PAD_VALUE = 114  # Ultralytics' grey; the models were trained with it


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How one frame was fitted into the network input: resized to ``resized_wh``, then padded."""

    frame_hw: tuple[int, int]
    input_hw: tuple[int, int]
    resized_wh: tuple[int, int]
    pad_left: int
    pad_top: int
    pad_right: int
    pad_bottom: int

    @property
    def scale_x(self) -> float:
        return self.resized_wh[0] / self.frame_hw[1]

    @property
    def scale_y(self) -> float:
        return self.resized_wh[1] / self.frame_hw[0]


def fit(frame_hw: tuple[int, int], input_hw: tuple[int, int]) -> Letterbox:
    """The letterbox geometry, rounded as Ultralytics' LetterBox (center=True, scaleup=True) rounds it."""
    (h, w), (in_h, in_w) = frame_hw, input_hw
    if h <= 0 or w <= 0:
        raise ValueError(f"frame size must be positive, got {w}x{h}")
    r = min(in_h / h, in_w / w)
    new_w, new_h = max(round(w * r), 1), max(round(h * r), 1)
    dw, dh = (in_w - new_w) / 2, (in_h - new_h) / 2
    # The +-0.1 sends an odd pixel of padding to the bottom/right, as Ultralytics does.
    return Letterbox(
        frame_hw=(h, w), input_hw=(in_h, in_w), resized_wh=(new_w, new_h),
        pad_left=round(dw - 0.1), pad_top=round(dh - 0.1),
        pad_right=round(dw + 0.1), pad_bottom=round(dh + 0.1),
    )


def letterbox_image(image_bgr: npt.NDArray[np.uint8], box: Letterbox) -> npt.NDArray[np.uint8]:
    """The frame resized and padded to the network input size, still BGR HWC uint8."""
    new_w, new_h = box.resized_wh
    resized = image_bgr
    if (image_bgr.shape[1], image_bgr.shape[0]) != (new_w, new_h):
        resized = cast(npt.NDArray[np.uint8],
                       cv2.resize(image_bgr, (new_w, new_h), interpolation=cv2.INTER_LINEAR))
    if box.pad_left == box.pad_right == box.pad_top == box.pad_bottom == 0:
        return resized
    return cast(npt.NDArray[np.uint8], cv2.copyMakeBorder(
        resized, box.pad_top, box.pad_bottom, box.pad_left, box.pad_right,
        cv2.BORDER_CONSTANT, value=(PAD_VALUE, PAD_VALUE, PAD_VALUE),
    ))


def to_blob(images_bgr: list[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
    """Letterboxed BGR images -> one NCHW float32 RGB 0-1 tensor in a single pass (no intermediate copies)."""
    blob = cv2.dnn.blobFromImages(images_bgr, scalefactor=1 / 255.0, swapRB=True, crop=False)
    return cast(npt.NDArray[np.float32], blob)


def preprocess(
    image_bgr: npt.NDArray[np.uint8], input_hw: tuple[int, int],
) -> tuple[npt.NDArray[np.float32], Letterbox]:
    """One frame -> (1x3xHxW blob, its letterbox geometry)."""
    box = fit((int(image_bgr.shape[0]), int(image_bgr.shape[1])), input_hw)
    return to_blob([letterbox_image(image_bgr, box)]), box


def to_frame_xyxy(xyxy_input: npt.NDArray[np.float32], box: Letterbox) -> npt.NDArray[np.float32]:
    """Boxes in network-input pixels -> frame pixels, clipped to the frame (the input is not modified)."""
    out = np.array(xyxy_input, dtype=np.float32, copy=True).reshape(-1, 4)
    out[:, 0::2] -= box.pad_left
    out[:, 1::2] -= box.pad_top
    out[:, 0::2] /= box.scale_x
    out[:, 1::2] /= box.scale_y
    h, w = box.frame_hw
    np.clip(out[:, 0::2], 0, w, out=out[:, 0::2])
    np.clip(out[:, 1::2], 0, h, out=out[:, 1::2])
    return out
