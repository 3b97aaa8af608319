"""NUL characters in HTTP inputs answer 422 naming where, on SQLite and on a real PostgreSQL.

PostgreSQL cannot store U+0000 in text: before the fix, a NUL in a sign-in name, a filter, a note or a name
answered 500 there (and SQLite stored it). An alert with one is a contract error (tests/gridwatch).
"""

from __future__ import annotations

import pytest

from tests.central.hubkit import JPEG, event

NUL_CASES = [
    pytest.param("post", "/api/v1/auth/token", {"data": {"username": "ad\x00min", "password": "x"}}, None,
                 "the request body", id="sign-in-form"),
    pytest.param("get", "/api/v1/feed", {"params": {"grid": "g1\x00"}}, "op", "query parameter 'grid'",
                 id="feed-filter"),
    pytest.param("get", "/open311/v2/requests.json", {"params": {"service_code": "\x00"}}, "op",
                 "query parameter 'service_code'", id="open311-filter"),
    pytest.param("get", "/api/v1/cameras", {"params": {"gateway_id": "gw\x00"}}, "inst",
                 "query parameter 'gateway_id'", id="registry-filter"),
    pytest.param("post", "/api/v1/areas", {"json": {"level": "district", "code": "d9", "name": "N\x00"}}, "admin",
                 "the request body", id="area-name"),
    pytest.param("post", "/api/v1/gateways", {"json": {"gateway_id": "gw-9", "name": "\x00"}}, "inst",
                 "the request body", id="gateway-name"),
    pytest.param("patch", "/api/v1/gateways/gw%00", {"json": {"name": "x"}}, "inst", "the URL path",
                 id="path"),
    pytest.param("get", "/ui/static/%00", {}, None, "the URL path", id="static-file"),
]


@pytest.mark.parametrize("method, path, kwargs, user, where", NUL_CASES)
def test_nul_in_an_http_input_is_a_clear_422(api, world, method, path, kwargs, user, where):
    headers = api.as_(user) if user else {}
    answer = getattr(api.client, method)(path, headers=headers, **kwargs)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"].startswith(f"{where} contains a NUL character")


def test_nul_in_case_notes_is_a_clear_422(api, world):
    case_id = api.post_event(event("cam-1")).json()["case_id"]
    worker = api.as_("w1")
    acted = api.client.post(f"/api/v1/cases/{case_id}/accept", headers=worker, json={"note": "on my way \x00"})
    assert acted.status_code == 422, acted.text
    assert "NUL character" in acted.json()["detail"]
    feedback = api.client.post(
        f"/api/v1/cases/{case_id}/feedback",
        headers=worker,
        data={"note": "fixed \x00"},
        files={"photo": ("site.jpg", JPEG, "image/jpeg")},
    )
    assert feedback.status_code == 422, feedback.text
    assert "NUL character" in str(feedback.json()["detail"])
    # Nothing of either was stored, and the same requests without the NUL go through.
    history = api.client.get(f"/api/v1/cases/{case_id}/events", headers=worker).json()
    assert all("\x00" not in (e.get("note") or "") for e in history)
    assert api.client.post(f"/api/v1/cases/{case_id}/accept", headers=worker, json={"note": "ok"}).status_code == 200
    assert api.client.post(
        f"/api/v1/cases/{case_id}/feedback", headers=worker, data={"note": "fixed"}
    ).status_code == 201


def test_an_escaped_backslash_before_u0000_is_ordinary_text(api, world):
    """JSON ``"\\\\u0000"`` is a backslash and the letters u0000, not a NUL: it is stored as written."""
    answer = api.client.post(
        "/api/v1/gateways",
        headers={**api.as_("inst"), "content-type": "application/json"},
        content=b'{"gateway_id": "gw-9", "name": "path\\\\u0000"}',
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["gateway"]["name"] == "path\\u0000"


def test_an_alert_with_nul_over_http_is_a_422(api, world):
    ev = event("cam-1")
    body = ev.model_dump_json(by_alias=True, exclude_none=True).replace('"title":"', '"title":"\\u0000', 1)
    answer = api.client.post(
        "/api/v1/events", content=body, headers={**api.as_("admin"), "content-type": "application/json"}
    )
    assert answer.status_code == 422, answer.text
    assert "NUL" in answer.text
