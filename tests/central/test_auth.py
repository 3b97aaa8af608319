"""Sign-in, tokens and roles: who may call what, with the status and the `detail` each refusal carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from kernel.contracts.messages import AlertType
from tests.central.hubkit import PASSWORD, event

SECRET = "test-secret-" + "x" * 40


@pytest.fixture
def database() -> str:
    """Roles and tokens do not depend on the database: SQLite only (ingest and cases run on both)."""
    return "sqlite"


def _token(claims: dict, secret: str = SECRET) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}


def test_health_needs_no_token(api):
    answer = api.client.get("/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "db": "ok", "mqtt": "disabled"}


def test_wrong_password_is_401(api, world):
    answer = api.client.post("/api/v1/auth/token", data={"username": "op", "password": "nope-nope"})
    assert answer.status_code == 401
    assert answer.json() == {"detail": "wrong username or password"}


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "not signed in: send 'Authorization: Bearer <token>' from POST /api/v1/auth/token"),
        ({"Authorization": "Bearer abc.def.ghi"}, "token is not a valid hub token"),
        (
            _token(
                {
                    "sub": "1",
                    "name": "admin",
                    "role": "admin",
                    "exp": int((datetime.now(UTC) - timedelta(minutes=1)).timestamp()),
                }
            ),
            "token expired",
        ),
        (
            _token(
                {
                    "sub": "1",
                    "name": "admin",
                    "role": "admin",
                    "exp": int((datetime.now(UTC) + timedelta(hours=1)).timestamp()),
                },
                secret="forged" * 8,
            ),
            "token signature is invalid",
        ),
        (
            _token(
                {
                    "sub": "999",
                    "name": "ghost",
                    "role": "admin",
                    "exp": int((datetime.now(UTC) + timedelta(hours=1)).timestamp()),
                }
            ),
            "no longer exists",
        ),
    ],
    ids=["missing", "garbage", "expired", "forged", "deleted-user"],
)
def test_bad_tokens_are_401(api, headers, detail):
    answer = api.client.get("/api/v1/cases", headers=headers)
    assert answer.status_code == 401
    assert detail in answer.json()["detail"]
    assert answer.headers["www-authenticate"] == "Bearer"


def test_me(api, world):
    assert api.client.get("/api/v1/auth/me", headers=api.as_("w1")).json() == {
        "user_id": world["users"]["w1"],
        "username": "w1",
        "role": "grid_worker",
    }


ROLE_TABLE = [
    # (user, method, path, body, expected status)
    ("inst", "post", "/api/v1/cases/{case}/close", None, 403),
    ("inst", "get", "/api/v1/cases", None, 403),
    ("inst", "get", "/api/v1/stream", None, 403),
    ("w1", "post", "/api/v1/cases/{case}/close", None, 403),
    ("w1", "post", "/api/v1/cases/{case}/register", None, 403),
    ("w1", "post", "/api/v1/gateways", {"gateway_id": "gw-x"}, 403),
    ("w1", "get", "/api/v1/kpis", None, 403),
    ("w3", "get", "/api/v1/cases/{case}", None, 404),
    ("w3", "post", "/api/v1/cases/{case}/accept", None, 404),
    ("op", "post", "/api/v1/users", {"username": "x", "password": "12345678", "role": "operator"}, 403),
    ("op", "post", "/api/v1/areas", {"level": "district", "code": "d9", "name": "D9"}, 403),
    ("gw-1", "get", "/api/v1/cases", None, 403),
    ("gw-1", "get", "/api/v1/gateways", None, 403),
    ("lead", "get", "/api/v1/kpis", None, 200),
    ("op", "get", "/api/v1/cases/{case}", None, 200),
    ("w1", "get", "/api/v1/cases/{case}", None, 200),
]


@pytest.mark.parametrize(
    ("user", "method", "path", "body", "status"),
    ROLE_TABLE,
    ids=[f"{r[0]}-{r[1]}-{r[2].split('/')[-1]}-{r[4]}" for r in ROLE_TABLE],
)
def test_roles_per_endpoint(api, world, user, method, path, body, status):
    case_id = api.post_event(event("smoke-1", AlertType.SMOKE_ALARM)).json()["case_id"]  # goes to w1
    password = world["gateway_password"] if user == "gw-1" else "password-1234"
    answer = getattr(api.client, method)(
        path.format(case=case_id),
        headers=api.as_(user, password),
        **({"json": body} if body is not None else {}),
    )
    assert answer.status_code == status, answer.text
    if status == 403:
        assert "may not" in answer.json()["detail"]
    if status == 404:
        assert answer.json()["detail"] == f"case {case_id} not found among your cases"


def test_worker_sees_only_own_tasks(api, world):
    api.post_event(event("smoke-1", AlertType.SMOKE_ALARM))  # w1
    api.post_event(event("cam-1", AlertType.INTRUSION))  # w2
    w1 = api.client.get("/api/v1/cases", headers=api.as_("w1")).json()
    w2 = api.client.get("/api/v1/tasks", headers=api.as_("w2")).json()
    w3 = api.client.get("/api/v1/tasks", headers=api.as_("w3")).json()
    assert [c["alert_type"] for c in w1] == ["smoke_alarm"]
    assert [c["alert_type"] for c in w2] == ["intrusion"]
    assert w3 == []


def test_gateway_posts_only_its_own_events(api, world):
    password = world["gateway_password"]
    headers = api.as_("gw-1", password)
    ok = api.client.post(
        "/api/v1/events",
        headers={**headers, "content-type": "application/json"},
        content=event("cam-1").model_dump_json(by_alias=True, exclude_none=True),
    )
    assert ok.status_code == 202
    other = api.client.post(
        "/api/v1/events",
        headers={**headers, "content-type": "application/json"},
        content=event("cam-2", gateway_id="gw-2").model_dump_json(by_alias=True, exclude_none=True),
    )
    assert other.status_code == 403
    assert other.json()["detail"] == "gateway 'gw-1' may post only its own events, not gateway 'gw-2''s"
    assert api.post_event(event("cam-1"), as_user="w1").status_code == 403


def test_retired_gateway_loses_its_token_and_its_events(api, world):
    headers = api.as_("gw-1", world["gateway_password"])
    assert api.client.delete("/api/v1/gateways/gw-1", headers=api.as_("inst")).json()["retired"] is True
    answer = api.client.get("/api/v1/gateways/gw-1/config", headers=headers)
    assert answer.status_code == 401
    refused = api.post_event(event("cam-1"))
    assert refused.status_code == 403
    assert refused.json()["detail"] == "gateway 'gw-1' is retired"


# -- signing out, password changes, disabled accounts -------------------------------------------------------


def _sign_in(api, username: str, password: str = PASSWORD) -> dict[str, str]:
    answer = api.client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _me(api, headers: dict[str, str]):
    return api.client.get("/api/v1/auth/me", headers=headers)


def test_logout_revokes_only_that_token(api, world):
    phone, desk = _sign_in(api, "op"), _sign_in(api, "op")
    assert api.client.post("/api/v1/auth/logout", headers=phone).status_code == 204
    refused = _me(api, phone)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "token was revoked (signed out): sign in again"
    assert _me(api, desk).status_code == 200
    assert api.client.post("/api/v1/auth/logout", headers=phone).status_code == 401  # not twice
    assert _me(api, _sign_in(api, "op")).status_code == 200


def test_logout_everywhere_revokes_every_earlier_token_of_the_account(api, world):
    phone, desk, other = _sign_in(api, "op"), _sign_in(api, "op"), _sign_in(api, "inst")
    assert api.client.post("/api/v1/auth/logout", params={"everywhere": "true"}, headers=desk).status_code == 204
    for headers in (phone, desk):
        answer = _me(api, headers)
        assert answer.status_code == 401
        assert "password changed or signed out everywhere" in answer.json()["detail"]
    assert _me(api, other).status_code == 200  # another account keeps its session
    assert _me(api, _sign_in(api, "op")).status_code == 200  # signing in again works


def test_changing_the_password_ends_every_session(api, world):
    old = _sign_in(api, "w1")
    wrong = api.client.post(
        "/api/v1/auth/password", headers=old, json={"current_password": "not-it-at-all", "new_password": "x" * 12}
    )
    assert wrong.status_code == 403 and wrong.json()["detail"] == "current_password is wrong"
    short = api.client.post(
        "/api/v1/auth/password", headers=old, json={"current_password": PASSWORD, "new_password": "short"}
    )
    assert short.status_code == 422
    changed = api.client.post(
        "/api/v1/auth/password", headers=old, json={"current_password": PASSWORD, "new_password": "new-secret-42"}
    )
    assert changed.status_code == 204
    assert _me(api, old).status_code == 401
    assert api.client.post("/api/v1/auth/token", data={"username": "w1", "password": PASSWORD}).status_code == 401
    assert _me(api, _sign_in(api, "w1", "new-secret-42")).status_code == 200


def test_a_gateway_cannot_change_its_password_here(api, world):
    headers = api.as_("gw-1", world["gateway_password"])
    body = {"current_password": world["gateway_password"], "new_password": "new-secret-42"}
    answer = api.client.post("/api/v1/auth/password", headers=headers, json=body)
    assert answer.status_code == 403
    assert "also its MQTT password" in answer.json()["detail"]


def test_admin_disables_and_enables_an_account(api, world):
    users = {u["username"]: u["id"] for u in api.client.get("/api/v1/users", headers=api.as_("op")).json()}
    session = _sign_in(api, "w1")
    not_admin = api.client.patch(f"/api/v1/users/{users['w1']}", headers=api.as_("op"), json={"active": False})
    assert not_admin.status_code == 403
    disabled = api.client.patch(f"/api/v1/users/{users['w1']}", headers=api.as_("admin"), json={"active": False})
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert _me(api, session).status_code == 401
    assert api.client.post("/api/v1/auth/token", data={"username": "w1", "password": PASSWORD}).status_code == 401
    enabled = api.client.patch(
        f"/api/v1/users/{users['w1']}", headers=api.as_("admin"), json={"active": True, "password": "reset-pass-1"}
    )
    assert enabled.status_code == 200 and enabled.json()["active"] is True
    assert _me(api, session).status_code == 401  # the old session stays ended
    assert _me(api, _sign_in(api, "w1", "reset-pass-1")).status_code == 200
    gateway = api.client.patch(f"/api/v1/users/{users['gw-1']}", headers=api.as_("admin"), json={"active": False})
    assert gateway.status_code == 409 and "/api/v1/gateways" in gateway.json()["detail"]
    missing = api.client.patch("/api/v1/users/999999", headers=api.as_("admin"), json={"active": False})
    assert missing.status_code == 404


def test_api_docs_are_public_unless_turned_off(make_api):
    api = make_api()
    assert api.client.get("/openapi.json").json()["info"]["title"] == "gridwatch hub"
    assert api.client.get("/docs").status_code == 200
    hidden = make_api(api_docs=False)
    assert hidden.client.get("/openapi.json").status_code == 404
    assert hidden.client.get("/docs").status_code == 404
    assert hidden.client.get("/health").status_code == 200
