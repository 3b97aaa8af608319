"""The whole camera file as one frozen model, with the cross-reference checks between its sections."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from pydantic import Field, model_validator

from kernel.camera_config.geometry import LineConfig, MaskConfig, ZoneConfig
from kernel.camera_config.rules import ClassFilter, LineCrossingRule, RuleConfig
from kernel.camera_config.sections import (
    DetectConfig,
    EvidenceConfig,
    HealthConfig,
    LocationConfig,
    MotionConfig,
    Section,
    SourceConfig,
    TrackConfig,
)
from kernel.contracts.messages import Identifier


def _duplicates(section: str, ids: Iterable[str]) -> list[str]:
    counts = Counter(ids)
    return [f"{section}: id '{i}' is used {n} times; ids must be unique" for i, n in counts.items() if n > 1]


def _names(ids: Iterable[str]) -> str:
    listed = ", ".join(ids)
    return listed or "none defined"


class CameraConfig(Section):
    """One camera: where frames come from, what to detect, and which rules turn detections into alerts."""

    camera_id: Identifier = Field(description="unique camera id, used in topics and alerts")
    name: str | None = Field(default=None, max_length=100, description="human name shown to operators")
    gateway_id: Identifier | None = Field(default=None, description="gateway that runs it; absent: any")
    grid_id: str | None = Field(
        default=None, max_length=64, description="grid/district the camera belongs to"
    )
    location: LocationConfig | None = Field(default=None, description="where the camera is")
    enabled: bool = Field(default=True, description="disabled cameras are validated but not run")
    source: SourceConfig = Field(description="where frames come from")
    motion: MotionConfig = Field(default=MotionConfig(), description="motion gating in front of the detector")
    detect: DetectConfig = Field(default=DetectConfig(), description="detector rate, threshold and classes")
    track: TrackConfig = Field(default=TrackConfig(), description="tracker tuning")
    zones: tuple[ZoneConfig, ...] = Field(default=(), description="polygon zones rules refer to")
    lines: tuple[LineConfig, ...] = Field(default=(), description="lines line_crossing rules refer to")
    masks: tuple[MaskConfig, ...] = Field(default=(), description="detections anchored inside are dropped")
    classes: dict[str, ClassFilter] = Field(default={}, description="per-class filters keyed by class name")
    rules: tuple[RuleConfig, ...] = Field(default=(), description="rules that raise alerts")
    evidence: EvidenceConfig = Field(default=EvidenceConfig(), description="snapshot settings")
    health: HealthConfig = Field(default=HealthConfig(), description="camera health alerts")

    @model_validator(mode="after")
    def _references(self) -> CameraConfig:
        problems = self.reference_problems()
        if problems:
            raise ValueError("\n".join(problems))  # the loader prints one line per problem
        return self

    def reference_problems(self) -> list[str]:
        """Duplicate ids and rules naming zones or lines that do not exist, each naming where it is."""
        problems = _duplicates("zones", (z.id for z in self.zones))
        problems += _duplicates("lines", (ln.id for ln in self.lines))
        problems += _duplicates("masks", (m.id for m in self.masks))
        problems += _duplicates("rules", (r.rule_id for r in self.rules))
        zone_ids = [z.id for z in self.zones]
        line_ids = [ln.id for ln in self.lines]
        for index, rule in enumerate(self.rules):
            where = f"rules[{index}]"
            if isinstance(rule, LineCrossingRule):
                if rule.line not in line_ids:
                    problems.append(
                        f"{where}.line: rule '{rule.rule_id}': line '{rule.line}' is not defined"
                        f" (lines: {_names(line_ids)})"
                    )
            elif (zone := getattr(rule, "zone", None)) is not None and zone not in zone_ids:
                problems.append(
                    f"{where}.zone: rule '{rule.rule_id}': zone '{zone}' is not defined"
                    f" (zones: {_names(zone_ids)})"
                )
        return problems

    def zone(self, zone_id: str) -> ZoneConfig:
        return next(z for z in self.zones if z.id == zone_id)

    def line(self, line_id: str) -> LineConfig:
        return next(ln for ln in self.lines if ln.id == line_id)
