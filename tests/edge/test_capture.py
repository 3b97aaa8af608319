"""Capture readers: URL redaction, backoff, a generated file, a missing file, a truncated file, bad frames."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import numpy as np
import pytest

from edge.capture import CaptureReader, LatestFrame, SourceSpec, backoff_s, check_image, redact_url
from edge.errors import SourceError
from edge.sample_clip import ClipSpec, write_clip
from edge.types import Frame
from kernel.contracts.messages import Availability


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rtsp://admin:s3cret@10.0.0.5:554/stream1", "rtsp://***@10.0.0.5:554/stream1"),
        ("rtsp://admin@10.0.0.5/live", "rtsp://***@10.0.0.5/live"),
        ("http://cam.local/snap.mjpg?user=a&password=hunter2", "http://cam.local/snap.mjpg?user=a&password=***"),
        ("https://x.example/v?token=abc123&fps=5", "https://x.example/v?token=***&fps=5"),
        ("rtsp://u:p%40ss@host/a@b", "rtsp://***@host/a@b"),
        ("rtsp://10.0.0.5/stream1", "rtsp://10.0.0.5/stream1"),
        ("/var/video/clip.mp4", "/var/video/clip.mp4"),
        ("device:0", "device:0"),
        ("", ""),
    ],
)
def test_redact_url_hides_credentials(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [(0, 0.75, 1.25), (1, 1.5, 2.5), (3, 6.0, 10.0), (10, 22.5, 37.5), (1000, 22.5, 37.5)],
)
def test_backoff_doubles_up_to_the_cap_with_jitter(attempt: int, low: float, high: float) -> None:
    rng = random.Random(1)
    delays = [backoff_s(attempt, 1.0, 30.0, rng) for _ in range(50)]
    assert all(low <= d <= high for d in delays)
    assert len(set(delays)) > 1  # jittered, so cameras do not reconnect in lockstep


@pytest.mark.parametrize(
    ("url", "is_file", "device"),
    [("clip.mp4", True, None), ("device:2", False, 2), ("0", False, 0), ("rtsp://h/s", False, None)],
)
def test_source_kinds(url: str, is_file: bool, device: int | None) -> None:
    spec = SourceSpec(url)
    assert (spec.is_file, spec.device_index) == (is_file, device)


@pytest.mark.parametrize(
    "image",
    [None, np.zeros((0, 0, 3), np.uint8), np.zeros((4, 4), np.uint8), np.zeros((4, 4, 3), np.float32)],
)
def test_garbage_frames_are_rejected_naming_the_camera(image: object) -> None:
    with pytest.raises(SourceError, match="camera cam-x"):
        check_image(image, "cam-x")


def _frame(index: int) -> Frame:
    return Frame("c", index, 0.0, 0.0, np.zeros((2, 2, 3), np.uint8))


def test_mailbox_keeps_only_the_newest_frame() -> None:
    box = LatestFrame()
    for i in range(5):
        box.put(_frame(i))
    taken = box.take(0.1)
    assert taken is not None and taken.index == 4
    assert box.replaced == 4
    assert box.take(0.01) is None


class _Recorder:
    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.states: list[tuple[Availability, str]] = []
        self.bad = 0

    def frame(self, frame: Frame) -> None:
        self.frames.append(frame)

    def status(self, camera_id: str, state: Availability, reason: str) -> None:
        self.states.append((state, reason))


def _read_all(url: str, **spec: object) -> tuple[CaptureReader, _Recorder]:
    rec = _Recorder()
    reader = CaptureReader("cam-1", SourceSpec(url, **spec), on_frame=rec.frame,  # type: ignore[arg-type]
                           on_status=rec.status, seed=1)
    reader.start()
    assert reader.finished.wait(20), "reader did not finish"
    reader.stop()
    return reader, rec


def test_generated_file_is_read_frame_by_frame_as_fast_as_possible(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", ClipSpec(frames=12))
    reader, rec = _read_all(str(clip), realtime=False)
    assert [f.index for f in rec.frames] == list(range(12))
    assert rec.frames[0].image_bgr.shape == (240, 320, 3)
    assert [s for s, _ in rec.states] == [Availability.ONLINE, Availability.OFFLINE]
    assert rec.states[-1][1] == "end of file"
    assert reader.frames_bad == 0


def test_looped_file_keeps_going_until_stopped(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", ClipSpec(frames=5))
    got = threading.Event()
    rec = _Recorder()

    def on_frame(frame: Frame) -> None:
        rec.frame(frame)
        if frame.index >= 12:
            got.set()

    spec = SourceSpec(str(clip), realtime=False, loop=True)
    reader = CaptureReader("cam-1", spec, on_frame=on_frame).start()
    assert got.wait(20)
    reader.stop()
    assert rec.frames[12].index == 12  # indexes keep counting across loops


def test_missing_file_goes_offline_with_an_error_naming_camera_and_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    reader, rec = _read_all(str(missing), realtime=False, loop=False)
    assert rec.frames == []
    assert rec.states[0][0] is Availability.OFFLINE
    assert "camera cam-1" in rec.states[0][1] and str(missing) in rec.states[0][1]


def test_missing_file_with_loop_retries_with_backoff_until_stopped(tmp_path: Path) -> None:
    rec = _Recorder()
    reader = CaptureReader("cam-1", SourceSpec(str(tmp_path / "nope.mp4"), loop=True, reconnect_min_s=0.01,
                                               reconnect_max_s=0.02), on_status=rec.status).start()
    threading.Event().wait(0.2)
    reader.stop()
    assert reader.finished.is_set()
    assert [s for s, _ in rec.states] == [Availability.OFFLINE]  # reported once, not per retry


@pytest.mark.parametrize("keep_frac", [0.0, 0.02, 0.5, 0.9])
def test_truncated_file_ends_cleanly_never_raises(tmp_path: Path, keep_frac: float) -> None:
    clip = write_clip(tmp_path / "clip.mp4", ClipSpec(frames=20))
    data = clip.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * keep_frac)])
    reader, rec = _read_all(str(cut), realtime=False)
    assert len(rec.frames) < 20
    assert rec.states[-1][0] is Availability.OFFLINE
    if not rec.frames:
        assert "cam-1" in rec.states[-1][1]


def test_garbage_file_gives_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(0).integers(0, 255, 50_000, dtype=np.uint8).tobytes())
    _, rec = _read_all(str(junk), realtime=False)
    assert rec.frames == []
    assert "camera cam-1" in rec.states[0][1] and "cannot open" in rec.states[0][1]
