"""Dispatch and escalation with a hand-driven clock: who gets a new case, and how an unaccepted task climbs
worker -> grid leader -> community -> street, each step recorded and on the feed."""

from __future__ import annotations

from kernel.contracts.messages import AlertType
from tests.central.hubkit import event

SMOKE_ACCEPT_S = 120  # default SLA for smoke alarms


def _case(api, case_id):
    return api.client.get(f"/api/v1/cases/{case_id}", headers=api.as_("op")).json()


def test_new_cases_go_to_worker_on_shift_with_fewest_tasks_then_round_robin(api, world):
    users = world["users"]

    def new_case(alert_type):
        return _case(api, api.post_event(event("cam-1", alert_type)).json()["case_id"])["assignee_id"]

    # Equal load: round robin (whoever was assigned longest ago).
    got = [new_case(t) for t in (AlertType.INTRUSION, AlertType.LOITERING, AlertType.CROWDING)]
    assert got == [users["w1"], users["w2"], users["w1"]]
    # w1 finishes both tasks: now fewest open tasks beats round robin.
    for task in api.client.get("/api/v1/tasks", headers=api.as_("w1")).json():
        for action in ("accept", "handle"):
            api.client.post(f"/api/v1/cases/{task['case_id']}/{action}", headers=api.as_("w1"))
        api.client.post(f"/api/v1/cases/{task['case_id']}/close", headers=api.as_("op"))
    assert new_case(AlertType.FIRE_SMOKE) == users["w1"]
    # Worker w3 of grid g2 never gets a g1 case.
    assert users["w3"] not in got


def test_nobody_on_shift_goes_to_grid_leader(api, world, clock):
    clock.advance(10 * 3600)  # both shifts over
    case = _case(api, api.post_event(event("smoke-1", AlertType.SMOKE_ALARM)).json()["case_id"])
    assert (case["assignee_id"], case["escalation_level"]) == (world["users"]["lead"], 1)


def test_unaccepted_task_escalates_step_by_step_and_stops_at_street(api, world, clock):
    users = world["users"]
    hub = api.hub
    case_id = api.post_event(event("smoke-1", AlertType.SMOKE_ALARM)).json()["case_id"]
    assert _case(api, case_id)["assignee_id"] == users["w1"]
    clock.advance(SMOKE_ACCEPT_S - 1)
    assert hub.sweep_once() == 0
    steps = []
    for _ in range(4):
        clock.advance(SMOKE_ACCEPT_S + 1)
        hub.sweep_once()
        case = _case(api, case_id)
        steps.append((case["escalation_level"], case["assignee_id"]))
    assert steps == [(1, users["lead"]), (2, users["clead"]), (3, users["slead"]), (3, users["slead"])]
    history = api.client.get(f"/api/v1/cases/{case_id}/events", headers=api.as_("op")).json()
    notes = [h["note"] for h in history if h["action"] == "escalate"]
    assert notes == [
        "not accepted in time: escalated to grid leader (lead)",
        "not accepted in time: escalated to community (clead)",
        "not accepted in time: escalated to street (slead)",
    ]
    feed = api.client.get("/api/v1/feed", headers=api.as_("op"), params={"limit": 1000}).json()
    assert [f["kind"] for f in feed].count("case.escalated") == 3


def test_accepted_task_does_not_escalate(api, world, clock):
    case_id = api.post_event(event("smoke-1", AlertType.SMOKE_ALARM)).json()["case_id"]
    assert api.client.post(f"/api/v1/cases/{case_id}/accept", headers=api.as_("w1")).status_code == 200
    clock.advance(10 * SMOKE_ACCEPT_S)
    assert api.hub.sweep_once() == 0


def test_escalation_timer_lives_in_the_database(api, world, clock, make_api):
    case_id = api.post_event(event("smoke-1", AlertType.SMOKE_ALARM)).json()["case_id"]
    clock.advance(SMOKE_ACCEPT_S + 1)
    replica = make_api()  # a second hub (replica or restart) on the same database
    assert replica.hub.sweep_once() == 1
    assert api.hub.sweep_once() == 0  # the first hub finds the timer already claimed
    assert _case(api, case_id)["escalation_level"] == 1


def test_kpis_per_grid_and_worker(api, world, clock):
    case_id = api.post_event(event("smoke-1", AlertType.SMOKE_ALARM)).json()["case_id"]
    clock.advance(60)
    api.client.post(f"/api/v1/cases/{case_id}/accept", headers=api.as_("w1"))
    api.client.post(f"/api/v1/cases/{case_id}/handle", headers=api.as_("w1"))
    api.client.post(f"/api/v1/cases/{case_id}/close", headers=api.as_("op"), json={"score": 4})
    late = api.post_event(event("cam-1", AlertType.INTRUSION)).json()["case_id"]
    clock.advance(3600)
    report = api.client.get("/api/v1/kpis", headers=api.as_("op")).json()
    g1 = next(k for k in report["by_grid"] if k["key"] == "g1")
    assert (g1["open"], g1["overdue"], g1["closed"], g1["on_time_rate"]) == (1, 1, 1, 1.0)
    w1 = next(k for k in report["by_worker"] if k["key"] == "w1")
    assert w1["mean_accept_s"] == 60.0 and w1["mean_close_s"] == 60.0
    assert late
    assert api.client.get("/api/v1/kpis", headers=api.as_("w1")).status_code == 403
