"""The shared inference workers: one detector serves every camera of a gateway, freshest frame first, fairly.

Each camera has one pending slot (a newer frame replaces an older one, so nothing queues). A scheduling
round walks the cameras round robin from where the last round stopped, takes each pending frame whose
camera is not rate limited (``detect_fps``), skips and counts frames already older than the camera's
``budget_ms``, and runs up to ``max_batch`` frames through ``detect_batch`` in one call.

``workers`` threads may run rounds concurrently (ONNX Runtime sessions are safe to run from several
threads): on a 2-core gateway two single-threaded runs side by side do more frames per second than one
run on two threads. A camera never has two frames in the detector at once, so its results stay in order.
Every thread here is supervised (edge.threads): a failure is logged, counted and the loop goes on.

``shared_inference`` builds the gateway's one detector (or none: motion-only) and its scheduler, sized for
the cameras and cores it will serve.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from edge.settings import GatewaySettings, inference_plan
from edge.threads import SupervisedThread, ThreadHealth
from edge.types import Detections, Frame, StageTimes
from kernel.camera_config import CameraConfig
from models.errors import ModelError

log = logging.getLogger(__name__)


class BatchDetector(Protocol):
    def detect_batch(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[tuple[Detections, StageTimes]]: ...


@runtime_checkable
class PreparingDetector(BatchDetector, Protocol):
    """A detector whose preprocess stage can run apart from inference (edge.detector.Detector is one).
    What ``prepare`` returns is the detector's own business: the scheduler only hands it back."""

    def prepare(self, image: npt.NDArray[np.uint8]) -> object: ...

    def detect_prepared(self, prepared: Sequence[object]) -> list[tuple[Detections, StageTimes]]: ...


@dataclass(frozen=True, slots=True)
class DetectResult:
    """Detections for one frame. ``wait_ms``: frame age when picked; ``age_ms``: age when detections exist."""

    frame: Frame
    detections: Detections
    times: StageTimes
    wait_ms: float
    age_ms: float
    batch_size: int


ResultCallback = Callable[[DetectResult], None]
SkipCallback = Callable[[Frame, float], None]


@dataclass(slots=True)
class _Lane:
    camera_id: str
    min_interval_s: float
    budget_s: float
    on_result: ResultCallback
    on_skip: SkipCallback | None
    pending: Frame | None = None
    pending_prepared: object = None
    in_flight: bool = False  # a frame of this camera is in the detector: its next one waits (order kept)
    next_allowed_s: float = float("-inf")
    submitted: int = 0
    superseded: int = 0
    skipped_budget: int = 0
    detected: int = 0
    failed: int = 0


def _next_slot(previous_s: float, now_s: float, interval_s: float) -> float:
    """When a camera may be detected again after a pick at ``now_s``: one interval after its previous slot,
    so a pick delayed by other cameras is made up on the next one (the rate holds on average), but never
    sooner than half an interval from now (no bursts)."""
    if previous_s == float("-inf"):
        return now_s + interval_s
    return max(previous_s + interval_s, now_s + interval_s / 2)


@dataclass(frozen=True, slots=True)
class LaneCounts:
    """How many frames one camera submitted, lost to newer ones, skipped by budget, detected, failed."""

    submitted: int
    superseded: int
    skipped_budget: int
    detected: int
    failed: int


class InferenceScheduler:
    """Picks frames for the one detector; call ``step()`` directly (tests) or ``start()`` a thread."""

    def __init__(self, detector: BatchDetector, *, max_batch: int = 1, workers: int = 1,
                 clock: Callable[[], float] = time.monotonic, health: ThreadHealth | None = None,
                 class_names: Sequence[str] | None = None, model_file: str | None = None) -> None:
        if max_batch < 1 or workers < 1:
            raise ValueError(f"max_batch {max_batch}, workers {workers}: expected >= 1")
        self._workers = workers
        self._detector = detector
        # Preprocessing happens on the submitting (camera) thread when the detector allows it, so the one
        # inference thread spends its time in the network only.
        self._preparing: PreparingDetector | None = (
            detector if isinstance(detector, PreparingDetector) else None)
        self._max_batch = max_batch
        self._clock = clock
        self._lanes: dict[str, _Lane] = {}
        self._order: list[str] = []
        self._cursor = 0
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._health = health or ThreadHealth()
        self._threads: list[SupervisedThread] = []
        self._deliveries: queue.Queue[tuple[_Lane, DetectResult] | None] | None = None
        self._delivery_thread: SupervisedThread | None = None
        self.class_names = tuple(class_names) if class_names else None
        """The detector's class names (None: it does not say; rules assume COCO)."""
        self.model_file = model_file

    # -- cameras ------------------------------------------------------------------------------------

    def add_camera(self, camera_id: str, *, detect_fps: float | None, budget_ms: float,
                   on_result: ResultCallback, on_skip: SkipCallback | None = None) -> None:
        """Register a camera; ``detect_fps`` None or 0 means no rate limit (every frame it submits)."""
        interval = 1.0 / detect_fps if detect_fps else 0.0
        with self._cond:
            self._lanes[camera_id] = _Lane(camera_id, interval, budget_ms / 1000.0, on_result, on_skip)
            if camera_id not in self._order:
                self._order.append(camera_id)

    def remove_camera(self, camera_id: str) -> None:
        with self._cond:
            self._lanes.pop(camera_id, None)
            if camera_id in self._order:
                self._order.remove(camera_id)
            self._cursor = 0
            self._cond.notify_all()

    def is_due(self, camera_id: str, slack_s: float = 0.05) -> bool:
        """Whether a frame of this camera submitted now would be taken within ``slack_s`` of its turn
        (callers skip costly per-frame work, such as motion gating, for frames the rate limit would drop)."""
        lane = self._lanes.get(camera_id)
        return lane is not None and self._clock() + slack_s >= lane.next_allowed_s

    def counts(self, camera_id: str) -> LaneCounts:
        lane = self._lanes[camera_id]
        return LaneCounts(lane.submitted, lane.superseded, lane.skipped_budget, lane.detected, lane.failed)

    # -- frames -------------------------------------------------------------------------------------

    def submit(self, frame: Frame, *, wait: bool = False) -> None:
        """Make ``frame`` its camera's pending frame. ``wait``: first wait until the slot is free
        (every-frame mode, back-pressure on the reader) instead of replacing the older frame."""
        prepared = self._preparing.prepare(frame.image_bgr) if self._preparing is not None else None
        with self._cond:
            lane = self._lanes.get(frame.camera_id)
            if lane is None:
                raise KeyError(f"camera {frame.camera_id} is not registered with the scheduler")
            while wait and lane.pending is not None and not self._stop.is_set():
                self._cond.wait(0.5)
            if lane.pending is not None:
                lane.superseded += 1
            lane.pending, lane.pending_prepared = frame, prepared
            lane.submitted += 1
            self._cond.notify_all()

    def _pick(self, now: float) -> tuple[list[tuple[_Lane, Frame, float]], list[tuple[_Lane, Frame, float]],
                                         list[object]]:
        picked: list[tuple[_Lane, Frame, float]] = []
        prepared: list[object] = []
        skipped: list[tuple[_Lane, Frame, float]] = []
        count = len(self._order)
        last = None
        for step in range(count):
            index = (self._cursor + step) % count
            lane = self._lanes[self._order[index]]
            if lane.pending is None or lane.in_flight or now < lane.next_allowed_s:
                continue
            frame, lane.pending = lane.pending, None
            ready, lane.pending_prepared = lane.pending_prepared, None
            wait_s = now - frame.captured_mono
            if wait_s > lane.budget_s:
                lane.skipped_budget += 1
                skipped.append((lane, frame, wait_s * 1000.0))
                continue
            lane.next_allowed_s = _next_slot(lane.next_allowed_s, now, lane.min_interval_s)
            lane.in_flight = True
            picked.append((lane, frame, wait_s * 1000.0))
            prepared.append(ready)
            last = index
            if len(picked) == self._max_batch:
                break
        if last is not None:
            self._cursor = (last + 1) % count
        if picked or skipped:
            self._cond.notify_all()  # wake readers waiting for a free slot
        return picked, skipped, prepared

    def step(self) -> int:
        """One scheduling round; returns how many frames were detected."""
        with self._cond:
            picked, skipped, prepared = self._pick(self._clock())
        for lane, frame, wait_ms in skipped:
            if lane.on_skip is not None:
                try:
                    lane.on_skip(frame, wait_ms)
                except Exception:  # the frames picked beside it must still be detected and released
                    log.exception("camera %s: handling the budget skip of frame %d failed", lane.camera_id,
                                  frame.index)
        if not picked:
            return 0
        try:
            if self._preparing is not None:
                outputs = self._preparing.detect_prepared(prepared)
            else:
                outputs = self._detector.detect_batch([frame.image_bgr for _, frame, _ in picked])
        except Exception:
            cameras = ", ".join(lane.camera_id for lane, _, _ in picked)
            log.exception("detector failed on frames of camera(s) %s; frames skipped", cameras)
            for lane, _, _ in picked:
                lane.failed += 1
            self._release(picked)
            return 0
        done = self._clock()
        for (lane, frame, wait_ms), (detections, times) in zip(picked, outputs, strict=True):
            lane.detected += 1
            result = DetectResult(frame, detections, times, wait_ms,
                                  (done - frame.captured_mono) * 1000.0, len(picked))
            if self._deliveries is not None:
                self._deliveries.put((lane, result))  # bounded: a stuck downstream slows detection
            else:
                self._deliver(lane, result)
        # Released only after the hand-off, so a camera's results reach the delivery thread in frame order
        # even when another worker picks its next frame.
        self._release(picked)
        return len(picked)

    def _release(self, picked: list[tuple[_Lane, Frame, float]]) -> None:
        with self._cond:
            for lane, _, _ in picked:
                lane.in_flight = False
            self._cond.notify_all()

    @staticmethod
    def _deliver(lane: _Lane, result: DetectResult) -> None:
        try:
            lane.on_result(result)
        except Exception:  # one camera's downstream failure never stops the others
            log.exception("camera %s: handling detections of frame %d failed", lane.camera_id,
                          result.frame.index)

    def _deliver_next(self) -> bool:
        """Deliver one result (waiting up to a second for it); False once the scheduler stopped."""
        assert self._deliveries is not None
        try:
            item = self._deliveries.get(timeout=1.0)
        except queue.Empty:
            return True
        if item is None:
            return False
        self._deliver(*item)
        return True

    # -- thread -------------------------------------------------------------------------------------

    def _wait_for_work(self, max_wait_s: float = 1.0) -> None:
        """Return when a frame is due, on stop, or after ``max_wait_s`` (so an idle worker still beats)."""
        deadline = self._clock() + max_wait_s
        with self._cond:
            while not self._stop.is_set():
                now = self._clock()
                due = [lane.next_allowed_s for lane in self._lanes.values()
                       if lane.pending is not None and not lane.in_flight]
                if any(t <= now for t in due) or now >= deadline:
                    return
                self._cond.wait(min([*due, deadline]) - now)

    def _run_once(self) -> bool:
        self._wait_for_work()
        if self._stop.is_set():
            return False
        self.step()
        return True

    def start(self, *, deliver_async: bool = True) -> InferenceScheduler:
        """Run scheduling on a thread. ``deliver_async``: hand results (track, rules, evidence, publish) to a
        second thread, in order, so a JPEG encode or an outbox write never delays the next inference."""
        if deliver_async:
            self._deliveries = queue.Queue(maxsize=64)
            self._delivery_thread = SupervisedThread("detections", self._deliver_next, self._health).start()
        self._threads = [SupervisedThread(f"inference-{i}", self._run_once, self._health).start()
                         for i in range(self._workers)]
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        for thread in self._threads:
            thread.stop(timeout_s)
        if self._deliveries is not None and self._delivery_thread is not None:
            # after the last result queued: the delivery thread hands on everything before it ends
            self._deliveries.put(None)
            if not self._delivery_thread.join(timeout_s):
                self._delivery_thread.stop(0)


# -- the gateway's one shared detector ---------------------------------------------------------------------

FOLLOW_HUB_CONF = 0.1
"""The detector's own score floor when the hub decides the cameras (each camera then applies its own)."""


def planned_cameras(settings: GatewaySettings, cameras: Sequence[CameraConfig]) -> int:
    """How many cameras to size inference for: the local ones, or at least one per core when the hub's config
    decides them (they arrive after the detector is built)."""
    return max(len(cameras), os.cpu_count() or 1) if settings.follow_hub else len(cameras)


def shared_inference(settings: GatewaySettings, cameras: Sequence[CameraConfig],
                     health: ThreadHealth | None = None) -> InferenceScheduler | None:
    """The scheduler around the gateway's one detector, sized for the cameras and cores; None (motion-only)
    when no model is found, said once with how to get one. Not started."""
    from edge.detector import Detector  # onnxruntime only on gateways that run a model
    from models.registry import HOW_TO_GET_ONE, resolve_model

    try:
        path = resolve_model(settings.model, data_dir=settings.data_dir)
    except ModelError as exc:
        if settings.model is not None:
            raise ModelError(f"--model {settings.model}: no such model file: {HOW_TO_GET_ONE}") from exc
        log.warning("no detector model: cameras run motion-only (rules of kind motion). %s", exc)
        return None
    conf = min((c.detect.conf_threshold for c in cameras), default=0.25)
    if settings.follow_hub:  # cameras come and go with the hub's config: each camera filters at its own level
        conf = min(conf, FOLLOW_HUB_CONF)
    workers, threads = inference_plan(settings.inference, planned_cameras(settings, cameras), os.cpu_count() or 1)
    log.info("inference: %d worker(s) x %d ONNX Runtime thread(s)", workers, threads)
    detector = Detector(Path(path), threads=threads,
                        providers=list(settings.inference.providers) or None, conf_threshold=conf)
    detector.warmup()
    return InferenceScheduler(detector, max_batch=settings.inference.max_batch, workers=workers, health=health,
                              class_names=detector.spec.class_names, model_file=detector.spec.path.name)
