"""Camera pipeline stories: frames through the motion gate, the shared scheduler, and the camera's own
tracker, zones, rules and evidence to the alerts its sink receives (the detector is a stand-in)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from edge.pipeline import CameraPipeline
from edge.scheduler import InferenceScheduler
from edge.types import Detections, Frame, StageTimes
from kernel.camera_config import CameraConfig, parse_camera
from kernel.contracts.messages import AlertEvent, AlertType, Phase

EPOCH = 1_700_000_000.0  # wall clock of the stories' first frame


class OnePersonDetector:
    """Finds one 'person' wherever the frame is bright (a stand-in for the ONNX detector)."""

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[tuple[Detections, StageTimes]]:
        out = []
        for image in images:
            ys, xs = np.nonzero(image[:, :, 0] > 200)
            if len(xs):
                det = Detections(np.array([[xs.min(), ys.min(), xs.max(), ys.max()]], np.float32),
                                 np.array([0.9], np.float32), np.array([0], np.int32))
            else:
                det = Detections.empty()
            out.append((det, StageTimes(2.0, 20.0, 1.0)))
        return out


class Sink:
    def __init__(self) -> None:
        self.alerts: list[AlertEvent] = []

    def publish(self, alert: AlertEvent) -> bool:
        self.alerts.append(alert)
        return True

    def of(self, alert_type: AlertType) -> list[AlertEvent]:
        return [a for a in self.alerts if a.alert_type is alert_type]


def _camera(detect_fps: float = 10.0, **motion: object) -> CameraConfig:
    return parse_camera({
        "camera_id": "cam-1", "source": {"url": "street.mp4"},
        "motion": {"downscale_width_px": 80, "recheck_interval_s": 60, **motion},
        "detect": {"detect_fps": detect_fps, "budget_ms": 60_000},
        "zones": [{"id": "street", "polygon": [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]}],
        "rules": [{"rule_id": "person-in-street", "kind": "intrusion", "zone": "street", "classes": ["person"]},
                  {"rule_id": "any-motion", "kind": "motion", "severity": "low"}],
    }, "cam-1.yaml")


def _frame(index: int, person: bool, mono_s: float) -> Frame:
    image = np.full((120, 160, 3), 90, np.uint8)
    if person:
        x = 20 + index * 5
        image[40:100, x:x + 20] = 250
    return Frame("cam-1", index, EPOCH + mono_s, mono_s, image)


class Story:
    """One camera on a scheduler with a hand-turned clock; frames come every ``interval_s``."""

    def __init__(self, camera: CameraConfig, *, model: bool = True) -> None:
        self.clock = [1000.0]
        self.sink = Sink()
        self.scheduler = InferenceScheduler(OnePersonDetector(), clock=lambda: self.clock[0]) if model else None
        self.pipeline = CameraPipeline(camera, "gw-1", self.sink, scheduler=self.scheduler)
        if self.scheduler is not None:
            self.scheduler.add_camera("cam-1", detect_fps=camera.detect.detect_fps,
                                      budget_ms=camera.detect.budget_ms, on_result=self.pipeline.on_detected,
                                      on_skip=self.pipeline.on_budget_skip)

    def play(self, people: Sequence[bool], interval_s: float = 0.1) -> None:
        for index, person in enumerate(people):
            self.pipeline.on_frame(_frame(index, person, self.clock[0]))
            if self.scheduler is not None:
                self.scheduler.step()
            self.clock[0] += interval_s


def test_still_frames_are_gated_and_a_walker_raises_an_intrusion_alert_with_a_snapshot() -> None:
    story = Story(_camera())
    story.play([False] * 5 + [True] * 5)  # empty street, then someone walks through
    snap = story.pipeline.stats.snapshot()
    assert snap.frames_captured == 10
    assert snap.frames_skipped_motion == 4  # the still frames after the first look
    intrusions = story.sink.of(AlertType.INTRUSION)
    assert [a.phase for a in intrusions][:1] == [Phase.START]
    start = intrusions[0]
    assert start.observed_ts.timestamp() == pytest.approx(EPOCH + 1000.5)  # frame 5: the walker's first
    assert start.detail.rule_id == "person-in-street" and start.detail.zone_id == "street"
    assert [d.class_name for d in start.detail.detections] == ["person"]
    assert start.snapshot is not None and start.source_id == "cam-1" and start.gateway_id == "gw-1"
    assert story.sink.of(AlertType.MOTION)  # motion rules run beside the model
    stages = {"motion", "motion_rules", "preprocess", "inference", "postprocess", "track", "zones", "rules",
              "evidence", "publish"}
    assert stages <= set(snap.stage_latency_ms)
    assert snap.inference_ms is not None and snap.inference_ms.p50 == 20.0
    assert snap.frame_age_ms is not None and snap.frame_age_ms.p50 >= 0
    assert story.pipeline.alerts_emitted == len(story.sink.alerts)


def test_without_a_model_the_camera_runs_motion_only() -> None:
    story = Story(_camera(), model=False)
    story.play([False, False, True, True, False])
    assert story.sink.alerts and {a.alert_type for a in story.sink.alerts} == {AlertType.MOTION}
    snap = story.pipeline.stats.snapshot()
    assert snap.detect_fps == 0.0 and snap.frames_captured == 5


def test_frames_the_rate_limit_would_drop_skip_the_motion_check() -> None:
    story = Story(_camera(detect_fps=5.0))
    story.play([True] * 10)  # 1 s of a 10 fps source with a walker, detect at most 5 fps
    totals = story.pipeline.stats.totals
    assert totals["detected"] == 5
    assert totals["skipped_rate"] == 5
    assert totals["captured"] == 10


def test_a_still_scene_is_checked_for_motion_no_more_often_than_it_could_be_detected() -> None:
    story = Story(_camera(detect_fps=5.0))
    story.play([False] * 20)  # 2 s of an empty street at 10 fps
    totals = story.pipeline.stats.totals
    assert totals["captured"] == 20
    assert totals["skipped_rate"] == 10  # every other frame
    assert totals["skipped_motion"] == 9  # the rest, after the first look, are still


class BrokenSink(Sink):
    """Refuses the first alert it is given (a full disk, say), then works again."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0

    def publish(self, alert: AlertEvent) -> bool:
        if not self.refused:
            self.refused += 1
            raise OSError("disk full")
        return super().publish(alert)


def test_a_stage_that_raises_costs_that_frame_only(caplog: pytest.LogCaptureFixture) -> None:
    story = Story(_camera())
    story.sink = story.pipeline._sink = BrokenSink()  # noqa: SLF001 - the sink is the seam under test
    story.play([False] * 3 + [True] * 5)
    assert story.pipeline.stats.totals["failed"] == 1
    assert "frame 0 failed before detection" in caplog.text  # the first motion alert hit the broken disk
    assert story.sink.of(AlertType.INTRUSION)  # the next frames went on to alerts
