"""Refuse NUL characters in every HTTP input (path, query, JSON and form bodies) with a 422 naming where.

PostgreSQL cannot store U+0000 in text, so a NUL that reached the database answered 500 (sign-in, filters,
notes, names); SQLite would store it and hand it to every console. Checking each schema field would miss the
next one added, so this is one ASGI middleware in front of the whole app. Bodies are scanned as they stream
in (nothing is buffered): on a hit, reading the body fails, the endpoint never runs, and the answer is
replaced by the 422. Multipart bodies carry binary files, where NUL bytes are legitimate; their text fields
use ``NoNulText`` instead.
"""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import parse_qsl

from pydantic import AfterValidator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_HINT = "NUL characters (\\u0000, %00) are not allowed in any text"


def refuse_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError(f"contains a NUL character: {_HINT}")
    return value


NoNulText = Annotated[str, AfterValidator(refuse_nul)]
"""A text field checked for NUL where the middleware cannot look (multipart form fields)."""


class _NulInBody(Exception):
    """Raised from ``receive`` so that nothing reads on with a NUL-bearing body."""


class RejectNul:
    """ASGI middleware: 422 for any request whose path, query or JSON/urlencoded body holds a NUL."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = _nul_in_url(scope)
        if where is not None:
            await _refuse(send, where)
            return
        scanner = _scanner_for(scope)
        if scanner is None:
            await self.app(scope, receive, send)
            return
        state = {"found": False, "started": False}

        async def checked_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and scanner.feed(message.get("body", b"")):
                state["found"] = True
                raise _NulInBody
            return message

        async def guarded_send(message: Message) -> None:
            if state["found"]:
                return  # the app's answer to the failed read (FastAPI's 400) is replaced by the 422 below
            state["started"] = True
            await send(message)

        try:
            await self.app(scope, checked_receive, guarded_send)
        except _NulInBody:
            pass
        if state["found"] and not state["started"]:
            await _refuse(send, "the request body")


def _nul_in_url(scope: Scope) -> str | None:
    if "\x00" in scope.get("path", ""):
        return "the URL path"
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in key or "\x00" in value:
                return f"query parameter {key.replace(chr(0), '%00')!r}"
        return "the query string"
    return None


def _scanner_for(scope: Scope) -> _JsonScanner | _FormScanner | None:
    content_type = b""
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            content_type = value.split(b";", 1)[0].strip().lower()
    if content_type == b"application/json" or content_type.endswith(b"+json"):
        return _JsonScanner()
    if content_type == b"application/x-www-form-urlencoded":
        return _FormScanner()
    return None


class _JsonScanner:
    """Finds ``\\u0000`` escapes (an odd run of backslashes before ``u0000``) across chunk boundaries."""

    def __init__(self) -> None:
        self._carry = b""

    def feed(self, chunk: bytes) -> bool:
        data = self._carry + chunk
        if b"\x00" in chunk:
            return True
        at = data.find(b"u0000")
        while at != -1:
            run = 0
            while at - run - 1 >= 0 and data[at - run - 1] == 0x5C:  # backslash
                run += 1
            if run % 2 == 1:
                return True
            at = data.find(b"u0000", at + 1)
        # Keep what a match could still start in: the last 4 bytes and the backslash run before them.
        start = max(len(data) - 4, 0)
        while start > 0 and data[start - 1] == 0x5C:
            start -= 1
        self._carry = data[start:]
        return False


class _FormScanner:
    """Finds ``%00`` (or a raw NUL) in an urlencoded body across chunk boundaries."""

    def __init__(self) -> None:
        self._carry = b""

    def feed(self, chunk: bytes) -> bool:
        data = self._carry + chunk
        self._carry = data[-2:]
        return b"%00" in data or b"\x00" in chunk


async def _refuse(send: Send, where: str) -> None:
    body = json.dumps({"detail": f"{where} contains a NUL character: {_HINT}"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
