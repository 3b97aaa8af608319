"""ASGI middleware in front of the HTTP API: request bodies are bounded and, on authenticated routes, the
bearer token is checked before a byte of the body is read.

FastAPI reads and parses a JSON body before it resolves the dependencies that check the token, so without
this an anonymous caller could make every hub process buffer and parse bodies of any size. Here a body whose
declared length is over the limit gets 413 unread; a body without a declared length (chunked) is counted as
it streams and cut off at the limit; and a body sent to any route but the public sign-in without a token this
hub signed gets 401 unread. (Revocation and roles are still checked by the routes, after the body.)"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from central.auth import AuthError, TokenIssuer
from central.settings import HttpLimits

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

# The only routes that take a body from someone not yet signed in.
_ANONYMOUS_BODY = frozenset({"/api/v1/auth/token"})
_AUTHENTICATED = ("/api/", "/ui/api/")  # the API's routes; others take no body
_UPLOAD = re.compile(r"^/api/v1/cases/[^/]+/feedback$")  # evidence photos: the larger limit


class _BodyTooLarge(Exception):
    pass


class RequestGuard:
    """Bounds request bodies (413) and requires a valid bearer token before reading one (401)."""

    def __init__(self, app: App, limits: HttpLimits, tokens: TokenIssuer) -> None:
        self.app = app
        self.limits = limits
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        limit = self.limits.max_upload_bytes if _UPLOAD.match(path) else self.limits.max_body_bytes
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or len(declared) > 15):
            await _answer(send, 400, f"Content-Length {declared[:20]!r} is not a byte count")
            return
        if declared is not None and int(declared) > limit:
            await _answer(send, 413, f"request body of {declared} bytes exceeds the {limit} byte limit")
            return
        has_body = (declared is not None and int(declared) > 0) or "chunked" in headers.get("transfer-encoding", "")
        if has_body and path.startswith(_AUTHENTICATED) and path not in _ANONYMOUS_BODY:
            problem = self._token_problem(headers.get("authorization", ""))
            if problem is not None:
                await _answer(send, 401, problem, {"WWW-Authenticate": "Bearer"})
                return
        if not has_body:
            await self.app(scope, receive, send)
            return
        await self._bounded(scope, receive, send, limit)

    def _token_problem(self, authorization: str) -> str | None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "not signed in: send 'Authorization: Bearer <token>' from POST /api/v1/auth/token"
        try:
            self.tokens.verify(token.strip())
        except AuthError as exc:
            return str(exc)
        return None

    async def _bounded(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _BodyTooLarge:
            if started:
                raise
            await _answer(send, 413, f"request body exceeds the {limit} byte limit")


async def _answer(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
