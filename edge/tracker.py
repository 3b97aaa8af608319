"""Stable track ids across frames (supervision's ByteTrack) plus per-track dwell and stationary state."""

from __future__ import annotations

import logging
import warnings
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import supervision as sv

from edge.types import Detections
from kernel.camera_config import TrackConfig

log = logging.getLogger(__name__)

BYTETRACK_REFERENCE_FPS = 30.0
"""ByteTrack scales ``lost_track_buffer`` by frame_rate / 30; we express the buffer in seconds instead."""


@dataclass(frozen=True, slots=True)
class TrackState:
    """What is known about one live track at the latest frame it was seen in."""

    track_id: int
    class_id: int
    first_seen_ts: float
    last_seen_ts: float
    anchor_xy: tuple[float, float]
    stationary: bool = False
    stationary_since_ts: float | None = None

    @property
    def dwell_s(self) -> float:
        return self.last_seen_ts - self.first_seen_ts

    def stationary_s(self, now_ts: float) -> float:
        """How long the track has been stationary (0 when it moves)."""
        if not self.stationary or self.stationary_since_ts is None:
            return 0.0
        return now_ts - self.stationary_since_ts


@dataclass(frozen=True, slots=True)
class _Sample:
    ts: float
    x: float
    y: float
    diag: float


class Tracker:
    """One camera's tracker: ``update`` assigns track ids to a frame's detections and updates track state."""

    def __init__(self, config: TrackConfig, detect_fps: float) -> None:
        self._config = config
        with warnings.catch_warnings():
            # sv.ByteTrack carries a FutureWarning pointing at the separate `trackers` package, which pulls in
            # the non-headless OpenCV 5; we pin supervision < 0.31 instead (see pyproject.toml).
            warnings.simplefilter("ignore", FutureWarning)
            self._bytetrack = sv.ByteTrack(
                track_activation_threshold=config.activation_threshold,
                lost_track_buffer=max(1, round(config.lost_buffer_s * BYTETRACK_REFERENCE_FPS)),
                minimum_matching_threshold=config.matching_threshold,
                frame_rate=detect_fps,
            )
        self._tracks: dict[int, TrackState] = {}
        self._history: dict[int, deque[_Sample]] = {}

    @property
    def tracks(self) -> Mapping[int, TrackState]:
        """Live tracks by id (tracks unseen for longer than ``lost_buffer_s`` have ended)."""
        return self._tracks

    def update(self, detections: Detections, frame_ts: float) -> Detections:
        """The same detections with ``track_id`` set (-1 where ByteTrack did not confirm a track)."""
        track_id = self._assign_ids(detections)
        tracked = detections.with_tracks(track_id)
        anchors = tracked.anchors_bottom_centre()
        diags = np.hypot(tracked.xyxy[:, 2] - tracked.xyxy[:, 0], tracked.xyxy[:, 3] - tracked.xyxy[:, 1])
        for i, tid in enumerate(track_id.tolist()):
            if tid >= 0:
                sample = _Sample(frame_ts, float(anchors[i, 0]), float(anchors[i, 1]), float(diags[i]))
                self._observe(tid, int(tracked.class_id[i]), sample)
        self._expire(frame_ts)
        return tracked

    def _assign_ids(self, detections: Detections) -> np.ndarray:
        track_id = np.full(len(detections), -1, np.int64)
        sv_in = sv.Detections(
            xyxy=detections.xyxy.astype(np.float32),
            confidence=detections.confidence.astype(np.float32),
            class_id=detections.class_id.astype(int),
            data={"row": np.arange(len(detections))},
        )
        sv_out = self._bytetrack.update_with_detections(sv_in)
        if len(sv_out) and sv_out.tracker_id is not None:
            track_id[sv_out.data["row"]] = sv_out.tracker_id
        return track_id

    def _observe(self, track_id: int, class_id: int, sample: _Sample) -> None:
        history = self._history.setdefault(track_id, deque())
        history.append(sample)
        window_s = self._config.stationary_window_s
        while len(history) > 1 and history[1].ts <= sample.ts - window_s:
            history.popleft()  # keep one sample at or beyond the window start, so its span is known
        previous = self._tracks.get(track_id)
        stationary = self._is_stationary(history, window_s)
        since = None
        if stationary:
            since = previous.stationary_since_ts if previous and previous.stationary else history[0].ts
        if previous is None:
            log.debug("track %d started (class %d)", track_id, class_id)
            previous = TrackState(track_id, class_id, sample.ts, sample.ts, (sample.x, sample.y))
        self._tracks[track_id] = replace(
            previous, class_id=class_id, last_seen_ts=sample.ts, anchor_xy=(sample.x, sample.y),
            stationary=stationary, stationary_since_ts=since,
        )

    def _is_stationary(self, history: deque[_Sample], window_s: float) -> bool:
        latest = history[-1]
        if latest.ts - history[0].ts < window_s:
            return False  # not observed for a whole window yet
        limit = self._config.stationary_max_move_frac * max(latest.diag, 1.0)
        return all(np.hypot(s.x - latest.x, s.y - latest.y) <= limit for s in history)

    def _expire(self, now_ts: float) -> None:
        lost_s = self._config.lost_buffer_s
        for track_id in [t for t, s in self._tracks.items() if now_ts - s.last_seen_ts > lost_s]:
            log.debug("track %d ended after %.1f s", track_id, self._tracks[track_id].dwell_s)
            del self._tracks[track_id]
            self._history.pop(track_id, None)
