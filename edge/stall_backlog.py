"""Frames a live stream buffered during a stall and sends in one burst when it resumes: recognised, so
the capture reader drops them undecoded instead of processing seconds-old frames."""

from __future__ import annotations

from collections import deque

import cv2

from edge.source_open import SourceSpec

_CLOCK_WINDOW = 50  # frames whose (arrival, stream time) pairs tell whether stream time runs like a clock
_CLOCK_MIN_SPAN_S = 0.5
_CLOCK_RATE = (0.8, 1.25)  # stream seconds per wall second for the timestamps to be trusted


class StallBacklog:
    """Recognises, after a stall, the frames a live stream had buffered and sends in one burst.

    A frame's age is its stream timestamp measured against the last frame processed before the stall. When
    the stream's timestamps ran like a clock before the stall (an RTSP camera's do; MJPEG's are only frame
    counts at an assumed rate), a frame is stale exactly when it is older than ``max_frame_age_s``, and the
    first younger one ends the catch-up. Otherwise a frame is stale when it looks old and either ends the
    stall or its read did not wait (it was buffered already: under half a frame interval), and the first
    frame whose read waited ends the catch-up. Either way a catch-up never outlasts the stall before it.
    """

    def __init__(self, cap: cv2.VideoCapture, spec: SourceSpec) -> None:
        self._cap = cap
        self._live = not spec.is_file
        self._stall_s = spec.stall_timeout_s
        self._max_age_s = spec.max_frame_age_s
        fps = cap.get(cv2.CAP_PROP_FPS)
        self._buffered_s = 0.5 / fps if 1.0 <= fps <= 120.0 else 0.05
        self._recent: deque[tuple[float, float]] = deque(maxlen=_CLOCK_WINDOW)  # (arrival, stream time)
        self._offset_s: float | None = None  # arrival (monotonic) minus stream time of the last fresh frame
        self._catch_up_until: float | None = None
        self._trusted = False

    def _stream_s(self) -> float | None:
        pos_ms = self._cap.get(cv2.CAP_PROP_POS_MSEC)
        return pos_ms / 1000.0 if pos_ms and pos_ms > 0 else None

    def _clock_like(self) -> bool:
        if len(self._recent) < 2:
            return False
        (wall0, stream0), (wall1, stream1) = self._recent[0], self._recent[-1]
        span_s = wall1 - wall0
        return span_s >= _CLOCK_MIN_SPAN_S and _CLOCK_RATE[0] <= (stream1 - stream0) / span_s <= _CLOCK_RATE[1]

    def is_stale(self, grab_start: float, now: float, silent_s: float) -> bool:
        """Whether the frame just grabbed (read from ``grab_start`` to ``now``, after ``silent_s`` without
        frames) is part of a post-stall backlog and too old to process."""
        if not self._live:
            return False
        resumed = silent_s >= self._stall_s  # this frame's read waited out the stall itself
        if resumed:
            self._catch_up_until = now + silent_s
            self._trusted = self._clock_like()
        if self._catch_up_until is None or now > self._catch_up_until:
            self._catch_up_until = None
            return False
        stream_s = self._stream_s()
        old = stream_s is None or self._offset_s is None or (now - stream_s) - self._offset_s > self._max_age_s
        buffered = now - grab_start < self._buffered_s
        if old and (self._trusted or resumed or buffered):
            return True
        self._catch_up_until = None
        return False

    def processed(self, now: float) -> None:
        """Note the frame just grabbed as processed (fresh)."""
        if self._live:
            stream_s = self._stream_s()
            self._offset_s = None if stream_s is None else now - stream_s
            if stream_s is None:
                self._recent.clear()
            else:
                self._recent.append((now, stream_s))
