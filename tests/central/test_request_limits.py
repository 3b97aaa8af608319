"""Guessing passwords is throttled per account and per address (429 + Retry-After, state in the database),
password hashing is bounded, and request bodies are bounded and authenticated before they are read."""

from __future__ import annotations

import asyncio

import pytest

from central.auth import Passwords, TokenIssuer, TooManyAttempts
from central.request_guard import RequestGuard
from central.settings import HttpLimits
from tests.central.hubkit import ADMIN_PASSWORD

MiB = 1024 * 1024


def _sign_in(api, username: str, password: str):
    return api.client.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_hammering_one_account_gets_429_with_retry_after_then_it_may_try_again(make_api, clock):
    api = make_api()
    answers = [_sign_in(api, "admin", f"guess-{n}").status_code for n in range(5)]
    assert answers == [401] * 5
    throttled = _sign_in(api, "admin", ADMIN_PASSWORD)  # even the right password waits: nothing is hashed
    assert throttled.status_code == 429, throttled.text
    retry_after = int(throttled.headers["Retry-After"])
    assert retry_after >= 1 and "try again in" in throttled.json()["detail"]
    replica = make_api()  # another hub process on the same database sees the same lock
    assert _sign_in(replica, "admin", ADMIN_PASSWORD).status_code == 429
    clock.advance(retry_after)
    assert _sign_in(api, "admin", ADMIN_PASSWORD).status_code == 200
    assert _sign_in(api, "admin", "guess-again").status_code == 401  # the success cleared the account's count


def test_the_wait_doubles_with_each_failure_up_to_the_cap(make_api, clock):
    api = make_api(sign_in={"account_free_failures": 1, "base_delay_s": 2, "max_delay_s": 5})
    waits = []
    for _ in range(4):
        assert _sign_in(api, "admin", "wrong").status_code == 401
        answer = _sign_in(api, "admin", "wrong")
        assert answer.status_code == 429
        waits.append(int(answer.headers["Retry-After"]))
        clock.advance(waits[-1])
    assert waits == [2, 4, 5, 5]


def test_one_address_guessing_many_accounts_is_throttled(make_api):
    api = make_api(sign_in={"address_free_failures": 3})
    assert [_sign_in(api, f"user-{n}", "x").status_code for n in range(3)] == [401] * 3
    answer = _sign_in(api, "someone-else", "x")
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) >= 1


def test_password_hashing_is_bounded():
    passwords = Passwords(time_cost=1, memory_kib=64, max_concurrent=1, wait_s=0.01)
    digest = passwords.hash("secret")
    with passwords._slot():  # one hash in progress takes the only slot
        with pytest.raises(TooManyAttempts, match="busy"):
            passwords.verify("secret", digest)
    assert passwords.verify("secret", digest)


def test_an_anonymous_body_over_the_limit_gets_413(api):
    answer = api.client.post("/api/v1/events", content=b"x" * (30 * MiB), headers={"content-type": "application/json"})
    assert answer.status_code == 413 and "exceeds the 4194304 byte limit" in answer.json()["detail"]


def test_an_anonymous_json_body_is_refused_before_it_is_parsed(api):
    answer = api.client.post("/api/v1/events", content=b"{" * 1000, headers={"content-type": "application/json"})
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer"  # not 422: never parsed


def test_evidence_uploads_have_the_larger_limit(api):
    headers = api.as_("admin")
    big = b"x" * (5 * MiB)  # over the body limit, under the upload limit: reaches the route
    upload = api.client.post("/api/v1/cases/999/feedback", files={"photo": ("a.jpg", big)}, headers=headers)
    assert "request body" not in upload.json()["detail"]  # whatever the route says, the guard let it through
    other = api.client.post("/api/v1/events", content=big, headers={**headers, "content-type": "application/json"})
    assert other.status_code == 413 and "request body" in other.json()["detail"]


# -- the middleware on its own: how much of a body it reads ---------------------------------------------------

class _Body:
    """An ASGI receive() that streams ``total`` bytes in 1 MiB chunks and counts what was taken."""

    def __init__(self, total: int) -> None:
        self.left = total
        self.taken = 0

    async def __call__(self) -> dict:
        chunk = min(self.left, MiB)
        self.left -= chunk
        self.taken += chunk
        return {"type": "http.request", "body": b"x" * chunk, "more_body": self.left > 0}


async def _reading_app(scope, receive, send) -> None:
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _run(headers: list[tuple[bytes, bytes]], body: _Body, token_issuer: TokenIssuer) -> int:
    guard = RequestGuard(_reading_app, HttpLimits(max_body_bytes=4 * MiB), token_issuer)
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/v1/events", "headers": headers}
    asyncio.run(guard(scope, body, send))
    return sent[0]["status"]


ISSUER = TokenIssuer("test-secret-" + "y" * 40, 3600)


def test_a_declared_30_mib_body_is_answered_without_reading_a_byte():
    body = _Body(30 * MiB)
    assert _run([(b"content-length", str(30 * MiB).encode())], body, ISSUER) == 413
    assert body.taken == 0


def test_an_anonymous_chunked_body_is_answered_without_reading_a_byte():
    body = _Body(30 * MiB)
    assert _run([(b"transfer-encoding", b"chunked")], body, ISSUER) == 401
    assert body.taken == 0


def test_a_signed_in_chunked_body_is_cut_off_at_the_limit():
    from datetime import UTC, datetime

    from central.auth import Principal
    from central.states import Role

    token = ISSUER.issue(Principal(1, "admin", Role.ADMIN), datetime.now(UTC))
    body = _Body(30 * MiB)
    headers = [(b"transfer-encoding", b"chunked"), (b"authorization", f"Bearer {token}".encode())]
    assert _run(headers, body, ISSUER) == 413
    assert body.taken <= 5 * MiB  # stopped one chunk past the 4 MiB limit, not at 30 MiB
