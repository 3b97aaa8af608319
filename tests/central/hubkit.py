"""Helpers for hub tests: alert events as gateways send them, a signed-in API client, a populated world."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from fastapi.testclient import TestClient

from central.clock import ManualClock
from central.settings import HubSettings
from kernel.contracts.messages import (
    AlertEvent,
    AlertType,
    CameraEventDetail,
    HealthEventDetail,
    Phase,
    SensorEventDetail,
    Severity,
    Snapshot,
    SourceKind,
    new_event_id,
    utc_now,
)
from tests.central.pg import postgres_url

ADMIN_PASSWORD = "admin-password-1"
PASSWORD = "password-1234"



def _encoded(ext: str) -> bytes:
    """A tiny real image: the evidence check decodes what it is given, so header bytes alone do not pass."""
    ok, buffer = cv2.imencode(ext, np.full((8, 8, 3), (40, 120, 200), np.uint8))
    assert ok
    return buffer.tobytes()


JPEG = _encoded(".jpg")
PNG = _encoded(".png")


def event(
    source_id: str = "cam-1",
    alert_type: AlertType = AlertType.INTRUSION,
    *,
    gateway_id: str = "gw-1",
    kind: SourceKind | None = None,
    phase: Phase = Phase.START,
    severity: Severity = Severity.HIGH,
    episode_id: str | None = None,
    snapshot: bytes | None = None,
) -> AlertEvent:
    """An alert event as a gateway would send it."""
    kind = kind or (SourceKind.CAMERA if source_id.startswith("cam") else SourceKind.SENSOR)
    if kind is SourceKind.GATEWAY:
        kind_detail: Any = HealthEventDetail(parent_gateway_id=None)
    elif alert_type in (AlertType.CAMERA_OFFLINE, AlertType.SENSOR_OFFLINE):
        kind_detail = HealthEventDetail(parent_gateway_id=gateway_id)
    elif kind is SourceKind.CAMERA:
        kind_detail = CameraEventDetail(rule_id="rule-1", zone_id="zone-1", frame_ts=utc_now())
    else:
        kind_detail = SensorEventDetail(device_kind="smoke", alarm_id="smoke", readings={"smoke_ppm": 300})
    event_id = new_event_id()
    now = utc_now()
    return AlertEvent(
        event_id=event_id,
        episode_id=event_id if phase is Phase.START else (episode_id or new_event_id()),
        phase=phase,
        gateway_id=gateway_id,
        source_kind=kind,
        source_id=source_id,
        alert_type=alert_type,
        severity=severity,
        observed_ts=now,
        emitted_ts=now,
        title=f"{alert_type.value} at {source_id}",
        detail=kind_detail,
        snapshot=Snapshot(
            width_px=4,
            height_px=4,
            sha256=hashlib.sha256(snapshot).hexdigest(),
            data_b64=__import__("base64").b64encode(snapshot).decode(),
        )
        if snapshot
        else None,
    )


def database_url(database: str) -> str | None:
    """None (SQLite in the data folder) or a fresh PostgreSQL database on the session's cluster."""
    return postgres_url() if database == "postgres" else None


def make_settings(tmp_path: Path, url: str | None, **overrides: Any) -> HubSettings:
    values: dict[str, Any] = dict(
        data_dir=tmp_path / "hub",
        database_url=url,
        mqtt_enabled=False,
        admin_password=ADMIN_PASSWORD,
        argon2_time_cost=1,
        argon2_memory_kib=64,
        jwt_secret="test-secret-" + "x" * 40,
    )
    values.update(overrides)
    return HubSettings(**values)


class Api:
    """A TestClient with sign-in helpers; ``as_(name)`` returns headers for that user."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._tokens: dict[str, str] = {}
        self.hub = client.app.state.hub  # type: ignore[attr-defined]

    def token(self, username: str, password: str = PASSWORD) -> str:
        if username not in self._tokens:
            password = ADMIN_PASSWORD if username == "admin" else password
            answer = self.client.post("/api/v1/auth/token", data={"username": username, "password": password})
            assert answer.status_code == 200, answer.text
            self._tokens[username] = answer.json()["access_token"]
        return self._tokens[username]

    def as_(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username, password)}"}

    def post_event(self, ev: AlertEvent, as_user: str = "admin") -> Any:
        return self.client.post(
            "/api/v1/events",
            content=ev.model_dump_json(by_alias=True, exclude_none=True),
            headers={**self.as_(as_user), "content-type": "application/json"},
        )


def populate(api: Api, clock: ManualClock) -> dict[str, Any]:
    """Areas d1>s1>c1>g1,g2; people with roles and shifts; gateway gw-1 with cam-1 and smoke-1."""
    admin = api.as_("admin")
    c = api.client
    for level, code, parent in (
        ("district", "d1", None),
        ("street", "s1", "d1"),
        ("community", "c1", "s1"),
        ("grid", "g1", "c1"),
        ("grid", "g2", "c1"),
    ):
        r = c.post(
            "/api/v1/areas",
            json={"level": level, "code": code, "name": code.upper(), "parent_code": parent},
            headers=admin,
        )
        assert r.status_code == 201, r.text
    users = {}
    for name, role, area in (
        ("op", "operator", None),
        ("inst", "installer", None),
        ("w1", "grid_worker", "g1"),
        ("w2", "grid_worker", "g1"),
        ("w3", "grid_worker", "g2"),
        ("lead", "grid_leader", "g1"),
        ("clead", "grid_leader", "c1"),
        ("slead", "grid_leader", "s1"),
    ):
        r = c.post(
            "/api/v1/users",
            json={"username": name, "password": PASSWORD, "role": role, "area_code": area},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        users[name] = r.json()["id"]
    now = clock.now()
    for name in ("w1", "w2"):
        r = c.post(
            f"/api/v1/users/{users[name]}/shifts",
            headers=admin,
            json={
                "starts_at": (now - timedelta(hours=1)).isoformat(),
                "ends_at": (now + timedelta(hours=8)).isoformat(),
            },
        )
        assert r.status_code == 201, r.text
    inst = api.as_("inst")
    creds = c.post("/api/v1/gateways", json={"gateway_id": "gw-1", "area_code": "g1"}, headers=inst)
    assert creds.status_code == 201, creds.text
    r = c.post(
        "/api/v1/cameras",
        headers=inst,
        json={
            "camera_id": "cam-1",
            "gateway_id": "gw-1",
            "area_code": "g1",
            "stream_url": "rtsp://u:secret@10.0.0.5/s",
            "location": {"lat": 31.2, "lon": 121.5},
        },
    )
    assert r.status_code == 201, r.text
    r = c.post(
        "/api/v1/sensors",
        headers=inst,
        json={
            "device_id": "smoke-1",
            "gateway_id": "gw-1",
            "kind": "smoke",
            "area_code": "g1",
            "linked_camera_ids": ["cam-1"],
        },
    )
    assert r.status_code == 201, r.text
    return {"users": users, "gateway_password": creds.json()["http_password"]}
