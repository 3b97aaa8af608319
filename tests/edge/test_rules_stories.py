"""Rule engine frame-sequence stories: one per rule kind, plus cooldown, schedule, k-of-n and episode ids."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import numpy as np
import pytest

from edge.rules import COCO_CLASS_NAMES, RuleEngine, RuleEvent
from edge.tracker import Tracker
from edge.types import Detections
from kernel.camera_config import CameraConfig
from kernel.contracts.messages import AlertType, Phase, Severity

W, H = 640, 480
FPS = 5
PERSON, CAR = COCO_CLASS_NAMES.index("person"), COCO_CLASS_NAMES.index("car")
LOWER_HALF = [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]]

Box = tuple[float, float, float, float, int]  # x1, y1, x2, y2, class_id


def camera(rules: list[dict], **extra: object) -> CameraConfig:
    return CameraConfig.model_validate({
        "camera_id": "cam-1", "source": {"url": "clip.mp4"},
        "zones": [{"id": "yard", "polygon": LOWER_HALF}],
        "lines": [{"id": "kerb", "points": [[0.0, 0.5], [1.0, 0.5]]}],
        "rules": rules, **extra,
    })


def person_at(x: float, feet_y: float) -> Box:
    return (x - 20, feet_y - 100, x + 20, feet_y, PERSON)


def detections(boxes: Iterable[Box], score: float = 0.9) -> Detections:
    rows = list(boxes)
    return Detections(np.array([b[:4] for b in rows], np.float32).reshape(-1, 4),
                      np.full(len(rows), score, np.float32), np.array([b[4] for b in rows], np.int32))


def run(cam: CameraConfig, scene: Callable[[float], list[Box]], seconds: float, start_ts: float = 0.0,
        class_names: tuple[str, ...] = COCO_CLASS_NAMES) -> list[RuleEvent]:
    """Feed ``scene(t)`` at FPS for ``seconds`` through a real tracker and the engine; collect events."""
    tracker = Tracker(cam.track, FPS)
    engine = RuleEngine(cam, (W, H), class_names)
    events: list[RuleEvent] = []
    for i in range(int(seconds * FPS) + 1):
        t = i / FPS
        tracked = tracker.update(detections(scene(t)), start_ts + t)
        events += engine.update(tracked, tracker.tracks, start_ts + t)
    return events


def story(events: list[RuleEvent], start_ts: float = 0.0) -> list[tuple[str, float]]:
    return [(e.phase.value, round(e.frame_ts - start_ts, 1)) for e in events]


def test_intrusion_person_enters_stays_12s_and_leaves() -> None:
    cam = camera([{"rule_id": "in-yard", "kind": "intrusion", "zone": "yard", "update_interval_s": 5,
                   "clear_after_s": 3}])

    def scene(t: float) -> list[Box]:
        if t < 1.0:
            return [person_at(320, 200)]  # above the zone
        if t < 13.0:
            return [person_at(320, 300)]
        return [person_at(320, 200)]  # left the zone

    events = run(cam, scene, 20)
    assert story(events) == [("start", 1.0), ("update", 6.0), ("update", 11.0), ("end", 15.8)]
    start = events[0]
    assert start.rule_id == "in-yard" and start.zone_id == "yard" and start.camera_id == "cam-1"
    assert start.alert_type is AlertType.INTRUSION and start.severity is Severity.HIGH
    assert start.count == 1 and start.objects[0].class_name == "person"
    assert start.objects[0].xyxy == (300.0, 200.0, 340.0, 300.0)
    assert start.objects[0].score == pytest.approx(0.9)
    assert start.event_id == start.episode_id
    assert {e.episode_id for e in events} == {start.episode_id}
    assert len({e.event_id for e in events}) == len(events)


def test_intrusion_ignores_other_classes_and_objects_outside_the_zone() -> None:
    cam = camera([{"rule_id": "in-yard", "kind": "intrusion", "zone": "yard"}])
    events = run(cam, lambda t: [(100, 300, 200, 400, CAR), person_at(320, 200)], 5)
    assert events == []


def test_loitering_starts_after_dwell_and_ends_when_the_person_leaves() -> None:
    cam = camera([{"rule_id": "loiter", "kind": "loitering", "zone": "yard", "dwell_s": 10,
                   "update_interval_s": 60, "clear_after_s": 2}])

    def scene(t: float) -> list[Box]:
        if t < 2.0:
            return [person_at(300, 140 + 48 * t)]  # walks up to the zone's edge (y = 240)
        if t < 15.0:
            return [person_at(300 + (t % 2) * 10, 260)]  # inside, pacing about
        return []

    events = run(cam, scene, 20)
    assert story(events) == [("start", 12.0), ("end", 16.8)]
    assert events[0].dwell_s == pytest.approx(10.0) and events[0].objects[0].track_id is not None


def test_passing_through_is_not_loitering() -> None:
    cam = camera([{"rule_id": "loiter", "kind": "loitering", "zone": "yard", "dwell_s": 10}])
    # Walks down through the zone (y 240..480) in 4 s and out of the frame.
    events = run(cam, lambda t: [person_at(320, 100 + 60 * t)] if t < 7 else [], 14)
    assert events == []


def test_illegal_parking_car_stationary_40s_with_30s_limit_starts_once() -> None:
    cam = camera([{"rule_id": "no-parking", "kind": "illegal_parking", "zone": "yard", "stationary_s": 30,
                   "update_interval_s": 5}])
    events = run(cam, lambda t: [(200, 300, 360, 420, CAR)], 40)
    phases = [e.phase for e in events]
    assert phases.count(Phase.START) == 1 and Phase.END not in phases
    assert events[0].frame_ts == pytest.approx(30.0)
    assert events[0].alert_type is AlertType.ILLEGAL_PARKING and events[0].dwell_s == pytest.approx(30.0)


def test_a_car_driving_through_is_not_parked() -> None:
    cam = camera([{"rule_id": "no-parking", "kind": "illegal_parking", "zone": "yard", "stationary_s": 5}])
    events = run(cam, lambda t: [(t * 30, 300, t * 30 + 160, 420, CAR)], 15)
    assert events == []


def test_crowding_five_people_for_10s_starts_but_four_do_not() -> None:
    rule = {"rule_id": "crowd", "kind": "crowding", "zone": "yard", "min_count": 5, "duration_s": 10}
    five = [person_at(60 + 110 * k, 400) for k in range(5)]
    events = run(camera([rule]), lambda t: five if t >= 2 else [], 14)
    assert story(events) == [("start", 12.0)]
    assert events[0].count == 5 and len(events[0].objects) == 5
    assert run(camera([rule]), lambda t: five[:4], 14) == []


def test_crowding_tolerates_a_one_frame_miss() -> None:
    rule = {"rule_id": "crowd", "kind": "crowding", "zone": "yard", "min_count": 3, "duration_s": 5}
    three = [person_at(100 + 150 * k, 400) for k in range(3)]
    events = run(camera([rule]), lambda t: three[:2] if abs(t - 3.0) < 0.01 else three, 6)
    assert story(events) == [("start", 5.0)]


@pytest.mark.parametrize(("direction", "expected"), [
    ("a_to_b", [("start", 2.4), ("end", 2.6)]),
    ("both", [("start", 2.4), ("end", 2.6)]),
    ("b_to_a", []),
])
def test_line_crossing_counts_only_its_direction(direction: str, expected: list) -> None:
    cam = camera([{"rule_id": "cross", "kind": "line_crossing", "line": "kerb", "direction": direction,
                   "cooldown_s": 0}])
    # Walks down the frame: feet go from side a (above y=240) to side b at t=2.4.
    events = run(cam, lambda t: [person_at(320, 120 + t * 50)], 4)
    assert story(events) == expected
    if events:
        assert events[0].direction == "a_to_b" and events[0].line_id == "kerb"
        assert events[0].alert_type is AlertType.LINE_CROSSING


FIRE_MODEL = ("fire", "smoke")


@pytest.mark.parametrize(("seen", "expected"), [
    ("x.x.x", [("start", 0.8)]),        # 3 of the last 5 checks
    ("x..x..x..x", []),                  # never 3 within 5
    ("xxx.....", [("start", 0.4), ("end", 1.0)]),   # ends once fewer than 3 of the last 5 remain
])
def test_presence_fire_seen_k_of_last_n_checks(seen: str, expected: list) -> None:
    cam = camera([{"rule_id": "fire", "kind": "presence", "classes": ["fire", "smoke"],
                   "alert_type": "fire_smoke", "min_hits": 3, "window_checks": 5, "clear_after_s": 0,
                   "severity": "critical"}])
    fire = (400, 100, 500, 200, FIRE_MODEL.index("fire"))
    events = run(cam, lambda t: [fire] if round(t * FPS) < len(seen) and seen[round(t * FPS)] == "x" else [],
                 (len(seen) - 1) / FPS, class_names=FIRE_MODEL)
    assert story(events) == expected
    if events:
        assert events[0].alert_type is AlertType.FIRE_SMOKE and events[0].severity is Severity.CRITICAL
        assert events[0].objects[0].class_name == "fire"


def test_cooldown_suppresses_a_second_episode() -> None:
    cam = camera([{"rule_id": "in-yard", "kind": "intrusion", "zone": "yard", "cooldown_s": 30,
                   "clear_after_s": 1}])

    def scene(t: float) -> list[Box]:
        inside = t < 2 or 10 <= t < 12 or t >= 40
        return [person_at(320, 400)] if inside else []

    assert story(run(cam, scene, 42)) == [("start", 0.0), ("end", 3.0), ("start", 40.0)]


# Saturday 2026-11-28 03:00 UTC.
SATURDAY_3AM = datetime(2026, 11, 28, 3, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(("schedule", "fires"), [
    ({"windows": ["22:00-06:00"]}, True),
    ({"windows": ["08:00-18:00"]}, False),
    ({"windows": ["22:00-06:00"], "weekdays": ["fri"]}, True),   # Friday night's window runs into Saturday
    ({"windows": ["22:00-06:00"], "weekdays": ["sat"]}, False),  # Saturday night's starts at 22:00
    ({"weekdays": ["mon", "tue"]}, False),
    ({"timezone": "Asia/Tokyo", "windows": ["11:00-13:00"]}, True),  # 12:00 in Tokyo
])
def test_schedule_arms_the_rule_only_inside_its_windows(schedule: dict, fires: bool) -> None:
    cam = camera([{"rule_id": "night", "kind": "intrusion", "zone": "yard", "schedule": schedule}])
    events = run(cam, lambda t: [person_at(320, 400)], 2, start_ts=SATURDAY_3AM)
    assert bool(events) is fires


def test_class_filter_k_of_n_needs_several_sightings_of_a_track() -> None:
    cam = camera([{"rule_id": "in-yard", "kind": "intrusion", "zone": "yard"}],
                 classes={"person": {"min_score": 0.5, "min_hits": 3, "hits_window": 5}})
    events = run(cam, lambda t: [person_at(320, 400)], 3)
    # The track's third passing sighting (t = 0.4) makes 3 of its last 5 frames.
    assert story(events) == [("start", 0.4)]


def test_class_filter_min_score_and_masks_drop_detections() -> None:
    cam = camera([{"rule_id": "in-yard", "kind": "intrusion", "zone": "yard"}],
                 classes={"person": {"min_score": 0.95}})
    assert run(cam, lambda t: [person_at(320, 400)], 2) == []
    masked = camera([{"rule_id": "in-yard", "kind": "intrusion", "zone": "yard"}],
                    masks=[{"id": "poster", "polygon": [[0.4, 0.7], [0.6, 0.7], [0.6, 0.9], [0.4, 0.9]]}])
    assert run(masked, lambda t: [person_at(320, 400)], 2) == []


def test_disabled_rules_never_fire() -> None:
    cam = camera([{"rule_id": "in-yard", "kind": "intrusion", "zone": "yard", "enabled": False}])
    assert run(cam, lambda t: [person_at(320, 400)], 2) == []


def test_motion_rule_starts_after_min_duration_and_ends_when_still() -> None:
    cam = camera([{"rule_id": "motion", "kind": "motion", "min_duration_s": 1, "clear_after_s": 2}])
    engine = RuleEngine(cam, (W, H))
    events = []
    for i in range(60):
        t = i / FPS
        events += engine.update_motion(2.0 <= t < 6.0, t)
    assert story(events) == [("start", 3.0), ("end", 7.8)]
    assert events[0].alert_type is AlertType.MOTION and events[0].severity is Severity.LOW
    assert engine.update(detections([person_at(320, 400)]), {}, 20.0) == []  # not a detection rule
