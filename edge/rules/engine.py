"""RuleEngine: one camera's rules turned from tracked detections (and motion) into episode events."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

from edge.rules.episodes import Episode, EventTarget
from edge.rules.events import Observation, RuleEvent
from edge.rules.filters import COCO_CLASS_NAMES, ObjectFilter, class_name
from edge.rules.kinds import FrameView, RuleKind, strategy_for
from edge.rules.schedule import is_armed
from edge.tracker import TrackState
from edge.types import Detections
from edge.zones import SceneGeometry
from kernel.camera_config import CameraConfig, LineCrossingRule, MotionRule
from kernel.camera_config.rules import RuleBase

log = logging.getLogger(__name__)


class _MotionKind:
    """Motion-only rule: the motion detector reports change for at least ``min_duration_s``."""

    def __init__(self, rule: MotionRule) -> None:
        self._rule = rule
        self._since_ts: float | None = None

    def observe(self, motion: bool, frame_ts: float) -> Observation | None:
        if not motion:
            self._since_ts = None
            return None
        if self._since_ts is None:
            self._since_ts = frame_ts
        lasted_s = frame_ts - self._since_ts
        return Observation(dwell_s=lasted_s) if lasted_s >= self._rule.min_duration_s else None


def _target(camera_id: str, rule: RuleBase) -> EventTarget:
    if isinstance(rule, LineCrossingRule):
        return EventTarget(camera_id, line_id=rule.line)
    return EventTarget(camera_id, zone_id=getattr(rule, "zone", None))


class RuleEngine:
    """Evaluates every enabled rule of one camera, frame by frame; the only state is per-rule episodes.

    ``update`` runs on frames the detector saw; ``update_motion`` on every frame the motion detector saw.
    A still scene is not re-detected every frame, so an episode ends only when a later detection (at the
    latest the motion re-check) shows the condition cleared.
    """

    def __init__(self, camera: CameraConfig, frame_size: tuple[int, int],
                 class_names: Sequence[str] = COCO_CLASS_NAMES) -> None:
        self.camera = camera
        self.frame_size = frame_size
        self._class_names = tuple(class_names)
        self._geometry = SceneGeometry(camera, *frame_size)
        self._filter = ObjectFilter(camera, self._class_names, frame_size)
        rules = [r for r in camera.rules if r.enabled]
        self._detect_rules: list[tuple[RuleBase, RuleKind, Episode]] = [
            (r, strategy_for(r), Episode(r, _target(camera.camera_id, r)))
            for r in rules if not isinstance(r, MotionRule)
        ]
        self._motion_rules = [
            (r, _MotionKind(r), Episode(r, EventTarget(camera.camera_id)))
            for r in rules if isinstance(r, MotionRule)
        ]
        self._watched_zones = sorted({zone for r, _, _ in self._detect_rules
                                      if (zone := getattr(r, "zone", None)) is not None})
        self._warn_unknown_classes(rules)

    def _warn_unknown_classes(self, rules: Iterable[RuleBase]) -> None:
        known = set(self._class_names)
        for rule in rules:
            missing = [c for c in getattr(rule, "classes", ()) if c not in known]
            if missing:
                log.warning("camera %s rule %s: the model has no class %s; those parts never fire",
                            self.camera.camera_id, rule.rule_id, ", ".join(missing))

    def update(
        self, tracked: Detections, tracks: Mapping[int, TrackState], frame_ts: float
    ) -> list[RuleEvent]:
        """Feed one detected frame (tracked detections, live tracks); return the events it caused."""
        return self.evaluate(self.place(tracked, tracks, frame_ts))

    def place(self, tracked: Detections, tracks: Mapping[int, TrackState], frame_ts: float) -> FrameView:
        """The zones stage: keep the detections the camera watches (classes, scores, masks, k of n) and
        place them in the zones the rules watch."""
        kept = self._filter.apply(tracked, self._geometry)
        self._filter.forget(set(tracks))
        names = tuple(class_name(self._class_names, int(c)) for c in kept.class_id)
        in_zone = {zone: self._geometry.in_zone(zone, kept) for zone in self._watched_zones} if len(kept) else {}
        return FrameView(kept, names, tracks, self._geometry, frame_ts, in_zone)

    def evaluate(self, view: FrameView) -> list[RuleEvent]:
        """The rules stage: step every detection rule's episode on one placed frame; the events it caused."""
        frame_ts = view.frame_ts
        events = []
        for rule, kind, episode in self._detect_rules:
            observation = kind.observe(view)  # always observe: strategies keep per-track history
            event = episode.step(observation if is_armed(rule.schedule, frame_ts) else None, frame_ts)
            if event is not None:
                events.append(event)
        return events

    def update_motion(self, motion: bool, frame_ts: float) -> list[RuleEvent]:
        """Feed one motion verdict; return the events of motion rules it caused."""
        events = []
        for rule, kind, episode in self._motion_rules:
            observation = kind.observe(motion, frame_ts)
            event = episode.step(observation if is_armed(rule.schedule, frame_ts) else None, frame_ts)
            if event is not None:
                events.append(event)
        return events
