"""The live feed over Server-Sent Events (resumable with Last-Event-ID) and as a plain JSON page."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from pydantic import BaseModel
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from central import feed
from central.api.deps import MAX_ID, CurrentUser, HubDep
from central.auth import Principal
from central.errors import Forbidden
from central.hub import Hub
from central.states import Priority, Role

router = APIRouter(prefix="/api/v1", tags=["feed"])
# A stream wakes when the hub's feed bell rings (a commit with feed items: in this process, or on PostgreSQL in
# any process); this slow poll is the safety net, and what carries other processes' items on SQLite.
FALLBACK_POLL_S = 1.5


class FeedItem(BaseModel):
    id: int
    kind: str
    at: str
    data: dict[str, Any]


def _filter(
    hub: Hub, who: Principal, grid: str | None, alert_type: str | None, priority: Priority | None
) -> feed.FeedFilter:
    if who.role in (Role.GATEWAY, Role.INSTALLER):
        raise Forbidden(f"role '{who.role.value}' may not watch the case feed")
    mine = who.user_id if who.role is Role.GRID_WORKER else None
    led = hub.people.area_codes(hub.people.led_area_ids(who.user_id)) if who.role is Role.GRID_LEADER else None
    return feed.FeedFilter(
        area_code=grid,
        alert_type=alert_type,
        priority=priority.value if priority else None,
        assignee_id=mine,
        area_codes=led,
    )


def _read(hub: Hub, after: int, flt: feed.FeedFilter, limit: int) -> list[FeedItem]:
    with hub.db.session() as session:
        return [
            FeedItem(id=r.id, kind=r.kind, at=r.at.isoformat(), data=r.data)
            for r in feed.read_after(session, after, flt, limit)
        ]


@router.get("/feed", response_model=list[FeedItem])
def feed_page(
    hub: HubDep,
    who: CurrentUser,
    after_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    grid: str | None = None,
    type: str | None = None,
    priority: Priority | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[FeedItem]:
    """Feed items after ``after_id`` (for clients that poll instead of streaming)."""
    return _read(hub, after_id, _filter(hub, who, grid, type, priority), limit)


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "SSE stream"}},
)
async def stream(
    hub: HubDep,
    who: CurrentUser,
    grid: str | None = None,
    type: str | None = None,
    priority: Priority | None = None,
    last_event_id: Annotated[int | None, Header(ge=0, le=MAX_ID)] = None,
    after_id: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="start after this id (or send Last-Event-ID)")
    ] = None,
    max_events: Annotated[int | None, Query(ge=1, le=100000, description="close after this many")] = None,
) -> EventSourceResponse:
    """Alert and case changes as SSE; ``id`` of each event is its feed id, so a reconnect resumes exactly."""
    flt = await run_in_threadpool(_filter, hub, who, grid, type, priority)  # a leader's areas: a query
    start = last_event_id if last_event_id is not None else after_id
    if start is None:
        start = await run_in_threadpool(_latest_id, hub)

    async def events() -> AsyncIterator[dict[str, Any]]:
        after, sent = start, 0
        async with hub.feed_bell.subscription() as wake:
            while True:
                wake.clear()  # before reading: a commit during the read rings again and is not missed
                items = await run_in_threadpool(_read, hub, after, flt, 200)
                for item in items:
                    after = item.id
                    yield {"id": str(item.id), "event": item.kind, "data": json.dumps(item.data)}
                    sent += 1
                    if max_events is not None and sent >= max_events:
                        return
                if not items:
                    await wake.wait(FALLBACK_POLL_S)

    return EventSourceResponse(events(), ping=15)


def _latest_id(hub: Hub) -> int:
    with hub.db.session() as session:
        return feed.latest_id(session)
