"""Prometheus metrics of the edge worker: per-camera frame counters, rates, latencies, and /metrics."""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server
from prometheus_client.exposition import generate_latest

from gridwatch.contracts.messages import Availability, CameraStats

log = logging.getLogger(__name__)

_OUTCOMES = {
    "captured": "frames_captured",
    "skipped_motion": "frames_skipped_motion",
    "skipped_budget": "frames_skipped_budget",
    "bad": "frames_bad",
}


class EdgeMetrics:
    """One registry per worker (never the global one, so tests and several workers do not collide)."""

    def __init__(self, gateway_id: str) -> None:
        self.gateway_id = gateway_id
        self.registry = CollectorRegistry()
        labels = ["camera"]
        self.frames = Counter("gridwatch_edge_frames", "Frames per camera by outcome",
                              [*labels, "outcome"], registry=self.registry)
        self.detections_run = Counter("gridwatch_edge_detect_runs", "Frames that went through the detector",
                                      labels, registry=self.registry)
        self.capture_fps = Gauge("gridwatch_edge_capture_fps", "Frames decoded per second (last window)",
                                 labels, registry=self.registry)
        self.detect_fps = Gauge("gridwatch_edge_detect_fps", "Frames detected per second (last window)",
                                labels, registry=self.registry)
        self.stage_ms = Gauge("gridwatch_edge_stage_latency_ms", "Per-stage latency percentile (last window)",
                              [*labels, "stage", "quantile"], registry=self.registry)
        self.frame_age_ms = Gauge("gridwatch_edge_frame_age_ms",
                                  "Frame age when its detections existed, percentile (last window)",
                                  [*labels, "quantile"], registry=self.registry)
        self.camera_online = Gauge("gridwatch_edge_camera_online", "1 while the camera delivers frames",
                                   labels, registry=self.registry)
        self.outbox_pending = Gauge("gridwatch_edge_outbox_pending", "Alerts waiting in the outbox",
                                    registry=self.registry)
        self._server: Any = None

    def observe(self, stats: CameraStats) -> None:
        """Fold one stats window of a camera into the metrics."""
        camera = stats.camera_id
        for outcome, field in _OUTCOMES.items():
            self.frames.labels(camera, outcome).inc(getattr(stats, field))
        self.detections_run.labels(camera).inc(round(stats.detect_fps * stats.window_s))
        self.capture_fps.labels(camera).set(stats.capture_fps)
        self.detect_fps.labels(camera).set(stats.detect_fps)
        for stage, pct in stats.stage_latency_ms.items():
            self.stage_ms.labels(camera, stage, "0.5").set(pct.p50)
            self.stage_ms.labels(camera, stage, "0.95").set(pct.p95)
        if stats.frame_age_ms is not None:
            self.frame_age_ms.labels(camera, "0.5").set(stats.frame_age_ms.p50)
            self.frame_age_ms.labels(camera, "0.95").set(stats.frame_age_ms.p95)

    def camera_state(self, camera_id: str, state: Availability) -> None:
        self.camera_online.labels(camera_id).set(1 if state is Availability.ONLINE else 0)

    def text(self) -> str:
        """The exposition text, as /metrics serves it."""
        return generate_latest(self.registry).decode("utf-8")

    def serve(self, host: str, port: int) -> None:
        """Serve /metrics on ``host:port`` from a daemon thread."""
        result = start_http_server(port, addr=host, registry=self.registry)
        self._server = result[0] if isinstance(result, tuple) else None
        log.info("edge metrics on http://%s:%d/metrics", host, port)

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
