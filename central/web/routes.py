"""Serve the console pages, their static assets and the message catalogue, and preview camera configs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, HTTPException, Query
from fastapi.responses import FileResponse, RedirectResponse
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from central import feed
from central.api import stream_api
from central.api.deps import MAX_ID, HubDep, Installer
from central.auth import AuthError
from central.errors import Invalid
from central.hub import Hub
from central.registry_views import validate_camera_config
from central.states import Priority

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
PAGES = {"login": "login.html", "operator": "operator.html", "installer": "installer.html",
         "worker": "worker.html"}
# The pages hold no data (everything comes from the API with a bearer token), so they may be cached
# briefly; "no-cache" still makes the browser revalidate, so a hub upgrade is seen on the next load.
_CACHE = {"Cache-Control": "no-cache"}

router = APIRouter()


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    return RedirectResponse("/ui/login")


@router.get("/ui", include_in_schema=False)
@router.get("/ui/", include_in_schema=False)
def ui_root() -> RedirectResponse:
    return RedirectResponse("/ui/login")


@router.get("/ui/{page}", include_in_schema=False)
def page(page: str) -> FileResponse:
    """One console page: login, operator, installer or worker."""
    name = PAGES.get(page)
    if name is None:
        raise HTTPException(404, f"page {page!r} not found: expected one of {', '.join(PAGES)}")
    return FileResponse(STATIC_DIR / name, media_type="text/html", headers=_CACHE)


@router.get("/ui/static/{path:path}", include_in_schema=False)
def static_file(path: str) -> FileResponse:
    """A CSS, JavaScript, JSON or SVG asset from the static folder; nothing outside it."""
    try:
        target = (STATIC_DIR / path).resolve()
        found = STATIC_DIR in target.parents and target.is_file()
    except (OSError, ValueError):  # a NUL byte or a name the file system refuses: not one of ours either
        found = False
    if not found:
        raise HTTPException(404, f"static file {path!r} not found")
    return FileResponse(target, headers=_CACHE)


@router.post("/ui/api/camera-config/check", tags=["consoles"],
             responses={422: {"description": "the config breaks the edge's rules; detail names the field"}})
def check_camera_config(
    who: Installer,
    camera_id: Annotated[str, Body(description="camera id the config is for")],
    gateway_id: Annotated[str, Body(description="gateway that runs the camera")],
    stream_url: Annotated[str, Body(description="stream URL (checked, never stored by this call)")],
    config: Annotated[dict[str, Any], Body(description="edge camera config as POST /api/v1/cameras takes")],
) -> dict[str, Any]:
    """Check a camera config exactly as registration will (the edge's own models), without saving it."""
    if not isinstance(config.get("source", {}), dict):
        raise Invalid("config.source: expected a mapping (fps_limit, loop ...), the URL goes in 'stream_url'")
    return {"ok": True, "config": validate_camera_config(camera_id, gateway_id, stream_url, config)}


@router.get("/ui/api/stream", tags=["consoles"], response_class=EventSourceResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "SSE stream"},
                       401: {"description": "missing, stale or forged token"}})
async def browser_stream(
    hub: HubDep,
    access_token: Annotated[str, Query(description="bearer token: EventSource cannot send headers")],
    grid: str | None = None,
    type: str | None = None,
    priority: Priority | None = None,
    last_event_id: Annotated[int | None, Header(ge=0, le=MAX_ID)] = None,
    after_id: Annotated[int | None, Query(ge=0, le=MAX_ID, description="resume after this feed id")] = None,
    max_events: Annotated[int | None, Query(ge=1, le=100000, description="close after this many")] = None,
) -> EventSourceResponse:
    """The hub's live feed for browsers: same events and resume rules, token taken from the query."""
    if not access_token:
        raise AuthError("not signed in: pass access_token from POST /api/v1/auth/token")
    who = hub.tokens.verify(access_token)
    hub.people.check_active(who)
    start = last_event_id if last_event_id is not None else after_id
    if start is None:
        start = await run_in_threadpool(_latest_feed_id, hub)
    response = await stream_api.stream(hub, who, grid=grid, type=type, priority=priority,
                                       last_event_id=None, after_id=start, max_events=max_events)
    # A page that has not received any event yet still needs a place to resume from: the first event,
    # "hello", carries the feed id the stream starts after, so the browser's own reconnect sends it back
    # as Last-Event-ID and nothing published during an outage is missed.
    events = response.body_iterator

    async def with_hello() -> AsyncIterator[Any]:
        yield {"id": str(start), "event": "hello", "data": "{}"}
        async for event in events:
            yield event

    response.body_iterator = with_hello()
    return response


def _latest_feed_id(hub: Hub) -> int:
    with hub.db.session() as session:
        return feed.latest_id(session)
