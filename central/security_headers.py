"""Browser hardening headers on every hub response: no MIME sniffing, no framing, a strict CSP.

The consoles load only their own scripts and styles (ES modules from /ui/static, no inline code), show
evidence through blob: URLs and talk only to the hub, so the policy admits exactly that. FastAPI's own
/docs and /redoc pages pull Swagger UI from a CDN with an inline script: they get every header but the CSP.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_ALWAYS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
_CSP = (b"content-security-policy", CONTENT_SECURITY_POLICY.encode())
_API_DOCS = ("/docs", "/redoc")


class SecurityHeaders:
    """ASGI middleware adding the headers above unless the response already set them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        extra = _ALWAYS if path.startswith(_API_DOCS) else (*_ALWAYS, _CSP)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
