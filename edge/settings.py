"""The edge gateway's own configuration: identity, broker, model, cameras folder, sensors and local ports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kernel.contracts.messages import Identifier
from kernel.errors import ConfigError
from kernel.settings import MqttSettings


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InferenceSettings(_Section):
    """How the one shared detector runs."""

    workers: int | None = Field(
        None, ge=1, le=16,
        description="inference threads running the detector side by side; None = as many as CPU cores, "
                    "but one for a single camera (its frames are detected in order, one at a time)")
    threads: int | None = Field(
        None, ge=1, le=64,
        description="ONNX Runtime intra-op threads per run; None = CPU cores divided among the workers")
    providers: tuple[str, ...] = Field((), description="execution providers to prefer; empty = best")
    max_batch: int = Field(4, ge=1, le=64,
                           description="frames of different cameras run in one network call")
    every_frame: bool = Field(
        False, description="never replace a pending frame: readers wait for the detector (benchmarks only)"
    )


def inference_plan(settings: InferenceSettings, cameras: int, cores: int) -> tuple[int, int]:
    """(workers, threads per run) for ``cameras`` on ``cores``: measured on 2 cores with yolo11n-320, two
    single-threaded runs side by side give about 1.6x the frames per second of one run on two threads."""
    workers = settings.workers or max(1, min(cores, cameras))
    threads = settings.threads or max(1, cores // workers)
    return workers, threads


class GatewaySettings(_Section):
    """Everything ``gridwatch edge run`` needs; YAML file, environment and flags all end up here."""

    gateway_id: Identifier = Field(description="this gateway's id; also its MQTT user name in production")
    cameras_dir: Path = Field(Path("configs/cameras"), description="folder of <camera_id>.yaml files")
    model: Path | None = Field(
        None, description="ONNX detector; absent: the preferred model found, else motion-only")
    broker: MqttSettings = Field(MqttSettings(), description="MQTT broker to publish to")
    data_dir: Path = Field(Path("var/edge"), description="outbox and other local state live here")
    sensors_registry: Path | None = Field(None, description="YAML registry of sensors this gateway reads")
    follow_hub: bool = Field(
        False,
        description="run the cameras and sensors of the hub's retained GatewayConfig (gridwatch/<gw>/config), "
        "applying each new revision without a restart; local files run until the first one arrives",
    )
    metrics_port: int | None = Field(9108, ge=0, le=65535, description="Prometheus /metrics port; 0 = off")
    metrics_host: str = Field("127.0.0.1", description="address /metrics listens on")
    stats_interval_s: float = Field(10.0, gt=0, le=3600,
                                    description="how often per-camera stats are published")
    inference: InferenceSettings = Field(InferenceSettings(), description="the shared detector")
    software_version: str | None = Field(None, description="reported in the gateway status")


def load_gateway_file(path: Path, **overrides: Any) -> GatewaySettings:
    """Settings from a YAML file, then ``overrides`` (None values keep the file's); errors name the file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read gateway config: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of gateway settings, got {type(data).__name__}")
    return build_settings(data, source=str(path), **overrides)


def build_settings(data: dict[str, Any], *, source: str = "gateway settings",
                   **overrides: Any) -> GatewaySettings:
    """Validate ``data`` plus non-None ``overrides``; a ConfigError names the source and the field."""
    merged = {**data, **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return GatewaySettings.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"{source}: {field}: {first['msg']}") from exc
