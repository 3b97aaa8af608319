"""The live feed: SSE with filters and exact resume via Last-Event-ID, the JSON page, and who sees what."""

from __future__ import annotations

import json

import pytest

from kernel.contracts.messages import AlertType, Severity
from tests.central.hubkit import event


@pytest.fixture
def database() -> str:
    return "sqlite"


def _sse(api, user, params=None, headers=None):
    """Read a bounded SSE stream to its end; return (id, event, data) triples."""
    items, current = [], {}
    with api.client.stream(
        "GET", "/api/v1/stream", params=params, headers={**api.as_(user), **(headers or {})}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if not line:
                if "data" in current:
                    items.append((int(current["id"]), current["event"], json.loads(current["data"])))
                current = {}
                continue
            key, _, value = line.partition(":")
            current[key] = value.strip()
    return items


def test_stream_resumes_after_last_event_id_without_gaps(api, world):
    api.post_event(event("smoke-1", AlertType.SMOKE_ALARM))  # created + dispatched
    api.post_event(event("cam-1", AlertType.INTRUSION))  # created + dispatched
    first = _sse(api, "op", {"after_id": 0, "max_events": 2})
    assert [kind for _, kind, _ in first] == ["case.created", "case.dispatched"]
    rest = _sse(api, "op", {"max_events": 2}, headers={"Last-Event-ID": str(first[-1][0])})
    assert [i for i, _, _ in rest] == [first[-1][0] + 1, first[-1][0] + 2]
    assert rest[0][2]["alert_type"] == "intrusion"


def test_stream_filters_by_priority_grid_and_type(api, world):
    api.post_event(event("smoke-1", AlertType.SMOKE_ALARM))  # red
    api.post_event(event("cam-1", AlertType.PRESENCE, severity=Severity.LOW))  # blue, stays reported
    red = _sse(api, "op", {"after_id": 0, "max_events": 2, "priority": "red"})
    assert {d["priority"] for _, _, d in red} == {"red"}
    blue = _sse(api, "op", {"after_id": 0, "max_events": 1, "type": "presence", "grid": "g1"})
    assert blue[0][2]["alert_type"] == "presence" and blue[0][1] == "case.created"


def test_worker_feed_shows_only_their_cases(api, world):
    api.post_event(event("smoke-1", AlertType.SMOKE_ALARM))  # -> w1
    api.post_event(event("cam-1", AlertType.INTRUSION))  # -> w2
    page = api.client.get("/api/v1/feed", headers=api.as_("w2"), params={"after_id": 0}).json()
    assert {item["data"]["alert_type"] for item in page} == {"intrusion"}
    assert api.client.get("/api/v1/feed", headers=api.as_("inst")).status_code == 403


def test_every_case_change_reaches_the_feed(api, world):
    case_id = api.post_event(event("smoke-1", AlertType.SMOKE_ALARM)).json()["case_id"]
    for user, action in (("w1", "accept"), ("w1", "handle"), ("op", "close")):
        api.client.post(f"/api/v1/cases/{case_id}/{action}", headers=api.as_(user))
    kinds = [i["kind"] for i in api.client.get("/api/v1/feed", headers=api.as_("op")).json()]
    assert kinds == ["case.created", "case.dispatched", "case.accepted", "case.handled", "case.closed"]


def test_a_new_urgent_case_is_announced_as_reported_then_as_dispatched(api, world):
    """The batch path's two items for a case it opens and dispatches at once: the case as reported (nobody
    assigned yet), then as dispatched, both the full public case."""
    answer = api.post_event(event("smoke-1", AlertType.SMOKE_ALARM)).json()
    created, dispatched = api.client.get("/api/v1/feed", headers=api.as_("op"), params={"after_id": 0}).json()
    assert (created["kind"], dispatched["kind"]) == ("case.created", "case.dispatched")
    case = api.client.get(f"/api/v1/cases/{answer['case_id']}", headers=api.as_("op")).json()
    assert dispatched["data"] == case
    assert created["data"] == {
        **case,
        "state": "reported",
        "assignee_id": None,
        "escalation_level": 0,
        "dispatched_at": None,
        "accept_due_at": None,
        "allowed_actions": ["register", "reject"],
        "event_id": answer["event_id"],
    }
