"""Snapshots and alerts: size, JPEG quality, privacy blur, drawn boxes, and AlertEvent round trips."""

from __future__ import annotations

from datetime import UTC, datetime

import cv2
import numpy as np
import pytest

from edge.errors import EdgeError
from edge.evidence import alert_title, build_alert, build_snapshot
from edge.rules import EventObject, RuleEvent
from edge.types import Frame
from kernel.camera_config import CameraConfig, EvidenceConfig
from kernel.contracts.messages import AlertEvent, AlertType, Phase, Severity, decode, encode, new_event_id

FRAME_TS = datetime(2026, 11, 28, 3, 4, 5, 123000, tzinfo=UTC).timestamp()
PERSON = EventObject(0, "person", 0.87, (100.0, 50.0, 300.0, 400.0), 7)


def noise_image(w: int, h: int) -> np.ndarray:
    """Textured image: blurring it changes it a lot, JPEG round trips keep it roughly."""
    rng = np.random.default_rng(3)
    small = rng.integers(0, 256, (h // 8, w // 8, 3), dtype=np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)


def decode_jpeg(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def camera(**evidence: object) -> CameraConfig:
    return CameraConfig.model_validate({"camera_id": "gate-cam", "name": "Gate", "source": {"url": "x.mp4"},
                                        "zones": [{"id": "yard", "polygon": [[0, 0.5], [1, 0.5], [1, 1]]}],
                                        "evidence": evidence})


def rule_event(phase: Phase = Phase.START, episode_id: str | None = None) -> RuleEvent:
    event_id = new_event_id()
    return RuleEvent(phase=phase, event_id=event_id, episode_id=episode_id or event_id, rule_id="in-yard",
                     alert_type=AlertType.INTRUSION, severity=Severity.HIGH, camera_id="gate-cam",
                     frame_ts=FRAME_TS, zone_id="yard", objects=(PERSON,), count=1, dwell_s=1.23456)


@pytest.mark.parametrize(("size", "max_width", "expected"), [
    ((1280, 720), 640, (640, 360)),
    ((640, 480), 960, (640, 480)),   # never scaled up
    ((768, 576), 768, (768, 576)),
])
def test_snapshot_is_scaled_down_to_max_width(size: tuple, max_width: int, expected: tuple) -> None:
    snapshot = build_snapshot(noise_image(*size), (PERSON,), EvidenceConfig(max_width_px=max_width))
    image = decode_jpeg(snapshot.jpeg_bytes())
    assert (image.shape[1], image.shape[0]) == expected == (snapshot.width_px, snapshot.height_px)


def test_jpeg_quality_changes_the_size() -> None:
    image = noise_image(640, 480)
    low = build_snapshot(image, (), EvidenceConfig(jpeg_quality=20)).jpeg_bytes()
    high = build_snapshot(image, (), EvidenceConfig(jpeg_quality=95)).jpeg_bytes()
    assert len(low) < len(high)


def test_privacy_region_is_really_blurred_and_the_rest_is_not() -> None:
    image = noise_image(640, 480)
    config = EvidenceConfig(draw_boxes=False, jpeg_quality=95,
                            privacy_regions=(((0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (0.0, 0.5)),))
    out = decode_jpeg(build_snapshot(image, (PERSON,), config).jpeg_bytes()).astype(np.int16)
    diff = np.abs(out - image.astype(np.int16)).mean(axis=2)
    assert diff[10:230, 10:310].mean() > 30  # inside the region: the texture is gone
    assert diff[250:, 330:].mean() < 15     # elsewhere: only JPEG noise (chroma subsampling)
    assert out[10:230, 10:310].std() < image[10:230, 10:310].std() / 3


def test_boxes_are_drawn_when_asked() -> None:
    image = np.full((480, 640, 3), 128, np.uint8)
    drawn = decode_jpeg(build_snapshot(image, (PERSON,), EvidenceConfig()).jpeg_bytes())
    plain = decode_jpeg(build_snapshot(image, (PERSON,), EvidenceConfig(draw_boxes=False)).jpeg_bytes())
    b, g, r = (int(v) for v in drawn[200, 100])  # on the box's left edge
    assert r > 200 and b < 80 and g < 80
    assert np.abs(plain.astype(int) - 128).max() < 10


def test_bad_image_is_a_clear_error() -> None:
    with pytest.raises(EdgeError, match=r"expected a BGR image of shape \(H, W, 3\), got \(4, 4\)"):
        build_snapshot(np.zeros((4, 4), np.uint8), (), EvidenceConfig())


def test_build_alert_round_trips_through_the_contract() -> None:
    frame = Frame("gate-cam", 12, FRAME_TS, 100.0, noise_image(1280, 720))
    cam = camera(max_width_px=640)
    sent_at = datetime(2026, 11, 28, 3, 4, 5, 400000, tzinfo=UTC)
    alert = build_alert(rule_event(), frame, cam, "gw-1", clock=lambda: sent_at)
    again = decode(AlertEvent, encode(alert), topic="test")
    assert again == alert
    assert alert.phase is Phase.START and alert.event_id == alert.episode_id
    assert alert.gateway_id == "gw-1" and alert.source_id == "gate-cam" and alert.source_kind == "camera"
    assert alert.alert_type is AlertType.INTRUSION and alert.severity is Severity.HIGH
    assert alert.observed_ts == datetime(2026, 11, 28, 3, 4, 5, 123000, tzinfo=UTC)
    # The emission time comes from the injected clock, not the wall clock (the test ran only after 2026-11-28).
    assert alert.detail.frame_ts == alert.observed_ts and alert.emitted_ts == sent_at
    assert alert.detail.rule_id == "in-yard" and alert.detail.zone_id == "yard"
    assert alert.detail.object_count == 1 and alert.detail.dwell_s == 1.235
    (det,) = alert.detail.detections
    assert (det.class_name, det.track_id, det.xyxy, det.score) == ("person", 7, PERSON.xyxy, 0.87)
    assert alert.snapshot is not None and (alert.snapshot.width_px, alert.snapshot.height_px) == (640, 360)
    assert decode_jpeg(again.snapshot.jpeg_bytes()).shape == (360, 640, 3)
    assert alert.title == "Intrusion: 1 x person in yard at Gate"


def test_update_and_end_keep_the_episode_and_may_skip_the_snapshot() -> None:
    start = rule_event()
    end = rule_event(Phase.END, episode_id=start.episode_id)
    alert = build_alert(end, None, camera(), "gw-1")
    assert alert.phase is Phase.END and alert.episode_id == start.event_id != alert.event_id
    assert alert.snapshot is None
    frame = Frame("gate-cam", 1, FRAME_TS, 1.0, noise_image(320, 240))
    assert build_alert(end, frame, camera(), "gw-1", with_snapshot=False).snapshot is None


@pytest.mark.parametrize(("objects", "zone", "title"), [
    ((), None, "Intrusion at Gate"),
    ((PERSON, PERSON), "yard", "Intrusion: 2 x person in yard at Gate"),
])
def test_titles(objects: tuple, zone: str | None, title: str) -> None:
    event = RuleEvent(Phase.START, "e", "e", "r", AlertType.INTRUSION, Severity.LOW, "gate-cam", FRAME_TS,
                      zone_id=zone, objects=objects, count=len(objects) or None)
    assert alert_title(event, camera()) == title


@pytest.mark.parametrize("region", [
    ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)),      # the whole frame
    ((0.99, 0.99), (1.0, 0.99), (1.0, 1.0)),               # a sliver in the corner
    ((0.4, 0.4), (0.6, 0.4), (0.5, 0.6)),                  # a triangle mid-frame
])
def test_privacy_regions_of_any_size_only_change_their_area(region: tuple) -> None:
    from edge.evidence import blur_regions

    image = noise_image(320, 240)
    out = blur_regions(image, (region,))
    assert out.shape == image.shape and out.dtype == np.uint8
    assert image[0, 0].tolist() == noise_image(320, 240)[0, 0].tolist()  # input untouched
    mask = np.zeros((240, 320), np.uint8)
    cv2.fillPoly(mask, [np.round(np.asarray(region) * [319, 239]).astype(np.int32)], 255)
    assert (out[mask == 0] == image[mask == 0]).all()
