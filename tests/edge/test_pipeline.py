"""Camera pipeline stories: frames through the motion gate, shared scheduler and fake downstream stages."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge.config.sections import MotionConfig
from edge.motion import MotionGate, MotionVerdict
from edge.pipeline import CameraPipeline, DownstreamStages
from edge.scheduler import InferenceScheduler
from edge.stats import CameraStatsCollector
from edge.types import Detections, Frame


@dataclass(frozen=True)
class Times:
    preprocess_ms: float = 2.0
    inference_ms: float = 20.0
    postprocess_ms: float = 1.0


class OnePersonDetector:
    """Finds one 'person' wherever the frame is bright (a stand-in for the ONNX detector)."""

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[tuple[Detections, Times]]:
        out = []
        for image in images:
            ys, xs = np.nonzero(image[:, :, 0] > 200)
            if len(xs):
                det = Detections(np.array([[xs.min(), ys.min(), xs.max(), ys.max()]], np.float32),
                                 np.array([0.9], np.float32), np.array([0], np.int32))
            else:
                det = Detections.empty()
            out.append((det, Times()))
        return out


class Recorder:
    def __init__(self) -> None:
        self.published: list[object] = []

    def stages(self) -> DownstreamStages:
        return DownstreamStages(
            track=lambda det, _frame: det.with_tracks(np.arange(len(det), dtype=np.int64) + 1),
            rules=lambda det, frame: [("person", frame.index, int(det.track_id[0]))] if len(det) else [],
            evidence=lambda event, _frame: event,  # type: ignore[arg-type, return-value]
            publish=self.published.append,
            motion_rules=lambda verdict, frame: [("motion", frame.index)] if verdict.moving else [],
        )


def _frame(index: int, person: bool) -> Frame:
    image = np.full((120, 160, 3), 90, np.uint8)
    if person:
        x = 20 + index * 5
        image[40:100, x:x + 20] = 250
    return Frame("cam-1", index, time.time(), time.monotonic(), image)


def _pipeline(recorder: Recorder, scheduler: InferenceScheduler | None) -> CameraPipeline:
    stats = CameraStatsCollector("gw-1", "cam-1")
    motion = MotionGate(MotionConfig(downscale_width_px=80, recheck_interval_s=60))
    pipeline = CameraPipeline("cam-1", motion, recorder.stages(), stats, scheduler=scheduler)
    if scheduler is not None:
        scheduler.add_camera("cam-1", detect_fps=None, budget_ms=1e9, on_result=pipeline.on_detected,
                             on_skip=pipeline.on_budget_skip)
    return pipeline


def test_still_frames_are_gated_and_a_walker_reaches_the_rules_and_the_publisher() -> None:
    recorder = Recorder()
    scheduler = InferenceScheduler(OnePersonDetector())
    pipeline = _pipeline(recorder, scheduler)
    story = [False] * 5 + [True] * 5  # empty street, then someone walks through
    for index, person in enumerate(story):
        pipeline.on_frame(_frame(index, person))
        scheduler.step()
    snap = pipeline.stats.snapshot()
    assert snap.frames_captured == 10
    assert snap.frames_skipped_motion == 4  # the still frames after the first look
    people = [e for e in recorder.published if e[0] == "person"]
    assert [e[1] for e in people] == [5, 6, 7, 8, 9]
    assert {e[0] for e in recorder.published} == {"person", "motion"}  # motion rules run beside the model
    stages = {"motion", "preprocess", "inference", "postprocess", "track", "rules", "evidence", "publish"}
    assert stages <= set(snap.stage_latency_ms)
    assert snap.inference_ms is not None and snap.inference_ms.p50 == 20.0
    assert snap.frame_age_ms is not None and snap.frame_age_ms.p50 >= 0


def test_without_a_model_the_camera_runs_motion_only() -> None:
    recorder = Recorder()
    pipeline = _pipeline(recorder, scheduler=None)
    for index, person in enumerate([False, False, True, True, False]):
        pipeline.on_frame(_frame(index, person))
    assert [e[0] for e in recorder.published] == ["motion"] * len(recorder.published)
    assert [e[1] for e in recorder.published][:1] == [0] and 2 in [e[1] for e in recorder.published]
    assert pipeline.stats.snapshot().detect_fps == 0.0


def test_verdict_of_motion_only_rules_is_a_motion_verdict() -> None:
    seen: list[MotionVerdict] = []
    recorder = Recorder()
    stages = recorder.stages()
    stages = DownstreamStages(stages.track, stages.rules, stages.evidence, stages.publish,
                              motion_rules=lambda v, _f: seen.append(v) or [])
    pipeline = CameraPipeline("cam-1", MotionGate(MotionConfig()), stages,
                              CameraStatsCollector("gw-1", "cam-1"), scheduler=None)
    pipeline.on_frame(_frame(0, False))
    assert isinstance(seen[0], MotionVerdict)


def test_frames_the_rate_limit_would_drop_skip_the_motion_check() -> None:
    recorder = Recorder()
    clock = [1000.0]
    scheduler = InferenceScheduler(OnePersonDetector(), clock=lambda: clock[0])
    stats = CameraStatsCollector("gw-1", "cam-1")
    pipeline = CameraPipeline("cam-1", MotionGate(MotionConfig(downscale_width_px=80)), recorder.stages(),
                              stats, scheduler=scheduler)
    scheduler.add_camera("cam-1", detect_fps=5.0, budget_ms=1e9, on_result=pipeline.on_detected)
    for index in range(10):  # 1 s of a 10 fps source with a walker, detect at most 5 fps
        frame = _frame(index, True)
        pipeline.on_frame(Frame(frame.camera_id, index, clock[0], clock[0], frame.image_bgr))
        scheduler.step()
        clock[0] += 0.1
    assert stats.totals["detected"] == 5
    assert stats.totals["skipped_rate"] == 5
    assert len(stats.snapshot().stage_latency_ms) and stats.totals["captured"] == 10


def test_a_still_scene_is_checked_for_motion_no_more_often_than_it_could_be_detected() -> None:
    recorder = Recorder()
    clock = [1000.0]
    scheduler = InferenceScheduler(OnePersonDetector(), clock=lambda: clock[0])
    stats = CameraStatsCollector("gw-1", "cam-1")
    pipeline = CameraPipeline("cam-1", MotionGate(MotionConfig(downscale_width_px=80)), recorder.stages(),
                              stats, scheduler=scheduler, motion_interval_s=0.15)
    scheduler.add_camera("cam-1", detect_fps=5.0, budget_ms=1e9, on_result=pipeline.on_detected)
    for index in range(20):  # 2 s of an empty street at 10 fps
        frame = _frame(index, False)
        pipeline.on_frame(Frame(frame.camera_id, index, clock[0], clock[0], frame.image_bgr))
        scheduler.step()
        clock[0] += 0.1
    assert stats.totals["captured"] == 20
    assert stats.totals["skipped_rate"] == 10  # every other frame
    assert stats.totals["skipped_motion"] == 9  # the rest, after the first look, are still
