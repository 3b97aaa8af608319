"""Tracker frame-sequence stories: ids stay stable, tracks end, still objects become stationary."""

from __future__ import annotations

import numpy as np

from edge.tracker import Tracker
from edge.types import Detections
from kernel.camera_config import TrackConfig

FPS = 5.0
DT = 1 / FPS


def frame(*xyxy: tuple[float, float, float, float], score: float = 0.9, class_id: int = 0) -> Detections:
    n = len(xyxy)
    return Detections(np.array(xyxy, np.float32).reshape(n, 4), np.full(n, score, np.float32),
                      np.full(n, class_id, np.int32))


def test_a_box_moving_steadily_keeps_its_id() -> None:
    tracker = Tracker(TrackConfig(), FPS)
    ids = set()
    for i in range(20):
        tracked = tracker.update(frame((100 + 6 * i, 100, 160 + 6 * i, 260)), i * DT)
        ids.update(tracked.track_id.tolist())
    assert len(ids) == 1 and -1 not in ids
    (state,) = tracker.tracks.values()
    assert state.first_seen_ts == 0.0 and state.last_seen_ts == 19 * DT
    assert abs(state.dwell_s - 19 * DT) < 1e-9
    assert state.stationary is False
    assert state.anchor_xy == (130 + 6 * 19, 260)


def test_two_boxes_keep_distinct_ids_even_when_listed_in_a_different_order() -> None:
    tracker = Tracker(TrackConfig(), FPS)
    first = tracker.update(frame((10, 10, 60, 110), (300, 10, 350, 110)), 0.0)
    a, b = first.track_id.tolist()
    assert a != b
    for i in range(1, 10):
        boxes = [(10 + 3 * i, 10, 60 + 3 * i, 110), (300 - 3 * i, 10, 350 - 3 * i, 110)]
        if i % 2:
            boxes.reverse()
        tracked = tracker.update(frame(*boxes), i * DT)
        by_x = dict(zip(tracked.xyxy[:, 0].tolist(), tracked.track_id.tolist(), strict=True))
        assert by_x[10 + 3 * i] == a and by_x[300 - 3 * i] == b


def test_a_track_lost_longer_than_the_buffer_ends_and_a_new_one_starts() -> None:
    tracker = Tracker(TrackConfig(lost_buffer_s=1.0), FPS)
    for i in range(5):
        (old_id,) = tracker.update(frame((100, 100, 150, 200)), i * DT).track_id.tolist()
    t = 4 * DT
    for _ in range(4):  # 0.8 s unseen: still within the buffer
        t += DT
        tracker.update(Detections.empty(), t)
    assert old_id in tracker.tracks
    for _ in range(3):  # 1.4 s unseen: ended
        t += DT
        tracker.update(Detections.empty(), t)
    assert old_id not in tracker.tracks
    t += DT
    # ByteTrack confirms a new object (after the first frame) on its second sighting.
    assert tracker.update(frame((100, 100, 150, 200)), t).track_id.tolist() == [-1]
    (new_id,) = tracker.update(frame((100, 100, 150, 200)), t + DT).track_id.tolist()
    assert new_id not in (-1, old_id)
    assert tracker.tracks[new_id].first_seen_ts == t + DT


def test_a_still_box_becomes_stationary_after_the_window_and_stops_being_so_when_it_moves() -> None:
    tracker = Tracker(TrackConfig(stationary_window_s=3.0, stationary_max_move_frac=0.1), FPS)
    states = []
    rng = np.random.default_rng(1)
    for i in range(25):  # 5 s still, with a pixel or two of detector jitter
        jitter = rng.uniform(-2, 2, 4)
        tracked = tracker.update(frame(tuple(np.add((200, 200, 300, 400), jitter))), i * DT)
        states.append(tracker.tracks[int(tracked.track_id[0])])
    assert [s.stationary for s in states[:15]] == [False] * 15  # less than 3 s observed
    assert all(s.stationary for s in states[15:])
    assert states[-1].stationary_since_ts == 0.0
    assert abs(states[-1].stationary_s(24 * DT) - 24 * DT) < 1e-9
    for i in range(25, 30):  # drives off
        tracked = tracker.update(frame((200 + 20 * (i - 24), 200, 300 + 20 * (i - 24), 400)), i * DT)
    state = tracker.tracks[int(tracked.track_id[0])]
    assert state.stationary is False and state.stationary_s(29 * DT) == 0.0


def test_low_score_detections_are_kept_untracked() -> None:
    tracker = Tracker(TrackConfig(activation_threshold=0.5), FPS)
    tracked = tracker.update(
        Detections(np.array([[0, 0, 50, 50], [200, 200, 260, 300]], np.float32),
                   np.array([0.9, 0.2], np.float32), np.array([0, 7], np.int32)), 0.0)
    assert len(tracked) == 2
    assert tracked.track_id[0] >= 0 and tracked.track_id[1] == -1


def test_empty_frames_are_fine() -> None:
    tracker = Tracker(TrackConfig(), FPS)
    assert len(tracker.update(Detections.empty(), 0.0)) == 0
    assert tracker.tracks == {}
