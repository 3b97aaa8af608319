"""Camera configuration: YAML files in configs/cameras/ validated into frozen pydantic models."""

from edge.config.camera import CameraConfig
from edge.config.geometry import Anchor, LineConfig, LineDirection, MaskConfig, ZoneConfig
from edge.config.loader import load_camera_dir, load_camera_file, parse_camera
from edge.config.rules import (
    ClassFilter,
    CrowdingRule,
    IllegalParkingRule,
    IntrusionRule,
    LineCrossingRule,
    LoiteringRule,
    MotionRule,
    PresenceRule,
    RuleConfig,
    ScheduleConfig,
)
from edge.config.sections import (
    DetectConfig,
    EvidenceConfig,
    HealthConfig,
    LocationConfig,
    MotionConfig,
    SourceConfig,
    TrackConfig,
)

__all__ = [
    "Anchor",
    "CameraConfig",
    "ClassFilter",
    "CrowdingRule",
    "DetectConfig",
    "EvidenceConfig",
    "HealthConfig",
    "IllegalParkingRule",
    "IntrusionRule",
    "LineConfig",
    "LineCrossingRule",
    "LineDirection",
    "LocationConfig",
    "LoiteringRule",
    "MaskConfig",
    "MotionConfig",
    "MotionRule",
    "PresenceRule",
    "RuleConfig",
    "ScheduleConfig",
    "SourceConfig",
    "TrackConfig",
    "ZoneConfig",
    "load_camera_dir",
    "load_camera_file",
    "parse_camera",
]
