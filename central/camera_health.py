"""Edge camera health at the hub: keep the latest ``CameraStats`` per camera (off the alert path) and read it back.

The MQTT network thread only decodes a stats message and parks it in a dict keyed by camera, so a burst of
stats never queues behind (or in front of) alert batches; a writer thread upserts what is parked every
``flush_interval_s`` in one short transaction. Stats are figures of the moment: a newer message for the same
camera replaces an older one still waiting, and the table holds one row per camera, never history.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from central.clock import Clock
from central.db.engine import Database
from central.db.models import Alert, Camera, CameraStatsRow, Evidence, Gateway
from central.errors import NotFound
from central.schemas import CameraHealth, GatewayHealth, HealthReport
from kernel.contracts import topics
from kernel.contracts.messages import CameraStats, decode
from kernel.errors import ContractError
from kernel.mqtt import Message

log = logging.getLogger(__name__)

STALE_WINDOWS = 3  # stats older than this many of their own windows mean the camera's pipeline went quiet


@dataclass(frozen=True, slots=True)
class _Parked:
    stats: CameraStats
    received_at: datetime


class CameraStatsStore:
    """``receive`` is the MQTT handler (network thread); ``start`` runs the writer thread that upserts."""

    def __init__(
        self, db: Database, clock: Clock, metrics_registry: CollectorRegistry, flush_interval_s: float = 1.0
    ) -> None:
        self.db = db
        self.clock = clock
        self.flush_interval_s = flush_interval_s
        self.received = Counter(
            "gridwatch_hub_camera_stats",
            "edge camera stats messages, by outcome (stored, invalid_schema, topic_mismatch, unknown_camera)",
            ["outcome"],
            registry=metrics_registry,
        )
        self._parked: dict[str, _Parked] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hub-camera-stats", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.flush()

    def receive(self, message: Message) -> None:
        """Decode and park one stats message; a bad one is counted and logged, never raised."""
        try:
            parsed = topics.parse(message.topic)
            stats = decode(CameraStats, message.payload, topic=message.topic)
        except ContractError as exc:
            self.received.labels("invalid_schema").inc()
            log.warning("camera stats on %s rejected: %s", message.topic, exc)
            return
        if (stats.gateway_id, stats.camera_id) != (parsed.gateway_id, parsed.subject):
            self.received.labels("topic_mismatch").inc()
            log.warning(
                "camera stats on %s rejected: payload names gateway %r camera %r",
                message.topic,
                stats.gateway_id,
                stats.camera_id,
            )
            return
        with self._lock:
            self._parked[stats.camera_id] = _Parked(stats, self.clock.now())

    def flush(self) -> int:
        """Upsert what is parked; returns the rows written. On failure the figures are parked again."""
        with self._lock:
            parked, self._parked = self._parked, {}
        if not parked:
            return 0
        try:
            return self._write(parked)
        except Exception:
            with self._lock:  # keep them for the next try unless newer figures arrived meanwhile
                self._parked = {**parked, **self._parked}
            raise

    def _run(self) -> None:
        while not self._stop.wait(self.flush_interval_s):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the writer must survive a database outage
                log.exception("writing camera stats failed; retrying in %.1f s", self.flush_interval_s)

    def _write(self, parked: dict[str, _Parked]) -> int:
        with self.db.session() as session:
            owners = {
                camera_id: gateway_id
                for camera_id, gateway_id in session.execute(
                    select(Camera.camera_id, Camera.gateway_id).where(Camera.camera_id.in_(list(parked)))
                )
            }
            rows = []
            for camera_id, item in parked.items():
                if owners.get(camera_id) != item.stats.gateway_id:
                    self.received.labels("unknown_camera").inc()
                    log.debug("stats of camera %s (gateway %s) ignored: not registered there",
                              camera_id, item.stats.gateway_id)
                    continue
                rows.append(_row(item))
            if rows:
                session.execute(_upsert(self.db, rows))
        self.received.labels("stored").inc(len(rows))
        return len(rows)


def _row(item: _Parked) -> dict[str, object]:
    s = item.stats
    return {
        "camera_id": s.camera_id,
        "gateway_id": s.gateway_id,
        "stats_at": s.ts,
        "received_at": item.received_at,
        "window_s": s.window_s,
        "capture_fps": s.capture_fps,
        "detect_fps": s.detect_fps,
        "frames_captured": s.frames_captured,
        "frames_skipped_motion": s.frames_skipped_motion,
        "frames_skipped_budget": s.frames_skipped_budget,
        "frames_bad": s.frames_bad,
        "inference_p50_ms": s.inference_ms.p50 if s.inference_ms else None,
        "inference_p95_ms": s.inference_ms.p95 if s.inference_ms else None,
        "frame_age_p50_ms": s.frame_age_ms.p50 if s.frame_age_ms else None,
        "frame_age_p95_ms": s.frame_age_ms.p95 if s.frame_age_ms else None,
    }


def _upsert(db: Database, rows: list[dict[str, object]]):  # type: ignore[no-untyped-def]
    """One statement for all rows; an older message (late QoS 0 delivery) never overwrites a newer one.
    ON CONFLICT keeps it safe with several hub replicas writing the same camera."""
    insert = (sqlite if db.is_sqlite else postgresql).insert(CameraStatsRow)
    table = CameraStatsRow.__table__
    updated = {c.name: insert.excluded[c.name] for c in table.columns if c.name != "camera_id"}
    return insert.values(rows).on_conflict_do_update(
        index_elements=[table.c.camera_id],
        set_=updated,
        where=table.c.stats_at <= insert.excluded.stats_at,
    )


def health_report(db: Database, now: datetime) -> HealthReport:
    """Every live gateway and camera with its availability, and each camera's latest edge figures."""
    with db.session() as session:
        gateways = session.scalars(
            select(Gateway).where(Gateway.retired.is_(False)).order_by(Gateway.gateway_id)
        ).all()
        cameras = session.execute(
            select(Camera, CameraStatsRow)
            .outerjoin(CameraStatsRow, CameraStatsRow.camera_id == Camera.camera_id)
            .where(Camera.retired.is_(False))
            .order_by(Camera.gateway_id, Camera.camera_id)
        ).all()
        return HealthReport(
            at=now,
            gateways=[
                GatewayHealth(gateway_id=g.gateway_id, name=g.name, state=g.state, last_seen_at=g.last_seen_at)
                for g in gateways
            ],
            cameras=[_camera_health(camera, stats, now) for camera, stats in cameras],
        )


def _camera_health(camera: Camera, s: CameraStatsRow | None, now: datetime) -> CameraHealth:
    base: dict[str, Any] = {
        "gateway_id": camera.gateway_id,
        "camera_id": camera.camera_id,
        "name": camera.name,
        "state": camera.state,
        "last_seen_at": camera.last_seen_at,
    }
    if s is None:
        return CameraHealth(**base)
    return CameraHealth(
        **base,
        stats_at=s.stats_at,
        stats_stale=(now - s.received_at).total_seconds() > STALE_WINDOWS * s.window_s,
        window_s=s.window_s,
        capture_fps=s.capture_fps,
        detect_fps=s.detect_fps,
        frames_captured=s.frames_captured,
        frames_skipped_motion=s.frames_skipped_motion,
        frames_skipped_budget=s.frames_skipped_budget,
        frames_bad=s.frames_bad,
        inference_ms_p50=s.inference_p50_ms,
        inference_ms_p95=s.inference_p95_ms,
        frame_age_ms_p50=s.frame_age_p50_ms,
        frame_age_ms_p95=s.frame_age_p95_ms,
    )


def latest_snapshot(db: Database, camera_id: str) -> tuple[str, str]:
    """(relpath, content type) of the newest snapshot a camera sent with an alert; what the zone editor
    draws on. Raises NotFound naming the camera when it is unknown or has sent no snapshot yet."""
    with db.session() as session:
        if session.scalars(select(Camera.camera_id).where(Camera.camera_id == camera_id)).first() is None:
            raise NotFound(f"camera {camera_id!r} is not registered")
        row = session.execute(
            select(Evidence.relpath, Evidence.content_type)
            .join(Alert, Alert.evidence_id == Evidence.id)
            .where(Alert.source_kind == "camera", Alert.source_id == camera_id)
            .order_by(Alert.id.desc())
            .limit(1)
        ).first()
    if row is None:
        raise NotFound(f"camera {camera_id!r} has sent no snapshot yet")
    return row.relpath, row.content_type
