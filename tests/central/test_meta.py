"""GET /api/v1/meta: the consoles' closed lists, served from the hub's enums and tables, and true to the hub."""

from __future__ import annotations

from typing import get_args

import pytest

from central import feed
from central.api.meta_api import CONSOLES, RULE_CLASSES
from central.decide import Outcome
from central.feed import FeedKind
from central.states import TRANSITIONS, CaseState, Role
from central.web.routes import PAGES
from edge.rules.filters import COCO_CLASS_NAMES
from kernel.camera_config.camera import CameraConfig
from kernel.camera_config.rules import RULE_KINDS
from kernel.contracts.messages import AlertType, Severity
from tests.central.hubkit import event, populate

SQLITE = pytest.mark.parametrize("database", ["sqlite"])  # the lists do not depend on the database


@SQLITE
def test_meta_is_public_and_lists_the_enums_in_order(api) -> None:
    answer = api.client.get("/api/v1/meta")
    assert answer.status_code == 200, answer.text
    meta = answer.json()
    assert meta["alert_types"] == [t.value for t in AlertType]
    assert meta["severities"] == [s.value for s in Severity]
    assert meta["case_states"] == [s.value for s in CaseState]
    assert meta["priorities"] == ["red", "orange", "yellow", "blue", "green"]
    assert [k["kind"] for k in meta["rule_kinds"]] == list(RULE_KINDS)


@SQLITE
def test_meta_is_in_the_api_schema_with_its_model(api) -> None:
    schema = api.client.get("/openapi.json").json()
    ok = schema["paths"]["/api/v1/meta"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/Meta"}
    assert {"alert_types", "rule_kinds", "consoles"} <= schema["components"]["schemas"]["Meta"]["properties"].keys()


@SQLITE
def test_rule_kinds_name_the_shape_and_setting_the_edge_requires(api) -> None:
    """Each kind, built from its served shape and setting, is a rule the edge's own config loader accepts."""
    kinds = api.client.get("/api/v1/meta").json()["rule_kinds"]
    assert {k["kind"]: (k["shape"], k["param"]) for k in kinds} == {
        "intrusion": ("zone", None), "loitering": ("zone", "dwell_s"), "illegal_parking": ("zone", "stationary_s"),
        "crowding": ("zone", "min_count"), "line_crossing": ("line", None), "presence": ("zone", None),
        "motion": (None, None),
    }
    for k in kinds:
        rule = {"rule_id": "r", "kind": k["kind"], "classes": ["person"]}
        if k["shape"] == "zone":
            rule["zone"] = "z"
        elif k["shape"] == "line":
            rule["line"] = "l"
        else:
            del rule["classes"]
        if k["param"]:
            rule[k["param"]] = 5
        CameraConfig.model_validate({
            "camera_id": "cam-1", "source": {"url": "rtsp://x/1"}, "rules": [rule],
            "zones": [{"id": "z", "polygon": [[0.1, 0.1], [0.9, 0.1], [0.5, 0.9]]}],
            "lines": [{"id": "l", "points": [[0.1, 0.5], [0.9, 0.5]]}],
        })


def test_consoles_and_classes_are_ones_the_hub_and_the_models_know() -> None:
    assert {page for pages in CONSOLES.values() for page in pages} <= PAGES.keys() - {"login"}
    assert set(CONSOLES) == set(Role) - {Role.GATEWAY}  # every person's role has a console
    assert set(RULE_CLASSES) <= set(COCO_CLASS_NAMES)


def _case_in(api, state: CaseState) -> int:
    """A fresh case walked to ``state`` through the real actions (register, dispatch, accept, ...)."""
    walks = {
        CaseState.REPORTED: [], CaseState.REJECTED: ["reject"], CaseState.REGISTERED: ["register"],
        CaseState.DISPATCHED: ["register", "dispatch"], CaseState.ACCEPTED: ["register", "dispatch", "accept"],
        CaseState.HANDLED: ["register", "dispatch", "accept", "handle"],
        CaseState.CLOSED: ["register", "dispatch", "accept", "handle", "close"],
    }
    answer = api.post_event(event("cam-1", list(AlertType)[list(CaseState).index(state)]))
    assert answer.status_code == 202, answer.text
    case_id = answer.json()["case_id"]
    for action in walks[state]:
        r = api.client.post(f"/api/v1/cases/{case_id}/{action}", headers=api.as_("op"), json={"note": "why"})
        assert r.status_code == 200, r.text
    return case_id


@SQLITE
def test_task_and_reassign_states_are_what_the_hub_does(make_api, clock, database) -> None:
    """The worker page lists a case as a task, and the case view offers reassigning it, exactly when the hub
    does: /tasks lists it, and POST .../reassign accepts it."""
    api = make_api(cases={"auto_dispatch": [], "dispatch_on_register": False})
    populate(api, clock)
    meta = api.client.get("/api/v1/meta").json()
    cases = {state: _case_in(api, state) for state in CaseState}
    listed = {c["case_id"] for worker in ("w1", "w2") for c in api.client.get("/api/v1/tasks",
                                                                              headers=api.as_(worker)).json()}
    assert [s.value for s, case_id in cases.items() if case_id in listed] == meta["task_states"]
    reassignable = []
    for state, case_id in cases.items():
        r = api.client.post(f"/api/v1/cases/{case_id}/reassign", headers=api.as_("op"), json={"username": "lead"})
        assert r.status_code in (200, 409), r.text
        if r.status_code == 200:
            reassignable.append(state.value)
    assert reassignable == meta["reassign_states"]


def test_every_feed_item_the_hub_writes_has_a_served_kind() -> None:
    """The consoles listen only for the served feed kinds (live.js): each kind the writers build must be one.
    Case actions write "case.<target state>", ingest "case.<outcome>"; feed.case_item refuses any other."""
    targets = {f"case.{target.value}" for _, target in TRANSITIONS.values()}
    outcomes = {f"case.{o}" for o in get_args(Outcome) if o != "duplicate"}  # a duplicate writes no item
    assert targets | outcomes <= {k.value for k in FeedKind}
    with pytest.raises(ValueError, match="case.bogus"):
        feed.case_item(None, "case.bogus", None, None)  # type: ignore[arg-type]  # refused before any use
