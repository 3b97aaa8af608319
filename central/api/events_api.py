"""Alerts over HTTP: POST /api/v1/events (the MQTT ingest's equivalent), GET /api/v1/alerts, and the messages
the ingest could not process, GET /api/v1/dead-letters (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from central.api.deps import MAX_ID, Admin, HubDep, IdQuery, Staff, require
from central.auth import Principal
from central.dead_letters import DeadLetterPublic
from central.errors import Forbidden
from central.states import Role
from central.views import AlertPublic
from kernel.contracts.messages import AlertEvent

router = APIRouter(prefix="/api/v1", tags=["events"])


class IngestAnswer(BaseModel):
    event_id: str
    outcome: str
    alert_id: int | None
    case_id: int | None


Poster = Annotated[Principal, Depends(require(Role.GATEWAY))]


@router.post(
    "/events",
    response_model=IngestAnswer,
    status_code=202,
    responses={
        403: {"description": "not this gateway's event or device"},
        413: {"description": "snapshot too large"},
        422: {"description": "invalid event, or unknown gateway or device"},
    },
)
def post_event(hub: HubDep, principal: Poster, event: AlertEvent) -> IngestAnswer:
    if principal.role is Role.GATEWAY and event.gateway_id != principal.username:
        hub.metrics.rejected.labels("foreign_gateway", "http").inc()
        raise Forbidden(
            f"gateway {principal.username!r} may post only its own events, not gateway {event.gateway_id!r}'s"
        )
    result = hub.ingestor.ingest(event, "http")
    return IngestAnswer(
        event_id=result.event_id, outcome=result.outcome, alert_id=result.alert_id, case_id=result.case_id
    )


@router.get("/alerts", response_model=list[AlertPublic])
def list_alerts(
    hub: HubDep,
    principal: Staff,
    case_id: IdQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AlertPublic]:
    return hub.cases.alerts(case_id=case_id, limit=limit)


@router.get("/dead-letters", response_model=list[DeadLetterPublic])
def list_dead_letters(
    hub: HubDep,
    principal: Admin,
    after_id: Annotated[int, Query(ge=0, le=MAX_ID, description="page on: the last id you saw")] = 0,
    reason: Annotated[str | None, Query(max_length=64, description="only this reason")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeadLetterPublic]:
    """Messages the ingest acknowledged without processing (refused, or failing on their own), oldest first:
    what came, on which topic, why, and the payload (its first ingest.dead_letter_payload_bytes)."""
    return hub.dead_letters.list(after_id=after_id, reason=reason, limit=limit)
