"""Alert evidence: JPEG snapshots (boxes drawn, privacy regions blurred, resized) and AlertEvent building."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import cv2
import numpy as np
import numpy.typing as npt

from edge.errors import EdgeError
from edge.rules.events import EventObject, RuleEvent
from edge.types import Frame
from kernel.camera_config import CameraConfig, EvidenceConfig
from kernel.contracts.messages import (
    AlertEvent,
    CameraEventDetail,
    Detection,
    Snapshot,
    SourceKind,
    utc_now,
)

Image = npt.NDArray[np.uint8]

BOX_BGR = (0, 0, 255)
TEXT_BGR = (255, 255, 255)


def blur_regions(image_bgr: Image, regions: tuple[tuple[tuple[float, float], ...], ...]) -> Image:
    """A copy with every normalised polygon blurred beyond recognition (faces, windows, number plates)."""
    out = image_bgr.copy()
    if not regions:
        return out
    h, w = image_bgr.shape[:2]
    polygons = [np.round(np.asarray(p, np.float32) * [w - 1, h - 1]).astype(np.int32) for p in regions]
    x, y, rw, rh = cv2.boundingRect(np.concatenate(polygons))
    mask = np.zeros((rh, rw), np.uint8)
    cv2.fillPoly(mask, [p - [x, y] for p in polygons], 255)
    # Only the regions' bounding box is processed. Shrinking it 16x before blurring removes detail at any
    # frame size (a fixed kernel would leave a face recognisable on a 4K frame) and costs far less than a
    # huge kernel at full resolution.
    roi = out[y:y + rh, x:x + rw]
    small = cv2.resize(roi, (max(1, rw // 16), max(1, rh // 16)), interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(cv2.resize(small, (rw, rh), interpolation=cv2.INTER_LINEAR), (15, 15), 0)
    roi[mask > 0] = blurred[mask > 0]
    return out


def _label(obj: EventObject) -> str:
    track = f" #{obj.track_id}" if obj.track_id is not None else ""
    return f"{obj.class_name} {obj.score:.2f}{track}"


def draw_objects(image_bgr: Image, objects: tuple[EventObject, ...], scale: float) -> None:
    """Draw boxes and labels in place; ``scale`` maps frame pixels to this image's pixels."""
    thickness = max(1, round(image_bgr.shape[1] / 400))
    font_scale = max(0.4, image_bgr.shape[1] / 1600)
    for obj in objects:
        x1, y1, x2, y2 = (round(v * scale) for v in obj.xyxy)
        cv2.rectangle(image_bgr, (x1, y1), (x2, y2), BOX_BGR, thickness)
        label = _label(obj)
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)
        top = max(0, y1 - th - base - 2)
        cv2.rectangle(image_bgr, (x1, top), (x1 + tw + 2, top + th + base + 2), BOX_BGR, -1)
        origin = (x1 + 1, top + th + 1)
        cv2.putText(image_bgr, label, origin, cv2.FONT_HERSHEY_SIMPLEX, font_scale, TEXT_BGR, 1, cv2.LINE_AA)


def build_snapshot(image_bgr: Image, objects: tuple[EventObject, ...], config: EvidenceConfig) -> Snapshot:
    """Blur privacy regions, scale down to ``max_width_px``, draw the boxes, encode as JPEG."""
    if image_bgr.ndim != 3 or image_bgr.shape[2] != 3 or image_bgr.size == 0:
        raise EdgeError(f"snapshot: expected a BGR image of shape (H, W, 3), got {image_bgr.shape}")
    image = blur_regions(image_bgr, config.privacy_regions)
    h, w = image.shape[:2]
    scale = min(1.0, config.max_width_px / w)
    if scale < 1.0:
        size = (config.max_width_px, max(1, round(h * scale)))
        image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)
    if config.draw_boxes:
        draw_objects(image, objects, scale)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, config.jpeg_quality])
    if not ok:
        raise EdgeError(f"snapshot: OpenCV could not encode a {image.shape[1]}x{image.shape[0]} JPEG")
    return Snapshot.from_jpeg(encoded.tobytes(), width_px=image.shape[1], height_px=image.shape[0])


def alert_title(event: RuleEvent, camera: CameraConfig) -> str:
    """A short human title: what, how many, where."""
    what = event.alert_type.value.replace("_", " ").capitalize()
    classes = sorted({o.class_name for o in event.objects})
    subject = f": {event.count or len(event.objects)} x {', '.join(classes)}" if classes else ""
    where = event.zone_id or event.line_id
    place = f" in {where}" if where else ""
    return f"{what}{subject}{place} at {camera.name or camera.camera_id}"[:200]


def _epoch_to_utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def build_alert(event: RuleEvent, frame: Frame | None, camera: CameraConfig, gateway_id: str,
                *, with_snapshot: bool = True, clock: Callable[[], datetime] = utc_now) -> AlertEvent:
    """The contract AlertEvent for a rule event, with a snapshot of ``frame`` when one is given; ``clock`` gives
    the emission time (UTC)."""
    detail = CameraEventDetail(
        rule_id=event.rule_id,
        zone_id=event.zone_id or event.line_id,
        frame_ts=_epoch_to_utc(event.frame_ts),
        detections=tuple(
            Detection(class_id=o.class_id, class_name=o.class_name, score=min(1.0, max(0.0, o.score)),
                      xyxy=o.xyxy, track_id=o.track_id)
            for o in event.objects
        ),
        object_count=event.count,
        dwell_s=round(event.dwell_s, 3) if event.dwell_s is not None else None,
        direction=event.direction,
    )
    snapshot = None
    if with_snapshot and frame is not None:
        snapshot = build_snapshot(frame.image_bgr, event.objects, camera.evidence)
    return AlertEvent(  # type: ignore[call-arg]  # ``schema`` has a default; mypy sees only the alias
        event_id=event.event_id,
        episode_id=event.episode_id,
        phase=event.phase,
        gateway_id=gateway_id,
        source_kind=SourceKind.CAMERA,
        source_id=camera.camera_id,
        alert_type=event.alert_type,
        severity=event.severity,
        observed_ts=_epoch_to_utc(event.frame_ts),
        emitted_ts=clock(),
        title=alert_title(event, camera),
        detail=detail,
        snapshot=snapshot,
    )
