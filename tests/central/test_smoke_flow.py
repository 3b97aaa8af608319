"""One alert through the whole loop: ingest -> case dispatched -> accept -> feedback -> handle -> close."""

from __future__ import annotations

from tests.central.hubkit import JPEG, event


def test_smoke_alarm_closed_loop(api, world, clock):
    answer = api.post_event(
        event(
            "smoke-1",
            __import__("kernel.contracts.messages", fromlist=["AlertType"]).AlertType.SMOKE_ALARM,
        )
    )
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["outcome"] == "created"
    case = api.client.get(f"/api/v1/cases/{body['case_id']}", headers=api.as_("op")).json()
    assert case["state"] == "dispatched"
    assert case["priority"] == "red"
    assert case["assignee_id"] == world["users"]["w1"]
    w1 = api.as_("w1")
    tasks = api.client.get("/api/v1/tasks", headers=w1).json()
    assert [t["case_id"] for t in tasks] == [body["case_id"]]
    assert (
        api.client.post(f"/api/v1/cases/{body['case_id']}/accept", headers=w1).json()["state"] == "accepted"
    )
    r = api.client.post(
        f"/api/v1/cases/{body['case_id']}/feedback",
        headers=w1,
        data={"note": "on site"},
        files={"photo": ("site.jpg", JPEG, "image/jpeg")},
    )
    assert r.status_code == 201, r.text
    assert api.client.post(f"/api/v1/cases/{body['case_id']}/handle", headers=w1).json()["state"] == "handled"
    closed = api.client.post(
        f"/api/v1/cases/{body['case_id']}/close", headers=api.as_("op"), json={"score": 5}
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["state"] == "closed"
    assert closed.json()["on_time"] is True
    history = api.client.get(f"/api/v1/cases/{body['case_id']}/events", headers=api.as_("op")).json()
    assert [h["action"] for h in history] == [
        "report",
        "register",
        "dispatch",
        "accept",
        "feedback",
        "handle",
        "close",
    ]
