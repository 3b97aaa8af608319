"""The case state machine: every (state, action) pair, allowed or forbidden, as a table and over the API."""

from __future__ import annotations

import pytest

from central.cases import check_transition
from central.errors import Conflict
from central.states import TRANSITIONS, CaseAction, CaseState, allowed_actions
from kernel.contracts.messages import AlertType
from tests.central.hubkit import event, populate

ALLOWED = {
    (CaseState.REPORTED, CaseAction.REGISTER): CaseState.REGISTERED,
    (CaseState.REPORTED, CaseAction.REJECT): CaseState.REJECTED,
    (CaseState.REGISTERED, CaseAction.DISPATCH): CaseState.DISPATCHED,
    (CaseState.DISPATCHED, CaseAction.ACCEPT): CaseState.ACCEPTED,
    (CaseState.ACCEPTED, CaseAction.HANDLE): CaseState.HANDLED,
    (CaseState.HANDLED, CaseAction.CLOSE): CaseState.CLOSED,
    (CaseState.HANDLED, CaseAction.SEND_BACK): CaseState.DISPATCHED,
}
PAIRS = [(s, a) for s in CaseState for a in CaseAction]


@pytest.mark.parametrize(("state", "action"), PAIRS, ids=[f"{s.value}-{a.value}" for s, a in PAIRS])
def test_transition_table(state: CaseState, action: CaseAction) -> None:
    if (state, action) in ALLOWED:
        assert check_transition(7, state, action) is ALLOWED[(state, action)]
        assert action in allowed_actions(state)
    else:
        with pytest.raises(Conflict) as info:
            check_transition(7, state, action)
        message = str(info.value)
        assert f"case 7 is '{state.value}'" in message
        assert f"'{action.value}' is allowed only from" in message
        assert action not in allowed_actions(state)


def test_table_matches_transitions_constant() -> None:
    derived = {(s, a): t for a, (sources, t) in TRANSITIONS.items() for s in sources}
    assert derived == ALLOWED


def test_terminal_states_allow_nothing() -> None:
    assert allowed_actions(CaseState.CLOSED) == []
    assert allowed_actions(CaseState.REJECTED) == []


# -- through the API: build a case in each reachable state, try every action ---------------------------------

def _paths(one_step: bool) -> dict[CaseState, list[tuple[str, str]]]:
    """Paths from a freshly reported case (auto-dispatch off) to each state. With dispatch_on_register (one
    step) registering dispatches at once, so REGISTERED is reachable only with two steps."""
    dispatched = [("op", "register")] if one_step else [("op", "register"), ("op", "dispatch")]
    paths = {
        CaseState.REPORTED: [],
        CaseState.REJECTED: [("op", "reject")],
        CaseState.DISPATCHED: dispatched,
        CaseState.ACCEPTED: [*dispatched, ("op", "accept")],
        CaseState.HANDLED: [*dispatched, ("op", "accept"), ("op", "handle")],
        CaseState.CLOSED: [*dispatched, ("op", "accept"), ("op", "handle"), ("op", "close")],
    }
    if not one_step:
        paths[CaseState.REGISTERED] = [("op", "register")]
    return paths


def _case_in(api, paths, state: CaseState, alert_type: AlertType) -> int:
    answer = api.post_event(event("cam-1", alert_type))
    assert answer.status_code == 202, answer.text
    case_id = answer.json()["case_id"]
    for user, action in paths[state]:
        r = api.client.post(f"/api/v1/cases/{case_id}/{action}", headers=api.as_(user), json={"note": "why"})
        assert r.status_code == 200, r.text
    assert api.client.get(f"/api/v1/cases/{case_id}", headers=api.as_("op")).json()["state"] == state.value
    return case_id


@pytest.mark.parametrize("database", ["sqlite"])
@pytest.mark.parametrize("one_step", [True, False], ids=["register-dispatches", "register-then-dispatch"])
def test_every_action_from_every_state_over_the_api(make_api, clock, database, one_step: bool) -> None:
    api = make_api(cases={"auto_dispatch": [], "dispatch_on_register": one_step})
    populate(api, clock)
    paths = _paths(one_step)
    types = iter(t for t in AlertType if "offline" not in t.value)
    for state in paths:
        probe = _case_in(api, paths, state, next(types))
        for action in CaseAction:
            user = "op"
            if (state, action) in ALLOWED:
                case_id = _case_in(api, paths, state, next(types))
                r = api.client.post(
                    f"/api/v1/cases/{case_id}/{action.value}", headers=api.as_(user), json={"note": "because"}
                )
                assert r.status_code == 200, (state, action, r.text)
                expected = ALLOWED[(state, action)]
                if action is CaseAction.REGISTER and one_step:
                    expected = CaseState.DISPATCHED  # registering routes the case at once
                assert r.json()["state"] == expected.value
                if r.json()["state"] == CaseState.DISPATCHED.value:  # routed: someone has it, its timer runs
                    assert r.json()["assignee_id"] is not None and r.json()["accept_due_at"] is not None
            else:
                r = api.client.post(
                    f"/api/v1/cases/{probe}/{action.value}", headers=api.as_(user), json={"note": "because"}
                )
                assert r.status_code == 409, (state, action, r.text)
                assert f"is '{state.value}'" in r.json()["detail"]
                assert "allowed now:" in r.json()["detail"]


@pytest.mark.parametrize("database", ["sqlite"])
def test_an_explicit_dispatch_is_audited_with_the_operators_note(make_api, clock, database) -> None:
    api = make_api(cases={"auto_dispatch": [], "dispatch_on_register": False})
    populate(api, clock)
    case_id = api.post_event(event("cam-1", AlertType.LOITERING)).json()["case_id"]
    op = api.as_("op")
    registered = api.client.post(f"/api/v1/cases/{case_id}/register", headers=op, json={})
    assert registered.json()["state"] == "registered" and registered.json()["assignee_id"] is None
    dispatched = api.client.post(f"/api/v1/cases/{case_id}/dispatch", headers=op, json={"note": "north gate"})
    assert dispatched.status_code == 200 and dispatched.json()["state"] == "dispatched"
    history = api.client.get(f"/api/v1/cases/{case_id}/events", headers=op).json()
    assert [h["action"] for h in history] == ["report", "register", "dispatch"]
    assert history[-1]["actor"] == "op" and history[-1]["note"].endswith(": north gate")
    assert history[-1]["note"].startswith("assigned to w")
