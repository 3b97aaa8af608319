"""Prometheus metrics of the edge worker: per-camera frame counters, rates, latencies; the MQTT link, the
alert events from emitted to sent, failed or dropped; the liveness of the worker's threads; and /metrics.

Figures other parts keep (publisher and outbox counters, thread beats, per-camera failures) are read when
/metrics is scraped (``watch``), never copied on a timer, so they cannot freeze while the parts run."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest

from edge.publisher import PublisherStats
from edge.threads import ThreadState
from kernel.contracts.messages import Availability, CameraStats

log = logging.getLogger(__name__)

_OUTCOMES = {
    "captured": "frames_captured",
    "skipped_motion": "frames_skipped_motion",
    "skipped_budget": "frames_skipped_budget",
    "bad": "frames_bad",
}


@dataclass(frozen=True, slots=True)
class CameraFigures:
    """Running totals of one camera's pipeline (they restart at 0 when the camera does)."""

    camera_id: str
    frames_failed: int
    alerts_emitted: int


@dataclass(frozen=True, slots=True)
class EdgeFigures:
    """What the worker's parts report at a scrape: ``health_alerts`` camera_offline alerts emitted, and the
    publisher's totals (every alert source, sensors included; see ``PublisherStats``), None before it starts."""

    mqtt_connected: bool
    mqtt_connect_failures: int
    cameras: Sequence[CameraFigures]
    health_alerts: int
    publisher: PublisherStats | None
    threads: Sequence[ThreadState]


def _publisher_metrics(p: PublisherStats) -> Iterator[Metric]:
    queued = CounterMetricFamily("gridwatch_edge_events_queued",
                                 "Alert events offered to the outbox, by outcome", labels=["outcome"])
    for outcome, value in (("added", p.stored), ("duplicate", p.duplicates)):
        queued.add_metric([outcome], value)
    yield queued
    dropped = CounterMetricFamily("gridwatch_edge_events_dropped",
                                  "Alert events lost for good (outbox full, evicted by the size policy, or the "
                                  "outbox could not store them)", labels=["reason"])
    for reason, value in sorted(p.dropped.items()):
        dropped.add_metric([reason], value)
    yield dropped
    errors = CounterMetricFamily("gridwatch_edge_outbox_errors",
                                 "Outbox storage failures (put, read or mark), by kind", labels=["kind"])
    for kind, value in sorted(p.outbox_errors.items()):
        errors.add_metric([kind], value)
    yield errors
    yield CounterMetricFamily("gridwatch_edge_events_sent", "Alert events acknowledged by the broker",
                              value=p.sent)
    yield CounterMetricFamily("gridwatch_edge_events_send_failures",
                              "Sends that failed (ack timed out or the client refused; each retried)",
                              value=p.failed)
    yield GaugeMetricFamily("gridwatch_edge_outbox_pending", "Alerts waiting in the outbox", value=p.pending)
    yield GaugeMetricFamily("gridwatch_edge_outbox_pending_bytes", "Payload bytes waiting in the outbox",
                            value=p.pending_bytes)
    yield GaugeMetricFamily("gridwatch_edge_outbox_unmarked",
                            "Alerts the broker acknowledged that the outbox could not record yet (retried)",
                            value=p.unmarked)


def _figure_metrics(figures: EdgeFigures) -> Iterator[Metric]:
    connected = GaugeMetricFamily("gridwatch_edge_mqtt_connected", "1 while connected to the MQTT broker")
    connected.add_metric([], 1.0 if figures.mqtt_connected else 0.0)
    yield connected
    yield CounterMetricFamily("gridwatch_edge_mqtt_connect_failures",
                              "Attempts to (re)connect to the MQTT broker that failed (unreachable or refused)",
                              value=figures.mqtt_connect_failures)
    emitted = CounterMetricFamily("gridwatch_edge_events_emitted", "Alert events the gateway raised, by source",
                                  labels=["source", "camera"])
    failed = CounterMetricFamily("gridwatch_edge_frames_failed",
                                 "Frames a pipeline stage raised on (logged; the camera went on)", labels=["camera"])
    for camera in figures.cameras:
        emitted.add_metric(["camera", camera.camera_id], camera.alerts_emitted)
        failed.add_metric([camera.camera_id], camera.frames_failed)
    emitted.add_metric(["health", ""], figures.health_alerts)
    yield emitted
    yield failed
    if figures.publisher is not None:
        yield from _publisher_metrics(figures.publisher)
    alive = GaugeMetricFamily("gridwatch_edge_thread_alive",
                              "1 while the thread runs (or ended by design, as a reader at a file's end)",
                              labels=["thread"])
    restarts = CounterMetricFamily("gridwatch_edge_thread_restarts",
                                   "Times a thread's work failed and was started again", labels=["thread"])
    beat = GaugeMetricFamily("gridwatch_edge_thread_last_beat_seconds",
                             "When the thread last finished a round of work (epoch s)", labels=["thread"])
    for state in figures.threads:
        alive.add_metric([state.name], 1.0 if state.alive else 0.0)
        restarts.add_metric([state.name], state.restarts)
        if state.last_beat_ts is not None:
            beat.add_metric([state.name], state.last_beat_ts)
    yield alive
    yield restarts
    yield beat


class _FiguresCollector:
    def __init__(self, figures: Callable[[], EdgeFigures]) -> None:
        self._figures = figures

    def collect(self) -> Iterator[Metric]:
        try:
            figures = self._figures()
        except Exception:  # noqa: BLE001 - a scrape must still show the camera metrics
            log.exception("edge metrics: reading the worker's figures failed")
            return
        yield from _figure_metrics(figures)


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
        self.mqtt_connects = Counter("gridwatch_edge_mqtt_connects",
                                     "Connections established to the MQTT broker (the first, then reconnects)",
                                     registry=self.registry)
        self._server: Any = None

    def watch(self, figures: Callable[[], EdgeFigures]) -> None:
        """Export what ``figures`` reports at every scrape (call once)."""
        self.registry.register(_FiguresCollector(figures))  # type: ignore[arg-type]

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
