"""Camera configuration: YAML files in configs/cameras/ validated into frozen pydantic models."""

from kernel.camera_config.camera import CameraConfig
from kernel.camera_config.geometry import Anchor, LineConfig, LineDirection, MaskConfig, ZoneConfig
from kernel.camera_config.loader import load_camera_dir, load_camera_file, parse_camera
from kernel.camera_config.rules import (
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
from kernel.camera_config.sections import (
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
