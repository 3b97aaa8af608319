"""The case state machine: every (state, action) pair, allowed or forbidden, as a table and over the API."""

from __future__ import annotations

import pytest

from central.cases import check_transition
from central.errors import Conflict
from central.states import TRANSITIONS, CaseAction, CaseState, allowed_actions
from gridwatch.contracts.messages import AlertType
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

# Paths from a freshly reported case (auto-dispatch off) to each state; REGISTERED is transient over the API
# because registering dispatches at once (covered by the table above).
PATHS = {
    CaseState.REPORTED: [],
    CaseState.REJECTED: [("op", "reject")],
    CaseState.DISPATCHED: [("op", "register")],
    CaseState.ACCEPTED: [("op", "register"), ("op", "accept")],
    CaseState.HANDLED: [("op", "register"), ("op", "accept"), ("op", "handle")],
    CaseState.CLOSED: [("op", "register"), ("op", "accept"), ("op", "handle"), ("op", "close")],
}


def _case_in(api, state: CaseState, alert_type: AlertType) -> int:
    answer = api.post_event(event("cam-1", alert_type))
    assert answer.status_code == 202, answer.text
    case_id = answer.json()["case_id"]
    for user, action in PATHS[state]:
        r = api.client.post(f"/api/v1/cases/{case_id}/{action}", headers=api.as_(user), json={"note": "why"})
        assert r.status_code == 200, r.text
    assert api.client.get(f"/api/v1/cases/{case_id}", headers=api.as_("op")).json()["state"] == state.value
    return case_id


@pytest.mark.parametrize("database", ["sqlite"])
def test_every_action_from_every_state_over_the_api(make_api, clock, database) -> None:
    api = make_api(cases={"auto_dispatch": []})
    populate(api, clock)
    types = iter(t for t in AlertType if "offline" not in t.value)
    for state in PATHS:
        probe = _case_in(api, state, next(types))
        for action in CaseAction:
            user = "op"
            if (state, action) in ALLOWED:
                case_id = _case_in(api, state, next(types))
                r = api.client.post(
                    f"/api/v1/cases/{case_id}/{action.value}", headers=api.as_(user), json={"note": "because"}
                )
                assert r.status_code == 200, (state, action, r.text)
                expected = ALLOWED[(state, action)]
                if action is CaseAction.REGISTER:
                    expected = CaseState.DISPATCHED  # registering routes the case at once
                assert r.json()["state"] == expected.value
            else:
                r = api.client.post(
                    f"/api/v1/cases/{probe}/{action.value}", headers=api.as_(user), json={"note": "because"}
                )
                assert r.status_code == 409, (state, action, r.text)
                assert f"is '{state.value}'" in r.json()["detail"]
                assert "allowed now:" in r.json()["detail"]
