"""The FastAPI application factory: ``create_app(settings)`` builds the hub at start-up, never at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from central.api import (
    auth_api,
    cases_api,
    events_api,
    health,
    health_api,
    meta_api,
    registry_api,
    reports_api,
    sensor_profiles_api,
    stream_api,
)
from central.auth import AuthError, TooManyAttempts
from central.clock import Clock
from central.errors import HubError
from central.hub import Hub
from central.nul_guard import RejectNul
from central.request_guard import RequestGuard
from central.security_headers import SecurityHeaders
from central.settings import HubSettings
from central.web import web_router

log = logging.getLogger(__name__)


def create_app(
    settings: HubSettings, *, clock: Clock | None = None, hub: Hub | None = None, start_workers: bool = True
) -> FastAPI:
    """Build the hub (migrations, first admin) and its API; workers start with the app's lifespan."""
    hub = hub or Hub(settings, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_workers:
            hub.start()
        try:
            yield
        finally:
            if start_workers:
                hub.stop()

    app = FastAPI(
        title="gridwatch hub",
        version="1",
        lifespan=lifespan,
        description="Alert ingest, grid cases with the closed loop, dispatch and escalation, live "
        "feed, registry. Sign in at POST /api/v1/auth/token, then send the bearer token.",
        openapi_url="/openapi.json" if settings.api_docs else None,
    )
    app.state.hub = hub
    app.add_middleware(RequestGuard, limits=settings.http_limits, tokens=hub.tokens)  # type: ignore[arg-type]
    routers = (
        health,
        health_api,
        auth_api,
        events_api,
        cases_api,
        registry_api,
        sensor_profiles_api,
        stream_api,
        reports_api,
        meta_api,
    )
    for module in routers:
        app.include_router(module.router)
    app.include_router(web_router)  # the browser consoles (central/web)
    for guard in (RejectNul, SecurityHeaders):  # NUL in any input -> 422; nosniff, CSP, no framing
        app.add_middleware(guard)

    @app.exception_handler(HubError)
    async def hub_error(request: Request, exc: HubError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthError) else None
        if isinstance(exc, TooManyAttempts):
            headers = {"Retry-After": str(exc.retry_after_s)}
        if exc.status_code >= 500:
            log.error("%s %s failed: %s", request.method, request.url.path, exc)
        else:
            log.info("%s %s -> %s: %s", request.method, request.url.path, exc.status_code, exc)
        hub.metrics.http_requests.labels(str(exc.status_code)).inc()
        return JSONResponse({"detail": str(exc)}, status_code=exc.status_code, headers=headers)

    return app
