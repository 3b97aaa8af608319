"""Letterbox geometry (Ultralytics' rounding), the input blob, and mapping boxes back to frame pixels."""

from __future__ import annotations

import numpy as np
import pytest

from edge.letterbox import PAD_VALUE, fit, letterbox_image, preprocess, to_frame_xyxy

GEOMETRY = [
    # frame (h, w), input (h, w), resized (w, h), pads (left, top, right, bottom)
    ((640, 640), (640, 640), (640, 640), (0, 0, 0, 0)),  # square, same size
    ((1080, 810), (640, 640), (480, 640), (80, 0, 80, 0)),  # tall photo (bus.jpg)
    ((720, 1280), (640, 640), (640, 360), (0, 140, 0, 140)),  # wide 16:9
    ((1280, 720), (320, 320), (180, 320), (70, 0, 70, 0)),  # tall 9:16 into 320
    ((576, 768), (320, 320), (320, 240), (0, 40, 0, 40)),  # the pedestrian clip
    ((480, 641), (640, 640), (640, 479), (0, 80, 0, 81)),  # odd padding: the extra pixel goes bottom
    ((10, 10), (640, 640), (640, 640), (0, 0, 0, 0)),  # tiny: scaled up
    ((1, 3000), (640, 640), (640, 1), (0, 319, 0, 320)),  # one pixel high stays one pixel
    ((720, 1280), (384, 640), (640, 360), (0, 12, 0, 12)),  # non-square network input
]


@pytest.mark.parametrize(("frame_hw", "input_hw", "resized_wh", "pads"), GEOMETRY)
def test_fit_table(frame_hw: tuple[int, int], input_hw: tuple[int, int], resized_wh: tuple[int, int],
                   pads: tuple[int, int, int, int]) -> None:
    box = fit(frame_hw, input_hw)
    assert box.resized_wh == resized_wh
    assert (box.pad_left, box.pad_top, box.pad_right, box.pad_bottom) == pads
    assert box.resized_wh[0] + box.pad_left + box.pad_right == input_hw[1]
    assert box.resized_wh[1] + box.pad_top + box.pad_bottom == input_hw[0]


def test_fit_rejects_empty_frames() -> None:
    with pytest.raises(ValueError, match="frame size must be positive"):
        fit((0, 640), (640, 640))


@pytest.mark.parametrize(("frame_hw", "input_hw", "resized_wh", "pads"), GEOMETRY)
def test_letterboxed_image_is_input_sized_and_grey_padded(
    frame_hw: tuple[int, int], input_hw: tuple[int, int], resized_wh: tuple[int, int],
    pads: tuple[int, int, int, int],
) -> None:
    image = np.zeros((*frame_hw, 3), np.uint8)
    out = letterbox_image(image, fit(frame_hw, input_hw))
    assert out.shape == (*input_hw, 3)
    left, top, _, _ = pads
    assert (out[top:top + resized_wh[1], left:left + resized_wh[0]] == 0).all()
    assert int(out.sum()) == PAD_VALUE * 3 * (input_hw[0] * input_hw[1] - resized_wh[0] * resized_wh[1])


def test_blob_is_nchw_rgb_zero_to_one() -> None:
    image = np.zeros((100, 200, 3), np.uint8)
    image[..., 0] = 255  # pure blue in BGR
    blob, box = preprocess(image, (64, 64))
    assert blob.shape == (1, 3, 64, 64) and blob.dtype == np.float32 and blob.flags.c_contiguous
    inside = (slice(box.pad_top, box.pad_top + box.resized_wh[1]), slice(0, 64))
    assert np.allclose(blob[0, 2][inside], 1.0) and np.allclose(blob[0, 0][inside], 0.0)
    assert np.allclose(blob[0, :, 0, 0], PAD_VALUE / 255)  # top-left corner is padding


@pytest.mark.parametrize(("frame_hw", "input_hw"), [(g[0], g[1]) for g in GEOMETRY])
def test_boxes_map_back_to_frame_pixels(frame_hw: tuple[int, int], input_hw: tuple[int, int]) -> None:
    box = fit(frame_hw, input_hw)
    h, w = frame_hw
    frame_xyxy = np.array([[0, 0, w, h], [w * 0.25, h * 0.1, w * 0.5, h * 0.9]], np.float32)
    input_xyxy = frame_xyxy.copy()
    input_xyxy[:, 0::2] = input_xyxy[:, 0::2] * box.scale_x + box.pad_left
    input_xyxy[:, 1::2] = input_xyxy[:, 1::2] * box.scale_y + box.pad_top
    np.testing.assert_allclose(to_frame_xyxy(input_xyxy, box), frame_xyxy, atol=1e-3 * max(h, w))


def test_boxes_reaching_into_the_padding_are_clipped_to_the_frame() -> None:
    box = fit((1080, 810), (640, 640))  # 80 px of padding left and right
    out = to_frame_xyxy(np.array([[10, -5, 700, 650]], np.float32), box)
    np.testing.assert_allclose(out, [[0, 0, 810, 1080]])


def test_no_boxes_map_to_no_boxes() -> None:
    assert to_frame_xyxy(np.empty((0, 4), np.float32), fit((100, 100), (64, 64))).shape == (0, 4)
