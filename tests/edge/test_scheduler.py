"""Shared inference scheduler, fake detector and controllable clock: fairness, budget, rate, batching."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pytest

from edge.scheduler import DetectResult, InferenceScheduler
from edge.threads import ThreadHealth
from edge.types import Detections, Frame
from tests.waiting import wait_until


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Times:
    preprocess_ms: float = 1.0
    inference_ms: float = 10.0
    postprocess_ms: float = 1.0


class FakeDetector:
    """Records each batch (as camera ids) and advances the clock by ``cost_s`` per call."""

    def __init__(self, clock: Clock, cost_s: float = 0.0) -> None:
        self.clock = clock
        self.cost_s = cost_s
        self.batches: list[list[int]] = []

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[tuple[Detections, Times]]:
        self.batches.append([int(img[0, 0, 0]) for img in images])
        self.clock.now += self.cost_s
        return [(Detections.empty(), Times()) for _ in images]


def _frame(camera: int, index: int, captured: float) -> Frame:
    image = np.full((4, 4, 3), camera, np.uint8)  # camera number in the pixels, so the fake can tell
    return Frame(f"cam-{camera}", index, captured, captured, image)


def _scheduler(cameras: int, *, clock: Clock, detect_fps: float | None = None, budget_ms: float = 250.0,
               max_batch: int = 1, cost_s: float = 0.0):
    detector = FakeDetector(clock, cost_s)
    scheduler = InferenceScheduler(detector, max_batch=max_batch, clock=clock)
    results: list[DetectResult] = []
    skipped: list[tuple[str, int]] = []
    for c in range(cameras):
        scheduler.add_camera(f"cam-{c}", detect_fps=detect_fps, budget_ms=budget_ms, on_result=results.append,
                             on_skip=lambda f, _ms: skipped.append((f.camera_id, f.index)))
    return scheduler, detector, results, skipped


def test_round_robin_serves_every_camera_with_a_pending_frame_in_turn() -> None:
    clock = Clock()
    scheduler, detector, _, _ = _scheduler(3, clock=clock)
    for round_ in range(3):
        for c in range(3):
            scheduler.submit(_frame(c, round_, clock.now))
        # camera 0 keeps producing between steps; it must not starve cameras 1 and 2
        for _ in range(3):
            scheduler.submit(_frame(0, 100 + round_, clock.now))
            scheduler.step()
    assert detector.batches == [[0], [1], [2]] * 3


def test_freshest_frame_wins_and_older_pending_frames_are_superseded() -> None:
    clock = Clock()
    scheduler, _, results, _ = _scheduler(1, clock=clock)
    for i in range(5):
        scheduler.submit(_frame(0, i, clock.now))
    scheduler.step()
    assert [r.frame.index for r in results] == [4]
    assert scheduler.counts("cam-0").superseded == 4
    assert scheduler.step() == 0  # nothing queued behind it


@pytest.mark.parametrize(
    ("age_ms", "budget_ms", "detected"),
    [(0.0, 250.0, True), (249.0, 250.0, True), (251.0, 250.0, False), (5000.0, 250.0, False)],
)
def test_frame_older_than_the_budget_is_skipped_and_counted(age_ms: float, budget_ms: float,
                                                           detected: bool) -> None:
    clock = Clock()
    scheduler, _, results, skipped = _scheduler(1, clock=clock, budget_ms=budget_ms)
    scheduler.submit(_frame(0, 0, clock.now - age_ms / 1000))
    scheduler.step()
    assert (len(results) == 1) is detected
    assert skipped == ([] if detected else [("cam-0", 0)])
    assert scheduler.counts("cam-0").skipped_budget == (0 if detected else 1)


def test_slow_detector_makes_other_cameras_frames_stale_and_they_are_skipped_not_queued() -> None:
    clock = Clock()
    scheduler, detector, results, skipped = _scheduler(3, clock=clock, budget_ms=250.0, cost_s=0.2)
    for c in range(3):
        scheduler.submit(_frame(c, 0, clock.now))
    for _ in range(4):
        scheduler.step()
    assert [r.frame.camera_id for r in results] == ["cam-0", "cam-1"]  # cam-1 waited 200 ms: within budget
    assert skipped == [("cam-2", 0)]  # cam-2 waited 400 ms: over budget, dropped
    assert results[1].wait_ms == pytest.approx(200.0)
    assert results[1].age_ms == pytest.approx(400.0)


def test_rate_limit_holds_a_camera_to_its_detect_fps() -> None:
    clock = Clock()
    scheduler, _, results, _ = _scheduler(1, clock=clock, detect_fps=5.0, budget_ms=10_000)
    for tick in range(20):  # 2 s of a 10 fps source
        scheduler.submit(_frame(0, tick, clock.now))
        scheduler.step()
        clock.now += 0.1
    assert len(results) == 10
    assert [r.frame.index for r in results] == list(range(0, 20, 2))


def test_rate_limited_camera_does_not_block_the_others() -> None:
    clock = Clock()
    detector = FakeDetector(clock)
    scheduler = InferenceScheduler(detector, clock=clock)
    results: list[DetectResult] = []
    scheduler.add_camera("cam-0", detect_fps=1.0, budget_ms=10_000, on_result=results.append)
    scheduler.add_camera("cam-1", detect_fps=None, budget_ms=10_000, on_result=results.append)
    for tick in range(4):
        scheduler.submit(_frame(0, tick, clock.now))
        scheduler.submit(_frame(1, tick, clock.now))
        scheduler.step()
        scheduler.step()
        clock.now += 0.1
    assert [r.frame.camera_id for r in results].count("cam-0") == 1
    assert [r.frame.camera_id for r in results].count("cam-1") == 4


def test_micro_batching_takes_one_frame_per_camera_up_to_max_batch() -> None:
    clock = Clock()
    scheduler, detector, results, _ = _scheduler(5, clock=clock, max_batch=4)
    for c in range(5):
        scheduler.submit(_frame(c, 0, clock.now))
    scheduler.step()
    scheduler.step()
    assert detector.batches == [[0, 1, 2, 3], [4]]
    assert [r.batch_size for r in results] == [4, 4, 4, 4, 1]


def test_a_failing_camera_handler_does_not_stop_the_others() -> None:
    clock = Clock()
    scheduler = InferenceScheduler(FakeDetector(clock), max_batch=2, clock=clock)
    seen: list[str] = []

    def broken(_: DetectResult) -> None:
        raise RuntimeError("downstream exploded")

    scheduler.add_camera("cam-0", detect_fps=None, budget_ms=1000, on_result=broken)
    scheduler.add_camera("cam-1", detect_fps=None, budget_ms=1000,
                         on_result=lambda r: seen.append(r.frame.camera_id))
    scheduler.submit(_frame(0, 0, clock.now))
    scheduler.submit(_frame(1, 0, clock.now))
    assert scheduler.step() == 2
    assert seen == ["cam-1"]


def test_unknown_camera_is_refused() -> None:
    scheduler, _, _, _ = _scheduler(1, clock=Clock())
    with pytest.raises(KeyError, match="cam-9"):
        scheduler.submit(_frame(9, 0, 0.0))


def test_threaded_scheduler_delivers_every_camera_in_order_off_the_inference_thread() -> None:
    import threading

    detector = FakeDetector(Clock())
    scheduler = InferenceScheduler(detector)
    seen: list[tuple[int, str]] = []
    done = threading.Event()

    def on_result(result: DetectResult) -> None:
        seen.append((result.frame.index, threading.current_thread().name))
        if result.frame.index == 19:
            done.set()

    scheduler.add_camera("cam-0", detect_fps=None, budget_ms=60_000, on_result=on_result)
    scheduler.start()
    try:
        for i in range(20):
            scheduler.submit(_frame(0, i, time.monotonic()), wait=True)  # every-frame mode: none replaced
        assert done.wait(10)
    finally:
        scheduler.stop()
    assert [i for i, _ in seen] == list(range(20))
    assert {name for _, name in seen} == {"detections"}
    assert scheduler.counts("cam-0").superseded == 0


@pytest.mark.parametrize(
    ("previous", "now", "expected"),
    [
        (float("-inf"), 10.0, 10.2),   # first pick: a full interval
        (10.0, 10.0, 10.2),            # on time
        (10.0, 10.06, 10.2),           # late by 60 ms: made up, the rate holds on average
        (10.0, 10.15, 10.25),          # late by 150 ms: at least half an interval, no burst
    ],
)
def test_next_slot_keeps_the_rate_on_average_without_bursts(previous: float, now: float,
                                                            expected: float) -> None:
    from edge.scheduler import _next_slot

    assert _next_slot(previous, now, 0.2) == pytest.approx(expected)


class PreparingFakeDetector(FakeDetector):
    """Like FakeDetector, but with a separate prepare stage whose calling thread is recorded."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock)
        self.prepared_on: list[str] = []

    def prepare(self, image: np.ndarray) -> tuple[str, int]:
        import threading

        self.prepared_on.append(threading.current_thread().name)
        return ("prepared", int(image[0, 0, 0]))

    def detect_prepared(self, prepared: Sequence[tuple[str, int]]) -> list[tuple[Detections, Times]]:
        assert all(tag == "prepared" for tag, _ in prepared)
        self.batches.append([camera for _, camera in prepared])
        return [(Detections.empty(), Times()) for _ in prepared]


def test_frames_are_prepared_by_the_submitting_thread_and_only_inferred_on_the_scheduler() -> None:
    import threading

    clock = Clock()
    detector = PreparingFakeDetector(clock)
    scheduler = InferenceScheduler(detector, max_batch=2, clock=clock)
    results: list[DetectResult] = []
    for c in range(3):
        scheduler.add_camera(f"cam-{c}", detect_fps=None, budget_ms=250.0, on_result=results.append)
    submitter = threading.Thread(target=lambda: [scheduler.submit(_frame(c, 0, clock.now)) for c in range(3)],
                                 name="camera-reader")
    submitter.start()
    submitter.join()
    assert detector.prepared_on == ["camera-reader"] * 3
    assert scheduler.step() == 2 and scheduler.step() == 1
    assert detector.batches == [[0, 1], [2]]
    assert [r.frame.camera_id for r in results] == ["cam-0", "cam-1", "cam-2"]


def test_a_superseded_frame_takes_its_prepared_input_with_it() -> None:
    clock = Clock()
    detector = PreparingFakeDetector(clock)
    scheduler = InferenceScheduler(detector, clock=clock)
    results: list[DetectResult] = []
    scheduler.add_camera("cam-5", detect_fps=None, budget_ms=250.0, on_result=results.append)
    scheduler.submit(_frame(5, 0, clock.now))
    newer = _frame(5, 1, clock.now)
    newer.image_bgr[0, 0, 0] = 5
    scheduler.submit(newer)
    assert scheduler.step() == 1
    assert [r.frame.index for r in results] == [1]
    assert scheduler.counts("cam-5").superseded == 1


class SlowThreadSafeDetector:
    """Sleeps per call (releasing the GIL like ONNX Runtime) and records per-camera overlap."""

    def __init__(self) -> None:
        import threading

        self.lock = threading.Lock()
        self.in_detector: dict[int, int] = {}
        self.overlap_same_camera = 0
        self.max_concurrent = 0
        self.active = 0

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[tuple[Detections, Times]]:
        cams = [int(img[0, 0, 0]) for img in images]
        with self.lock:
            self.active += 1
            self.max_concurrent = max(self.max_concurrent, self.active)
            for c in cams:
                self.in_detector[c] = self.in_detector.get(c, 0) + 1
                if self.in_detector[c] > 1:
                    self.overlap_same_camera += 1
        time.sleep(0.01)  # stands in for inference time, so that overlapping calls would be seen
        with self.lock:
            self.active -= 1
            for c in cams:
                self.in_detector[c] -= 1
        return [(Detections.empty(), Times()) for _ in images]


def test_two_workers_run_side_by_side_but_never_two_frames_of_one_camera() -> None:
    detector = SlowThreadSafeDetector()
    scheduler = InferenceScheduler(detector, workers=2)
    results: list[DetectResult] = []
    for c in range(2):
        scheduler.add_camera(f"cam-{c}", detect_fps=None, budget_ms=10_000.0, on_result=results.append)
    scheduler.start()
    try:
        for index in range(30):
            for c in range(2):
                scheduler.submit(_frame(c, index, time.monotonic()), wait=True)
        wait_until(lambda: len(results) >= 60, 10)
    finally:
        scheduler.stop()
    assert len(results) == 60
    assert detector.overlap_same_camera == 0
    assert detector.max_concurrent == 2
    for c in range(2):
        indexes = [r.frame.index for r in results if r.frame.camera_id == f"cam-{c}"]
        assert indexes == list(range(30)), "a camera's results must arrive in frame order"


def test_a_failing_skip_handler_does_not_hold_back_the_frames_picked_beside_it() -> None:
    clock = Clock()
    scheduler = InferenceScheduler(FakeDetector(clock), max_batch=2, clock=clock)
    seen: list[str] = []

    def broken(_frame: Frame, _wait_ms: float) -> None:
        raise RuntimeError("skip handler exploded")

    scheduler.add_camera("cam-0", detect_fps=None, budget_ms=100, on_result=seen.append, on_skip=broken)
    scheduler.add_camera("cam-1", detect_fps=None, budget_ms=10_000,
                         on_result=lambda r: seen.append(r.frame.camera_id))
    scheduler.submit(_frame(0, 0, clock.now - 1.0))  # a second old: over cam-0's budget, skipped
    scheduler.submit(_frame(1, 0, clock.now))
    assert scheduler.step() == 1
    scheduler.submit(_frame(1, 1, clock.now))
    assert scheduler.step() == 1  # cam-1 was released: its next frame is detected too
    assert seen == ["cam-1", "cam-1"]


def test_an_inference_worker_whose_round_fails_is_counted_and_restarted() -> None:
    health = ThreadHealth()
    faults = [RuntimeError("injected fault in the clock")]

    def clock() -> float:
        if faults and threading.current_thread().name == "inference-0":
            raise faults.pop()
        return time.monotonic()

    scheduler = InferenceScheduler(FakeDetector(Clock()), clock=clock, health=health)
    results: list[DetectResult] = []
    scheduler.add_camera("cam-0", detect_fps=None, budget_ms=60_000, on_result=results.append)
    scheduler.start(deliver_async=False)
    try:
        assert wait_until(lambda: health.restarts("inference-0") == 1)
        scheduler.submit(_frame(0, 0, time.monotonic()))
        assert wait_until(lambda: len(results) == 1)  # the restarted worker detects
    finally:
        scheduler.stop()
    assert {s.name: s.restarts for s in health.states()} == {"inference-0": 1}
