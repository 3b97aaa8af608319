"""Frames a live stream buffered during a stall and sends in one burst when it resumes: recognised, so
the capture reader drops them undecoded instead of processing seconds-old frames."""

from __future__ import annotations

import cv2

from edge.source_open import SourceSpec


class StallBacklog:
    """Recognises, after a stall, the frames a live stream had buffered and sends in one burst.

    A frame is stale when it is older than ``max_frame_age_s`` and either ends the stall or its read did
    not wait (it was buffered already: under half a frame interval). Its age is its stream timestamp
    measured against the last frame processed before the stall; without a usable timestamp a buffered frame
    counts as old. The first frame whose read waited (live again) or that is recent ends the catch-up.
    """

    def __init__(self, cap: cv2.VideoCapture, spec: SourceSpec) -> None:
        self._cap = cap
        self._live = not spec.is_file
        self._stall_s = spec.stall_timeout_s
        self._max_age_s = spec.max_frame_age_s
        fps = cap.get(cv2.CAP_PROP_FPS)
        self._buffered_s = 0.5 / fps if 1.0 <= fps <= 120.0 else 0.05
        self._offset_s: float | None = None  # arrival (monotonic) minus stream time of the last fresh frame
        self._catching_up = False

    def _stream_s(self) -> float | None:
        pos_ms = self._cap.get(cv2.CAP_PROP_POS_MSEC)
        return pos_ms / 1000.0 if pos_ms and pos_ms > 0 else None

    def is_stale(self, grab_start: float, now: float, silent_s: float) -> bool:
        if not self._live:
            return False
        resumed = silent_s >= self._stall_s  # this frame's read waited out the stall itself
        self._catching_up = self._catching_up or resumed
        if not self._catching_up:
            return False
        stream_s = self._stream_s()
        old = stream_s is None or self._offset_s is None or (now - stream_s) - self._offset_s > self._max_age_s
        if old and (resumed or now - grab_start < self._buffered_s):
            return True
        self._catching_up = False
        return False

    def processed(self, now: float) -> None:
        if self._live:
            stream_s = self._stream_s()
            self._offset_s = None if stream_s is None else now - stream_s
