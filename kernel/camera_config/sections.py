"""Per-concern camera config sections: source, motion, detect, track, health, evidence and location."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kernel.camera_config.geometry import NormPolygon


class Section(BaseModel):
    """Base of every camera config model: frozen, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class LocationConfig(Section):
    lat: float | None = Field(default=None, ge=-90, le=90, description="latitude in decimal degrees (WGS84)")
    lon: float | None = Field(
        default=None, ge=-180, le=180, description="longitude in decimal degrees (WGS84)"
    )
    address: str | None = Field(
        default=None, max_length=200, description="street address or landmark, for people"
    )


class SourceConfig(Section):
    url: str = Field(
        min_length=1,
        description="rtsp://..., http(s)://..., a video file path, or device:N for a local camera",
    )
    realtime: bool = Field(
        default=True, description="play files at their native frame rate, like a live camera"
    )
    loop: bool = Field(default=False, description="restart a file source at its end")
    fps_limit: float | None = Field(
        default=None, gt=0, le=120, description="decode at most this many frames/s"
    )
    reconnect_min_s: float = Field(
        default=1.0, gt=0, le=600, description="first reconnect delay after a failure"
    )
    reconnect_max_s: float = Field(default=30.0, gt=0, le=3600, description="reconnect delay cap (backoff)")
    open_timeout_s: float = Field(
        default=10.0, gt=0, le=120,
        description="a stream that gives no first answer (and no open) within this is retried later",
    )
    stall_timeout_s: float = Field(
        default=10.0, gt=0, le=600,
        description="a live stream with no frame for this long is reported offline, reason 'stalled';"
        " after three times this without data the connection is dropped and reopened",
    )
    max_frame_age_s: float = Field(
        default=1.0, gt=0, le=600,
        description="after a stall, frames the camera had buffered and older than this are dropped unprocessed",
    )

    @model_validator(mode="after")
    def _backoff_range(self) -> SourceConfig:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError(
                f"reconnect_max_s ({self.reconnect_max_s}) must be >= reconnect_min_s"
                f" ({self.reconnect_min_s})"
            )
        return self


class MotionConfig(Section):
    enabled: bool = Field(default=True, description="gate inference on motion; off: detect every frame")
    downscale_width_px: int = Field(default=320, ge=32, le=1920, description="width of the grey motion frame")
    threshold: int = Field(
        default=25, ge=1, le=255, description="per-pixel grey difference that counts as change"
    )
    min_area_frac: float = Field(
        default=0.002, ge=0, le=1,
        description="changed area, as a fraction of the frame, that counts as motion"
    )
    masks: tuple[NormPolygon, ...] = Field(default=(), description="normalised polygons motion ignores")
    recheck_interval_s: float = Field(
        default=10.0, gt=0, le=3600,
        description="detect a still scene at least this often (parked cars, smoke)"
    )


class DetectConfig(Section):
    model: str | None = Field(
        default=None, description="ONNX model path overriding the gateway's default model"
    )
    detect_fps: float = Field(
        default=5.0, gt=0, le=60, description="at most this many frames/s go to the detector"
    )
    conf_threshold: float = Field(
        default=0.25, ge=0, le=1, description="detections below this score are dropped"
    )
    classes: tuple[str, ...] = Field(default=(), description="class names to keep; empty keeps every class")
    budget_ms: float = Field(default=250.0, gt=0, le=60_000,
        description="a frame older than this when its detect turn comes is skipped, never queued",
    )


class TrackConfig(Section):
    activation_threshold: float = Field(
        default=0.25, ge=0, le=1, description="score needed to start a new track"
    )
    matching_threshold: float = Field(default=0.8, gt=0, le=1, description="ByteTrack IoU matching threshold")
    lost_buffer_s: float = Field(
        default=2.0, gt=0, le=120, description="a track unseen for longer than this ends"
    )
    stationary_window_s: float = Field(
        default=3.0, gt=0, le=600,
        description="window over which anchor movement is measured for the stationary flag"
    )
    stationary_max_move_frac: float = Field(default=0.1, gt=0, le=2,
        description="max anchor movement in the window, as a fraction of the box diagonal",
    )


class HealthConfig(Section):
    offline_debounce_s: float = Field(
        default=30.0, ge=0, le=86_400,
        description="raise camera_offline after the source is offline this long"
    )


class EvidenceConfig(Section):
    jpeg_quality: int = Field(default=80, ge=10, le=100, description="snapshot JPEG quality")
    max_width_px: int = Field(
        default=960, ge=64, le=8192, description="snapshots wider than this are scaled down"
    )
    draw_boxes: bool = Field(default=True, description="draw the event's boxes and labels on the snapshot")
    privacy_regions: tuple[NormPolygon, ...] = Field(
        default=(),
        description="normalised polygons blurred on every snapshot (windows, neighbouring gardens)"
    )
