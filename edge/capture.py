"""Camera capture: one reader thread per camera that keeps only the newest decoded frame.

OpenCV (FFmpeg backend) opens RTSP/HTTP streams, files and local devices (a bare digit is a device index).
The reader never queues: a frame nobody took yet is replaced by the next one (a one-slot mailbox), so a
slow consumer sees fresh frames, never a backlog. Lost streams reconnect with exponential backoff plus
jitter; each change of availability is reported once through ``on_status``.

Opening (edge/source_open.py): OpenCV opens every FFmpeg capture under one process-wide lock, so a camera
that accepts the connection and never answers used to hold up every other camera's start and reconnect
for 30 s per attempt. Choice: a socket pre-flight (RTSP DESCRIBE / HTTP GET up to the status line, on the
reader's own thread, bounded by ``open_timeout_s``, stop-aware) keeps such a camera away from OpenCV, and
the OpenCV open itself is bounded by CAP_PROP_OPEN_TIMEOUT_MSEC. A separate open process was not chosen:
it costs a Python start (about a second) per attempt and frames would have to cross processes; nor PyAV:
a second demuxer and decoder for the same streams. Measured with benchmarks/bench_capture_faults.py
(hung cameras that accept and never answer, beside a healthy 10 fps MJPEG camera that drops its stream
every 30 frames; 0.5 s reconnect backoff; seconds, before -> after):

    hung cameras   healthy start   healthy reconnect   shutdown
    0              0.31            0.70 -> 0.88        0.00
    1              30.3 -> 0.31    27.8 -> 0.80        0.00 -> 0.10
    2              55.4 -> 0.31    57.6 -> 0.69        10.0 -> 0.20

A whole motion-only gateway with two hung cameras (benchmarks/bench_gateway_hung_camera.py): healthy
camera's first frame 60.7 s -> 0.5-0.6 s, its reconnect 57.7 s -> 0.8 s, gateway stop 15.1 s -> 0.2 s.

Limit: a camera that answers the pre-flight and then hangs inside FFmpeg's open (after DESCRIBE, say)
still holds OpenCV's lock, but for at most ``open_timeout_s`` (10 s by default) per attempt, not 30 s; so
does a hung rtsps:// or https:// camera (the pre-flight speaks plain RTSP and HTTP only).

Stalls: a stream that stops sending without closing is noticed from frame arrival time: no frame for
``stall_timeout_s`` reports the camera offline with reason "stalled" (a watchdog thread; the reader is
blocked in the read meanwhile). FFmpeg's read timeout is three stall timeouts: a longer silence drops the
connection and reconnects. When frames come back after a stall, the backlog a camera sends in one burst is
dropped undecoded (edge/stall_backlog.py): frames older than ``max_frame_age_s`` by their stream
timestamps (where those are mere frame counts: old-looking frames that arrived without waiting) are counted
in ``frames_stale`` and skipped, so the first frame processed is a fresh one.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from edge.errors import SourceError
from edge.source_open import SourceSection, SourceSpec, open_capture, preflight, redact_url
from edge.stall_backlog import StallBacklog
from edge.types import Frame
from kernel.contracts.messages import Availability

__all__ = ["CaptureReader", "LatestFrame", "SourceSection", "SourceSpec", "backoff_s", "check_image", "redact_url"]

log = logging.getLogger(__name__)

STOPPED = "stopped"  # the reason a reader gives when it was stopped on purpose (not a fault)

_READ_TIMEOUTS_PER_STALL = 3  # FFmpeg gives up a silent connection after this many stall timeouts


class LatestFrame:
    """A one-slot mailbox: ``put`` replaces whatever was there, ``take`` waits for and removes it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self.replaced = 0
        self.closed = False

    def put(self, frame: Frame) -> None:
        with self._cond:
            if self._frame is not None:
                self.replaced += 1
            self._frame = frame
            self._cond.notify()

    def take(self, timeout_s: float | None = None) -> Frame | None:
        with self._cond:
            if self._frame is None and not self.closed:
                self._cond.wait(timeout_s)
            frame, self._frame = self._frame, None
            return frame

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


StatusCallback = Callable[[str, Availability, str], None]
FrameCallback = Callable[[Frame], None]


def backoff_s(attempt: int, min_s: float, max_s: float, rng: random.Random) -> float:
    """Delay before reconnect ``attempt`` (0-based): doubling from ``min_s`` to ``max_s``, +-25 % jitter."""
    base = min(max_s, min_s * (2 ** min(attempt, 30)))
    return max(0.0, base * rng.uniform(0.75, 1.25))


def check_image(image: object, camera_id: str) -> npt.NDArray[np.uint8]:
    """The decoded image if it is a usable BGR frame, else raise SourceError naming the camera."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
        shape = getattr(image, "shape", None)
        raise SourceError(f"camera {camera_id}: decoder gave an unusable frame {shape}: expected HxWx3 BGR")
    if image.dtype != np.uint8:
        raise SourceError(f"camera {camera_id}: frame dtype {image.dtype}: expected uint8")
    return cast(npt.NDArray[np.uint8], image)


class CaptureReader:
    """Reads one camera on its own thread and hands every decoded frame to ``on_frame`` (default: a mailbox).

    ``on_frame`` runs on the reader thread; it may block (benchmarks use that for back-pressure in
    every-frame mode). Bad frames are counted in ``frames_bad`` and skipped; stale frames dropped after a
    stall in ``frames_stale``. A second thread watches live streams for stalls.
    """

    def __init__(self, camera_id: str, spec: SourceSpec, *, on_frame: FrameCallback | None = None,
                 on_status: StatusCallback | None = None, on_decoded: Callable[[float], None] | None = None,
                 on_bad_frame: Callable[[], None] | None = None, seed: int | None = None) -> None:
        self.camera_id = camera_id
        self.spec = spec
        self.mailbox = LatestFrame()
        self._on_frame = on_frame or self.mailbox.put
        self._on_status = on_status
        self._on_decoded = on_decoded
        self._on_bad_frame = on_bad_frame
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"capture-{camera_id}", daemon=True)
        self._watchdog = threading.Thread(target=self._watch_stalls, name=f"capture-watch-{camera_id}",
                                          daemon=True)
        self._state_lock = threading.Lock()
        self.state: Availability | None = None
        self.last_error: str | None = None
        self.frames_read = 0
        self.frames_bad = 0
        self.frames_stale = 0
        self.finished = threading.Event()
        self._index = 0
        self._streaming = False  # an opened live stream is being read (the watchdog only looks then)
        self._last_arrival_mono = 0.0

    @property
    def safe_url(self) -> str:
        return redact_url(self.spec.url)

    def start(self) -> CaptureReader:
        self._thread.start()
        if not self.spec.is_file:
            self._watchdog.start()
        return self

    @property
    def running(self) -> bool:
        """Whether the reading thread is alive (started and not yet stopped)."""
        return self._thread.is_alive()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self.mailbox.close()
        for thread in (self._thread, self._watchdog):
            if thread.is_alive() and threading.current_thread() is not thread:
                thread.join(timeout_s)

    def _set_state(self, state: Availability, reason: str) -> None:
        # Two threads report (reader and stall watchdog): the lock keeps the reports in order.
        with self._state_lock:
            if state is self.state:
                return
            self.state = state
            level = logging.INFO if state is Availability.ONLINE else logging.WARNING
            log.log(level, "camera %s %s (%s): %s", self.camera_id, state.value, self.safe_url, reason)
            if self._on_status is not None:
                try:
                    self._on_status(self.camera_id, state, reason)
                except Exception:  # a status sink failure must not kill the reader
                    log.exception("camera %s: status callback failed", self.camera_id)

    def _open(self) -> cv2.VideoCapture:
        spec = self.spec
        if spec.is_file:
            if not Path(spec.url).is_file():
                raise SourceError(f"camera {self.camera_id}: video file {spec.url} does not exist")
        device = spec.device_index
        refused = None
        if device is None and not spec.is_file:
            refused = preflight(spec.url, self.camera_id, spec.open_timeout_s, self._stop)
            if self._stop.is_set():
                raise SourceError(f"camera {self.camera_id}: stopped while opening")
        try:
            return open_capture(spec.url if device is None else device, self.camera_id, self.safe_url,
                                spec.open_timeout_s, spec.stall_timeout_s * _READ_TIMEOUTS_PER_STALL)
        except SourceError as exc:
            if refused is not None:  # the pre-flight's 401 says why, where OpenCV cannot
                raise refused from exc
            raise

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            try:
                cap = self._open()
            except SourceError as exc:
                if self._stop.is_set():
                    break
                self.last_error = str(exc)
                self._set_state(Availability.OFFLINE, str(exc))
                if (self.spec.is_file and not self.spec.loop) or self._wait_backoff(attempt):
                    break
                attempt += 1
                continue
            try:
                got_any = self._read_until_lost(cap)
            finally:
                self._streaming = False
                cap.release()
            if self._stop.is_set():
                break
            if got_any:
                attempt = 0
            if self.spec.is_file and not self.spec.loop:
                if not got_any:
                    self.last_error = f"camera {self.camera_id}: {self.safe_url} has no decodable frame"
                    self._set_state(Availability.OFFLINE, self.last_error)
                else:
                    self._set_state(Availability.OFFLINE, "end of file")
                break
            if self.spec.is_file and got_any:
                continue  # loop the file from its start, like a camera that never stops
            self._set_state(Availability.OFFLINE, "stream lost")
            if self._wait_backoff(attempt):
                break
            attempt += 1
        if self._stop.is_set():
            self._set_state(Availability.OFFLINE, STOPPED)
        self.finished.set()

    def _wait_backoff(self, attempt: int) -> bool:
        delay = backoff_s(attempt, self.spec.reconnect_min_s, self.spec.reconnect_max_s, self._rng)
        log.debug("camera %s: reconnect in %.1f s", self.camera_id, delay)
        return self._stop.wait(delay)

    def _watch_stalls(self) -> None:
        """Report a live stream that sends nothing for ``stall_timeout_s`` as offline ("stalled")."""
        stall_s = self.spec.stall_timeout_s
        while not self._stop.wait(min(0.25, stall_s / 4)):
            silent_s = time.monotonic() - self._last_arrival_mono
            if self._streaming and self.state is Availability.ONLINE and silent_s >= stall_s:
                self._set_state(Availability.OFFLINE, f"stalled: no frame for {silent_s:.1f} s"
                                f" (stall_timeout_s {stall_s:g})")

    def _frame_interval_s(self, cap: cv2.VideoCapture) -> float:
        fps = cap.get(cv2.CAP_PROP_FPS) if self.spec.realtime and self.spec.is_file else 0.0
        limit = self.spec.fps_limit or 0.0
        if fps <= 0 or fps > 240:
            fps = 0.0
        if limit > 0:
            fps = min(fps, limit) if fps > 0 else limit
        return 1.0 / fps if fps > 0 else 0.0

    def _read_until_lost(self, cap: cv2.VideoCapture) -> bool:
        """Read frames until the stream ends or fails; return whether any good frame came."""
        interval_s = self._frame_interval_s(cap)
        pace_file = self.spec.is_file and self.spec.realtime
        backlog = StallBacklog(cap, self.spec)
        next_due = time.monotonic()
        got_any = False
        consecutive_bad = 0
        self._last_arrival_mono = next_due
        self._streaming = not self.spec.is_file
        while not self._stop.is_set():
            grab_start = time.monotonic()
            ok = cap.grab()
            if not ok:
                return got_any
            now = time.monotonic()
            silent_s, self._last_arrival_mono = now - self._last_arrival_mono, now
            if backlog.is_stale(grab_start, now, silent_s):
                self.frames_stale += 1
                continue  # buffered during a stall and too old: not worth decoding
            if interval_s and not pace_file and now < next_due:
                continue  # a live source faster than fps_limit: drop without decoding
            decode_start = time.perf_counter()
            ok, image = cap.retrieve()
            if self._on_decoded is not None:
                self._on_decoded((time.perf_counter() - decode_start) * 1000.0)
            try:
                if not ok:
                    raise SourceError(f"camera {self.camera_id}: frame {self._index} could not be decoded")
                image = check_image(image, self.camera_id)
            except SourceError as exc:
                self.frames_bad += 1
                consecutive_bad += 1
                if self._on_bad_frame is not None:
                    self._on_bad_frame()
                log.warning("%s (skipped, %d bad so far)", exc, self.frames_bad)
                if consecutive_bad >= 50:
                    return got_any
                continue
            consecutive_bad = 0
            if pace_file and interval_s:
                # a file played "live": wait for the frame's due time, never run ahead of the clock
                if self._stop.wait(max(0.0, next_due - time.monotonic())):
                    return got_any
                now = time.monotonic()
            # Keep to the source's schedule on average (a late frame shortens the next wait); after a stall
            # of over a second start a fresh schedule rather than bursting to catch up.
            next_due = next_due + interval_s if interval_s and now - next_due < 1.0 else now + interval_s
            got_any = True
            backlog.processed(now)
            self._set_state(Availability.ONLINE, "frames arriving")
            frame = Frame(self.camera_id, self._index, time.time(), now, image)
            self._index += 1
            self.frames_read += 1
            self._on_frame(frame)
        return got_any
