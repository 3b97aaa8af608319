"""Grid leaders see the cases of their own area (and the areas beneath it) through Open311 and the feed, as
the role table says; before, both showed them every grid's cases."""

from __future__ import annotations

import pytest

from tests.central.hubkit import event


@pytest.fixture
def database() -> str:
    return "sqlite"


@pytest.fixture
def two_grids(api, world) -> dict[str, int]:
    """One case in grid g1 (cam-1) and one in grid g2 (cam-2 on gateway gw-2)."""
    inst = api.as_("inst")
    assert api.client.post(
        "/api/v1/gateways", json={"gateway_id": "gw-2", "area_code": "g2"}, headers=inst
    ).status_code == 201
    camera = {"camera_id": "cam-2", "gateway_id": "gw-2", "area_code": "g2", "stream_url": "rtsp://10.0.0.6/s"}
    assert api.client.post("/api/v1/cameras", json=camera, headers=inst).status_code == 201
    cases = {
        "g1": api.post_event(event("cam-1")).json()["case_id"],
        "g2": api.post_event(event("cam-2", gateway_id="gw-2")).json()["case_id"],
    }
    assert all(cases.values())
    return cases


def _open311_ids(api, user: str) -> set[int]:
    answer = api.client.get("/open311/v2/requests.json", headers=api.as_(user))
    assert answer.status_code == 200, answer.text
    return {int(r["service_request_id"]) for r in answer.json()}


def _feed_areas(api, user: str, **params: str) -> set[str]:
    codes = {a["id"]: a["code"] for a in api.client.get("/api/v1/areas", headers=api.as_("admin")).json()}
    answer = api.client.get("/api/v1/feed", headers=api.as_(user), params=params)
    assert answer.status_code == 200, answer.text
    return {codes[item["data"]["area_id"]] for item in answer.json() if item["kind"].startswith("case.")}


@pytest.mark.parametrize(
    "user, sees",
    [("lead", {"g1"}), ("clead", {"g1", "g2"}), ("slead", {"g1", "g2"}), ("op", {"g1", "g2"})],
    ids=["grid-leader", "community-leader", "street-leader", "operator"],
)
def test_open311_shows_a_leader_only_their_area(api, two_grids, user, sees):
    assert _open311_ids(api, user) == {two_grids[grid] for grid in sees}
    for grid, case_id in two_grids.items():
        one = api.client.get(f"/open311/v2/requests/{case_id}.json", headers=api.as_(user))
        assert one.status_code == (200 if grid in sees else 404), one.text


def test_open311_filters_before_the_limit(api, world, two_grids):
    """status filters the query itself, so limit counts matching requests (it cut first before)."""
    op = api.as_("op")
    case = api.client.get(f"/api/v1/cases/{two_grids['g1']}", headers=op).json()
    if case["state"] == "reported":
        rejected = api.client.post(
            f"/api/v1/cases/{two_grids['g1']}/reject", headers=op, json={"note": "false alarm"}
        )
        assert rejected.status_code == 200, rejected.text
    else:  # auto-dispatched: its worker works it, an operator closes it
        worker = next(name for name, uid in world["users"].items() if uid == case["assignee_id"])
        for action, user in (("accept", worker), ("handle", worker), ("close", "op")):
            worked = api.client.post(f"/api/v1/cases/{two_grids['g1']}/{action}", headers=api.as_(user), json={})
            assert worked.status_code == 200, worked.text
    closed = api.client.get("/open311/v2/requests.json", headers=op, params={"status": "closed", "limit": 1})
    assert [int(r["service_request_id"]) for r in closed.json()] == [two_grids["g1"]]
    opened = api.client.get("/open311/v2/requests.json", headers=op, params={"status": "open", "limit": 1})
    assert [int(r["service_request_id"]) for r in opened.json()] == [two_grids["g2"]]


@pytest.mark.parametrize(
    "user, sees",
    [("lead", {"g1"}), ("clead", {"g1", "g2"}), ("op", {"g1", "g2"})],
    ids=["grid-leader", "community-leader", "operator"],
)
def test_the_feed_shows_a_leader_only_their_area(api, two_grids, user, sees):
    assert _feed_areas(api, user) == sees


def test_a_leader_cannot_widen_the_feed_with_a_grid_filter(api, two_grids):
    assert _feed_areas(api, "lead", grid="g2") == set()
    assert _feed_areas(api, "lead", grid="g1") == {"g1"}
