"""Ingest and correlation stories over HTTP, on SQLite and PostgreSQL: idempotency, repeats, clears,
re-opening, folding under an offline gateway, and every kind of bad input answered precisely."""

from __future__ import annotations

import json

import pytest

from kernel.contracts.messages import AlertType, Phase, Severity, SourceKind
from tests.central.hubkit import JPEG, event


def _case(api, case_id):
    return api.client.get(f"/api/v1/cases/{case_id}", headers=api.as_("op")).json()


def _count(api, path):
    return len(api.client.get(path, headers=api.as_("op"), params={"limit": 1000}).json())


def test_replayed_event_never_makes_a_second_alert_or_case(api, world):
    ev = event("cam-1")
    first = api.post_event(ev).json()
    again = [api.post_event(ev).json() for _ in range(3)]
    assert first["outcome"] == "created"
    assert {a["outcome"] for a in again} == {"duplicate"}
    assert {a["case_id"] for a in again} == {first["case_id"]}
    assert _count(api, "/api/v1/alerts") == 1
    assert _count(api, "/api/v1/cases") == 1


def test_repeats_attach_as_occurrences_with_latest_evidence(api, world):
    first = api.post_event(event("cam-1")).json()
    second = api.post_event(event("cam-1", snapshot=JPEG)).json()
    third = api.post_event(event("cam-1", severity=Severity.CRITICAL)).json()
    assert (second["outcome"], third["outcome"]) == ("repeated", "repeated")
    case = _case(api, first["case_id"])
    assert case["occurrences"] == 3
    assert case["latest_evidence_id"] is not None
    assert case["severity"] == "critical"
    assert _count(api, "/api/v1/cases") == 1
    image = api.client.get(f"/api/v1/evidence/{case['latest_evidence_id']}", headers=api.as_("op"))
    assert image.status_code == 200 and image.content == JPEG


def test_a_repeat_never_lowers_severity_and_an_update_is_no_new_occurrence(api, world):
    first = event("cam-1", severity=Severity.CRITICAL)
    created = api.post_event(first).json()
    lower = api.post_event(event("cam-1", severity=Severity.LOW)).json()
    update = api.post_event(event("cam-1", phase=Phase.UPDATE, episode_id=first.event_id)).json()
    assert (lower["outcome"], update["outcome"]) == ("repeated", "updated")
    case = _case(api, created["case_id"])
    assert (case["severity"], case["occurrences"]) == ("critical", 2)


def test_a_new_start_after_a_clear_makes_the_case_active_again(api, world):
    start = event("smoke-1", AlertType.SMOKE_ALARM)
    case_id = api.post_event(start).json()["case_id"]
    api.post_event(event("smoke-1", AlertType.SMOKE_ALARM, phase=Phase.END, episode_id=start.event_id))
    assert _case(api, case_id)["cleared"] is True
    again = api.post_event(event("smoke-1", AlertType.SMOKE_ALARM)).json()
    assert (again["outcome"], again["case_id"]) == ("repeated", case_id)
    case = _case(api, case_id)
    assert (case["cleared"], case["occurrences"]) == (False, 2)


def test_an_alert_marks_its_gateway_and_device_as_heard_from(api, world):
    def camera_seen():
        cameras = api.client.get("/api/v1/cameras", headers=api.as_("op")).json()
        return next(c["last_seen_at"] for c in cameras if c["camera_id"] == "cam-1")

    assert camera_seen() is None
    api.post_event(event("cam-1"))
    assert camera_seen() is not None
    assert api.client.get("/api/v1/gateways/gw-1", headers=api.as_("op")).json()["last_seen_at"] is not None


def test_other_alert_type_on_same_device_is_its_own_case(api, world):
    a = api.post_event(event("cam-1", AlertType.INTRUSION)).json()
    b = api.post_event(event("cam-1", AlertType.LOITERING)).json()
    assert a["case_id"] != b["case_id"]


def test_sensor_end_clears_alert_but_leaves_case_open(api, world):
    start = event("smoke-1", AlertType.SMOKE_ALARM)
    created = api.post_event(start).json()
    end = event("smoke-1", AlertType.SMOKE_ALARM, phase=Phase.END, episode_id=start.event_id)
    answer = api.post_event(end).json()
    assert answer["outcome"] == "cleared"
    case = _case(api, created["case_id"])
    assert case["cleared"] is True
    assert case["state"] == "dispatched"
    alerts = api.client.get(
        "/api/v1/alerts", headers=api.as_("op"), params={"case_id": created["case_id"]}
    ).json()
    assert all(a["cleared"] for a in alerts) and len(alerts) == 2


def _close(api, case_id):
    for user, action in (("op", "accept"), ("op", "handle"), ("op", "close")):
        r = api.client.post(f"/api/v1/cases/{case_id}/{action}", headers=api.as_(user))
        assert r.status_code == 200, r.text


def test_recurrence_within_window_reopens_the_case(api, world, clock):
    case_id = api.post_event(event("cam-1")).json()["case_id"]
    _close(api, case_id)
    clock.advance(600)  # inside the default 3600 s window
    again = api.post_event(event("cam-1")).json()
    assert again == {**again, "outcome": "reopened", "case_id": case_id}
    case = _case(api, case_id)
    assert (case["state"], case["reopen_count"], case["recurrence"]) == ("dispatched", 1, True)
    history = api.client.get(f"/api/v1/cases/{case_id}/events", headers=api.as_("op")).json()
    assert "reopen" in [h["action"] for h in history]


def test_recurrence_after_window_opens_a_new_case(api, world, clock):
    case_id = api.post_event(event("cam-1")).json()["case_id"]
    _close(api, case_id)
    clock.advance(3601)
    again = api.post_event(event("cam-1")).json()
    assert again["outcome"] == "created" and again["case_id"] != case_id


def test_offline_children_fold_into_the_gateway_case(api, world):
    gw = api.post_event(event("gw-1", AlertType.GATEWAY_OFFLINE, kind=SourceKind.GATEWAY)).json()
    cam = api.post_event(event("cam-1", AlertType.CAMERA_OFFLINE, kind=SourceKind.CAMERA)).json()
    sensor = api.post_event(event("smoke-1", AlertType.SENSOR_OFFLINE, kind=SourceKind.SENSOR)).json()
    assert (cam["outcome"], sensor["outcome"]) == ("folded", "folded")
    assert cam["case_id"] == sensor["case_id"] == gw["case_id"]
    assert _case(api, gw["case_id"])["occurrences"] == 3
    assert _count(api, "/api/v1/cases") == 1


def test_camera_offline_without_gateway_case_opens_its_own(api, world):
    cam = api.post_event(event("cam-1", AlertType.CAMERA_OFFLINE)).json()
    assert cam["outcome"] == "created"


def test_priority_comes_from_the_table(api, world):
    red = api.post_event(event("smoke-1", AlertType.SMOKE_ALARM, severity=Severity.LOW)).json()
    blue = api.post_event(event("cam-1", AlertType.PRESENCE, severity=Severity.LOW)).json()
    assert _case(api, red["case_id"])["priority"] == "red"
    blue_case = _case(api, blue["case_id"])
    assert blue_case["priority"] == "blue"
    assert blue_case["state"] == "reported"  # blue/green wait for an operator to register or reject


# -- bad input ---------------------------------------------------------------------------------------------


def _raw(api, body, user="admin"):
    return api.client.post(
        "/api/v1/events", content=body, headers={**api.as_(user), "content-type": "application/json"}
    )


BAD = [
    (
        "unknown gateway",
        lambda: event("cam-1", gateway_id="gw-nope"),
        422,
        "gateway 'gw-nope' is not registered",
    ),
    ("unknown device", lambda: event("cam-9"), 422, "camera 'cam-9' is not registered on gateway 'gw-1'"),
    (
        "gateway source not self",
        lambda: event("gw-2", AlertType.GATEWAY_OFFLINE, kind=SourceKind.GATEWAY),
        403,
        "must be the sending gateway 'gw-1'",
    ),
    ("not an image", lambda: event("cam-1", snapshot=b"GIF89a not a jpeg"), 415, "are not JPEG, PNG or WebP"),
    (
        "oversized snapshot",
        lambda: event("cam-1", snapshot=JPEG + b"\x00" * 1_000_001),
        413,
        "exceeds the 1000000 byte limit",
    ),
]


@pytest.mark.parametrize(("make", "status", "detail"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_events_are_refused_and_nothing_is_written(api, world, make, status, detail):
    answer = api.post_event(make())
    assert answer.status_code == status, answer.text
    assert detail in answer.json()["detail"]
    assert _count(api, "/api/v1/alerts") == 0
    assert _count(api, "/api/v1/cases") == 0
    metrics = api.client.get("/metrics", headers=api.as_("op")).text
    assert 'gridwatch_hub_events_rejected_total{reason="' in metrics


def test_event_for_another_gateways_device_is_refused(api, world):
    inst = api.as_("inst")
    assert api.client.post("/api/v1/gateways", json={"gateway_id": "gw-2"}, headers=inst).status_code == 201
    assert (
        api.client.post(
            "/api/v1/cameras",
            headers=inst,
            json={"camera_id": "cam-2", "gateway_id": "gw-2", "stream_url": "rtsp://x/y"},
        ).status_code
        == 201
    )
    answer = api.post_event(event("cam-2", gateway_id="gw-1"))
    assert answer.status_code == 403
    assert answer.json()["detail"] == "camera 'cam-2' belongs to gateway 'gw-2', not to 'gw-1'"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "(payload)"),
        (json.dumps({"schema": "alert/1"}).encode(), "event_id"),
        (b"[]", ""),
    ],
)
def test_schema_invalid_events_get_422_naming_the_field(api, world, body, field):
    answer = _raw(api, body)
    assert answer.status_code == 422
    assert _count(api, "/api/v1/alerts") == 0


def test_unknown_gateway_auto_registered_in_demo_mode(make_api, clock):
    api = make_api(ingest={"auto_register": True})
    answer = api.post_event(event("cam-77", gateway_id="gw-demo"))
    assert answer.status_code == 202, answer.text
    gateways = api.client.get("/api/v1/gateways", headers=api.as_("admin")).json()
    assert [(g["gateway_id"], g["auto_registered"]) for g in gateways] == [("gw-demo", True)]
    cameras = api.client.get("/api/v1/cameras", headers=api.as_("admin")).json()
    assert [c["camera_id"] for c in cameras] == ["cam-77"]
