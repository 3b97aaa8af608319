"""The worker loop's edges: feedback photos (sniffed, safe names), send back, reject with reason, reassign."""

from __future__ import annotations

import pytest

from kernel.contracts.messages import AlertType
from tests.central.hubkit import JPEG, PNG, event


@pytest.fixture
def database() -> str:
    return "sqlite"


@pytest.fixture
def case_id(api, world):
    case_id = api.post_event(event("smoke-1", AlertType.SMOKE_ALARM)).json()["case_id"]
    api.client.post(f"/api/v1/cases/{case_id}/accept", headers=api.as_("w1"))
    return case_id


@pytest.mark.parametrize(
    ("name", "data", "status", "detail"),
    [
        ("photo.jpg", JPEG, 201, None),
        ("photo.png", PNG, 201, None),
        ("report.pdf", b"%PDF-1.7 not an image", 415, "file is not an image"),
        ("photo.jpg", b"<script>alert(1)</script>", 415, "file is not an image"),
        ("../../etc/passwd.jpg", JPEG, 400, "file name '../../etc/passwd.jpg' is not allowed"),
        ("..\\evil.jpg", JPEG, 400, "is not allowed"),
        ("a\x00.jpg", JPEG, 400, "is not allowed"),
    ],
    ids=["jpeg", "png", "pdf", "html-as-jpg", "dotdot", "backslash", "nul"],
)
def test_feedback_photo_is_sniffed_and_named_safely(api, case_id, name, data, status, detail):
    answer = api.client.post(
        f"/api/v1/cases/{case_id}/feedback",
        headers=api.as_("w1"),
        data={"note": "seen"},
        files={"photo": (name, data, "image/jpeg")},
    )
    assert answer.status_code == status, answer.text
    if detail:
        assert detail in answer.json()["detail"]
        history = api.client.get(f"/api/v1/cases/{case_id}/events", headers=api.as_("op")).json()
        assert "feedback" not in [h["action"] for h in history]  # nothing half-written
    else:
        evidence_id = answer.json()["evidence_id"]
        stored = api.client.get(f"/api/v1/evidence/{evidence_id}", headers=api.as_("w1"))
        assert stored.content == data
        files = list((api.hub.settings.evidence_path).rglob("*.*"))
        assert all(f.name.split(".")[0] == f.name.split(".")[0].lower() and len(f.stem) == 64 for f in files)


def test_feedback_needs_note_or_photo(api, case_id):
    answer = api.client.post(f"/api/v1/cases/{case_id}/feedback", headers=api.as_("w1"), data={})
    assert answer.status_code == 422
    assert answer.json()["detail"] == "feedback needs a 'note' or a 'photo'"


def test_send_back_returns_the_task_and_restarts_the_timer(api, case_id):
    api.client.post(f"/api/v1/cases/{case_id}/handle", headers=api.as_("w1"))
    back = api.client.post(
        f"/api/v1/cases/{case_id}/send_back", headers=api.as_("op"), json={"note": "still smoke"}
    ).json()
    assert back["state"] == "dispatched" and back["accept_due_at"] is not None
    assert [t["case_id"] for t in api.client.get("/api/v1/tasks", headers=api.as_("w1")).json()] == [case_id]


def test_reject_needs_a_reason(api, world):
    case_id = api.post_event(event("cam-1", AlertType.PRESENCE, severity="low")).json()["case_id"]
    no_reason = api.client.post(f"/api/v1/cases/{case_id}/reject", headers=api.as_("op"))
    assert no_reason.status_code == 422
    assert no_reason.json()["detail"] == "rejecting a case needs a reason: give 'note'"
    ok = api.client.post(
        f"/api/v1/cases/{case_id}/reject", headers=api.as_("op"), json={"note": "false alarm"}
    )
    assert ok.json()["state"] == "rejected"


def test_reassign_moves_the_task(api, world, case_id):
    moved = api.client.post(
        f"/api/v1/cases/{case_id}/reassign", headers=api.as_("op"), json={"username": "w2"}
    )
    assert moved.json()["assignee_id"] == world["users"]["w2"]
    assert api.client.get(f"/api/v1/cases/{case_id}", headers=api.as_("w1")).status_code == 404
    bad = api.client.post(
        f"/api/v1/cases/{case_id}/reassign", headers=api.as_("op"), json={"username": "inst"}
    )
    assert bad.json()["detail"] == "assignee 'inst' is not a grid worker or grid leader"
