"""A real hub (uvicorn in a thread, SQLite in a tmp folder) seeded over its own API, for the console tests."""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import uvicorn

from central.app import create_app
from central.settings import HubSettings
from kernel.contracts import topics
from kernel.contracts.messages import (
    AlertEvent,
    AlertType,
    CameraEventDetail,
    Detection,
    Phase,
    SensorEventDetail,
    Severity,
    Snapshot,
    SourceKind,
    encode,
    new_event_id,
    utc_now,
)
from kernel.mqtt import MqttClient
from kernel.settings import MqttSettings
from tests.waiting import wait_until

ADMIN_PASSWORD = "admin-pass-123"
PASSWORD = "console-pass-123"
GATEWAY_ID = "gw-east-1"
SMOKE_SENSOR = "smoke-7"
CAMERA_ID = "cam-gate"


def _square(x0: float, y0: float, size: float) -> dict[str, Any]:
    ring = [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass
class HubStack:
    """Broker + hub on loopback; ``url`` is the hub's base URL, ``users`` maps role -> (name, password)."""

    base_dir: Path
    mqtt: MqttSettings
    port: int
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    users: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        settings = HubSettings(
            port=self.port,
            data_dir=self.base_dir / "hub",
            mqtt=self.mqtt,
            admin_password=ADMIN_PASSWORD,
            token_ttl_s=3600,
        )
        app = create_app(settings)
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, name="hub-http", daemon=True)
        self.thread.start()
        wait_until(lambda: self.server.started or not self.thread.is_alive(), 20, what="the hub's HTTP server to start")
        if not self.server.started:
            raise RuntimeError("hub's HTTP server thread ended before it started")
        self.hub = app.state.hub
        wait_until(lambda: self.hub.mqtt_state == "connected", 10, what="the hub's MQTT consumer to connect")

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=15)

    # -- seeding over the hub's own API --------------------------------------------------------------

    def token(self, username: str, password: str) -> str:
        answer = httpx.post(
            f"{self.url}/api/v1/auth/token", data={"username": username, "password": password}
        )
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    def api(self, method: str, path: str, username: str = "admin", **kwargs: Any) -> Any:
        if username not in self.tokens:  # signing in costs an argon2 check: once per user
            password = ADMIN_PASSWORD if username == "admin" else PASSWORD
            self.tokens[username] = self.token(username, password)
        headers = {"Authorization": f"Bearer {self.tokens[username]}"}
        answer = httpx.request(method, f"{self.url}/api/v1/{path}", headers=headers, timeout=10, **kwargs)
        if answer.status_code >= 400:
            raise AssertionError(f"{method} {path} -> {answer.status_code}: {answer.text}")
        return answer.json() if answer.content else None

    def seed(self) -> None:
        """A district with two grids, one person per role, a worker on shift, a gateway, sensor and camera."""
        areas = [
            ("district", "d-east", "East District", None, None),
            ("street", "s-river", "River Street", "d-east", None),
            ("community", "c-willow", "Willow Community", "s-river", None),
            ("grid", "g-0101", "Grid 0101", "c-willow", _square(121.470, 31.230, 0.004)),
            ("grid", "g-0102", "Grid 0102", "c-willow", _square(121.474, 31.230, 0.004)),
        ]
        for level, code, name, parent, geo in areas:
            self.api(
                "POST",
                "areas",
                json={"level": level, "code": code, "name": name, "parent_code": parent, "geojson": geo},
            )
        people = [
            ("operator", "olivia", None),
            ("installer", "ivan", None),
            ("grid_worker", "wang", "g-0101"),
            ("grid_leader", "lee", "g-0101"),
        ]
        for role, username, area in people:
            user = self.api(
                "POST",
                "users",
                json={
                    "username": username,
                    "password": PASSWORD,
                    "role": role,
                    "display_name": username.title(),
                    "area_code": area,
                },
            )
            self.users[role] = username
            self.user_ids[role] = user["id"]
        now = datetime.now(UTC)
        self.api(
            "POST",
            f"users/{self.user_ids['grid_worker']}/shifts",
            json={
                "starts_at": (now - timedelta(hours=1)).isoformat(),
                "ends_at": (now + timedelta(hours=8)).isoformat(),
            },
        )
        self.api(
            "POST",
            "gateways",
            json={"gateway_id": GATEWAY_ID, "name": "East gate box", "area_code": "g-0101"},
        )
        self.api(
            "POST",
            "cameras",
            json={
                "camera_id": CAMERA_ID,
                "gateway_id": GATEWAY_ID,
                "area_code": "g-0101",
                "name": "Gate camera",
                "stream_url": "rtsp://viewer:secret@10.0.0.5/stream1",
                "location": {"lat": 31.2315, "lon": 121.4712},
                "config": {
                    "zones": [{"id": "gate", "polygon": [[0.2, 0.2], [0.8, 0.2], [0.8, 0.9], [0.2, 0.9]]}],
                    "rules": [{"kind": "intrusion", "rule_id": "gate-intrusion", "zone": "gate"}],
                },
            },
        )
        self.api(
            "POST",
            "sensors",
            json={
                "device_id": SMOKE_SENSOR,
                "gateway_id": GATEWAY_ID,
                "kind": "smoke",
                "area_code": "g-0101",
                "location": {"lat": 31.2321, "lon": 121.4721},
            },
        )


def smoke_alarm(device_id: str = SMOKE_SENSOR) -> AlertEvent:
    """The START of a smoke alarm from a registered sensor, as the edge's sensor bridge sends it."""
    event_id = new_event_id()
    now = utc_now()
    return AlertEvent(
        event_id=event_id,
        episode_id=event_id,
        phase=Phase.START,
        gateway_id=GATEWAY_ID,
        source_kind=SourceKind.SENSOR,
        source_id=device_id,
        alert_type=AlertType.SMOKE_ALARM,
        severity=Severity.CRITICAL,
        observed_ts=now,
        emitted_ts=now,
        title=f"smoke alarm at {device_id}",
        detail=SensorEventDetail(
            device_kind="smoke", alarm_id="smoke", readings={"smoke_obscuration_pct": 12.5, "battery_pct": 88}
        ),
    )


def camera_alert(camera_id: str = CAMERA_ID) -> AlertEvent:
    """An intrusion seen by a camera, with a JPEG snapshot and one person box."""
    image = np.full((360, 640, 3), 90, np.uint8)
    cv2.rectangle(image, (250, 100), (330, 300), (40, 160, 220), -1)
    ok, jpeg = cv2.imencode(".jpg", image)
    assert ok
    event_id = new_event_id()
    now = utc_now()
    return AlertEvent(
        event_id=event_id,
        episode_id=event_id,
        phase=Phase.START,
        gateway_id=GATEWAY_ID,
        source_kind=SourceKind.CAMERA,
        source_id=camera_id,
        alert_type=AlertType.INTRUSION,
        severity=Severity.HIGH,
        observed_ts=now,
        emitted_ts=now,
        title=f"person in zone at {camera_id}",
        detail=CameraEventDetail(
            rule_id="gate-intrusion",
            zone_id="gate",
            frame_ts=now,
            detections=(
                Detection(class_id=0, class_name="person", score=0.91, xyxy=(250, 100, 330, 300), track_id=4),
            ),
        ),
        snapshot=Snapshot.from_jpeg(jpeg.tobytes(), 640, 360),
    )


def publish(mqtt: MqttSettings, event: AlertEvent) -> None:
    """Publish an alert through the broker exactly as a gateway does (QoS 1 on its events topic)."""
    client = MqttClient(mqtt, client_id=f"test-gw-{event.event_id[:8]}")
    client.connect()
    try:
        assert client.publish(
            topics.events(event.gateway_id, event.source_kind.value), encode(event), qos=1, wait_s=5
        )
    finally:
        client.close()


def png_bytes() -> bytes:
    ok, data = cv2.imencode(".png", np.full((48, 64, 3), 200, np.uint8))
    assert ok
    return data.tobytes()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
