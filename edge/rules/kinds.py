"""One small strategy per rule kind: given a frame's filtered objects, does the rule's condition hold?"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from edge.rules.events import EventObject, Observation
from edge.tracker import TrackState
from edge.types import Detections
from edge.zones import SceneGeometry, anchor_points
from kernel.camera_config import (
    CrowdingRule,
    IllegalParkingRule,
    IntrusionRule,
    LineCrossingRule,
    LoiteringRule,
    PresenceRule,
    RuleConfig,
)
from kernel.camera_config.geometry import LineDirection

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class FrameView:
    """One frame as rules see it (the zones stage's output): the filtered, tracked detections with their
    class names, placed in the scene: ``in_zone`` holds, per zone a rule watches, which ones are inside."""

    detections: Detections
    names: tuple[str, ...]  # per detection
    tracks: Mapping[int, TrackState]
    geometry: SceneGeometry
    frame_ts: float
    in_zone: Mapping[str, BoolArray] = field(default_factory=dict)

    @property
    def track_ids(self) -> npt.NDArray[np.int64]:
        return self.detections.track_id if self.detections.tracked else np.full(len(self.detections), -1)

    def watched(self, classes: frozenset[str], zone_id: str | None) -> BoolArray:
        """(N,) bool: of one of ``classes`` and inside the zone."""
        of_class = np.array([n in classes for n in self.names], bool)
        if not len(of_class) or zone_id is None:
            return of_class
        inside = self.in_zone.get(zone_id)
        return of_class & (inside if inside is not None else self.geometry.in_zone(zone_id, self.detections))

    def objects(self, mask: BoolArray) -> tuple[EventObject, ...]:
        d, tids = self.detections, self.track_ids
        return tuple(
            EventObject(int(d.class_id[i]), self.names[i], float(d.confidence[i]),
                        tuple(float(v) for v in d.xyxy[i]), int(tids[i]) if tids[i] >= 0 else None)  # type: ignore[arg-type]
            for i in np.flatnonzero(mask)
        )


class RuleKind(Protocol):
    def observe(self, view: FrameView) -> Observation | None: ...


class Intrusion:
    """Any watched object inside the zone."""

    def __init__(self, rule: IntrusionRule) -> None:
        self._rule, self._classes = rule, frozenset(rule.classes)

    def observe(self, view: FrameView) -> Observation | None:
        inside = view.watched(self._classes, self._rule.zone)
        count = int(inside.sum())
        return Observation(view.objects(inside), count=count) if count else None


class Loitering:
    """A tracked object has stayed inside the zone longer than ``dwell_s``."""

    def __init__(self, rule: LoiteringRule) -> None:
        self._rule, self._classes = rule, frozenset(rule.classes)
        self._entered_ts: dict[int, float] = {}

    def observe(self, view: FrameView) -> Observation | None:
        inside = view.watched(self._classes, self._rule.zone) & (view.track_ids >= 0)
        inside_ids = {int(t) for t in view.track_ids[inside]}
        seen_outside = {int(t) for t in view.track_ids[~inside] if t >= 0}
        for tid in list(self._entered_ts):
            if tid in seen_outside or tid not in view.tracks:
                del self._entered_ts[tid]  # left the zone, or the track ended
        for tid in inside_ids:
            self._entered_ts.setdefault(tid, view.frame_ts)
        now = view.frame_ts
        dwell = np.array([now - self._entered_ts.get(int(t), now) for t in view.track_ids], np.float64)
        loitering = inside & (dwell >= self._rule.dwell_s)
        if not loitering.any():
            return None
        longest_s = float(dwell[loitering].max())
        return Observation(view.objects(loitering), count=int(loitering.sum()), dwell_s=longest_s)


class IllegalParking:
    """A tracked vehicle has been stationary inside the zone longer than ``stationary_s``."""

    def __init__(self, rule: IllegalParkingRule) -> None:
        self._rule, self._classes = rule, frozenset(rule.classes)

    def observe(self, view: FrameView) -> Observation | None:
        inside = view.watched(self._classes, self._rule.zone)
        still_s = np.array([
            view.tracks[int(t)].stationary_s(view.frame_ts) if int(t) in view.tracks else 0.0
            for t in view.track_ids
        ], np.float64)
        parked = inside & (still_s >= self._rule.stationary_s)
        if not parked.any():
            return None
        longest_s = float(still_s[parked].max())
        return Observation(view.objects(parked), count=int(parked.sum()), dwell_s=longest_s)


class Crowding:
    """At least ``min_count`` watched objects in the zone, for ``duration_s`` (brief dips shorter than
    ``clear_after_s`` do not restart the clock: detectors miss people for a frame now and then)."""

    def __init__(self, rule: CrowdingRule) -> None:
        self._rule, self._classes = rule, frozenset(rule.classes)
        self._since_ts: float | None = None
        self._last_ok_ts = 0.0

    def observe(self, view: FrameView) -> Observation | None:
        inside = view.watched(self._classes, self._rule.zone)
        count = int(inside.sum())
        if count < self._rule.min_count:
            if self._since_ts is not None and view.frame_ts - self._last_ok_ts > self._rule.clear_after_s:
                self._since_ts = None
            return None
        if self._since_ts is None:
            self._since_ts = view.frame_ts
        self._last_ok_ts = view.frame_ts
        lasted_s = view.frame_ts - self._since_ts
        if lasted_s < self._rule.duration_s:
            return None
        return Observation(view.objects(inside), count=count, dwell_s=lasted_s)


class LineCrossing:
    """A tracked object's anchor crossed the line segment in a counted direction since its last frame."""

    def __init__(self, rule: LineCrossingRule) -> None:
        self._rule, self._classes = rule, frozenset(rule.classes)
        self._previous: dict[int, npt.NDArray[np.float32]] = {}

    def observe(self, view: FrameView) -> Observation | None:
        line = view.geometry.lines[self._rule.line]
        watched = view.watched(self._classes, None) & (view.track_ids >= 0)
        points = anchor_points(view.detections, line.anchor)[:, 0, :]
        crossed = np.zeros(len(view.detections), bool)
        directions: list[str] = []
        for i in np.flatnonzero(watched):
            tid = int(view.track_ids[i])
            previous = self._previous.get(tid)
            self._previous[tid] = points[i]
            if previous is None:
                continue
            sign = int(line.crossings(previous[None, :], points[i][None, :])[0])
            if line.counts(sign, self._rule.direction):
                crossed[i] = True
                directions.append((LineDirection.A_TO_B if sign > 0 else LineDirection.B_TO_A).value)
        for tid in [t for t in self._previous if t not in view.tracks]:
            del self._previous[tid]
        if not crossed.any():
            return None
        return Observation(view.objects(crossed), count=int(crossed.sum()), direction=directions[0])


class Presence:
    """A watched class was seen in at least ``min_hits`` of the last ``window_checks`` detector checks."""

    def __init__(self, rule: PresenceRule) -> None:
        self._rule, self._classes = rule, frozenset(rule.classes)
        self._checks: deque[bool] = deque(maxlen=rule.window_checks)

    def observe(self, view: FrameView) -> Observation | None:
        inside = view.watched(self._classes, self._rule.zone)
        self._checks.append(bool(inside.any()))
        if sum(self._checks) < self._rule.min_hits:
            return None
        return Observation(view.objects(inside), count=int(inside.sum()))


STRATEGIES: dict[str, type] = {
    "intrusion": Intrusion,
    "loitering": Loitering,
    "illegal_parking": IllegalParking,
    "crowding": Crowding,
    "line_crossing": LineCrossing,
    "presence": Presence,
}


def strategy_for(rule: RuleConfig) -> RuleKind:
    """The strategy object that evaluates a detection rule (motion rules are evaluated by the engine)."""
    return STRATEGIES[rule.kind](rule)  # type: ignore[no-any-return]
