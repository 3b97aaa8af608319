"""Read-only views: KPIs per grid and worker, the Open311 GeoReport v2 view, and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from central import kpis, open311
from central.api.deps import HubDep, IdQuery, current_principal, require
from central.auth import Principal
from central.hub import Hub
from central.states import Role

router = APIRouter(tags=["reports"])
Reader = Annotated[Principal, Depends(require(Role.OPERATOR, Role.GRID_LEADER))]


@router.get("/api/v1/kpis", response_model=kpis.KpiReport)
def kpi_report(hub: HubDep, who: Reader, area_id: IdQuery = None) -> kpis.KpiReport:
    return kpis.report(hub.db, hub.clock.now(), area_id)


@router.get("/open311/v2/services.json", response_model=list[open311.Service])
def services(who: Reader) -> list[open311.Service]:
    return open311.services()


def _visible_areas(hub: Hub, who: Principal) -> frozenset[int] | None:
    """None (every case) for staff; a grid leader's own area and those beneath it."""
    return hub.people.led_area_ids(who.user_id) if who.role is Role.GRID_LEADER else None


@router.get("/open311/v2/requests.json", response_model=list[open311.ServiceRequest])
def requests(
    hub: HubDep,
    who: Reader,
    service_code: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[open311.ServiceRequest]:
    """Service requests (cases), newest first: all of them for staff, a grid leader's own area's."""
    return open311.list_requests(
        hub.db, _visible_areas(hub, who), service_code=service_code, status=status, limit=limit
    )


@router.get(
    "/open311/v2/requests/{request_id}.json",
    response_model=list[open311.ServiceRequest],
    responses={404: {"description": "no such request"}},
)
def request(hub: HubDep, who: Reader, request_id: str) -> list[open311.ServiceRequest]:
    return [open311.get_request(hub.db, _visible_areas(hub, who), request_id)]


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(hub: HubDep, request: Request) -> Response:
    """Prometheus figures; needs an admin/operator token unless metrics_public is set."""
    if not hub.settings.metrics_public:
        principal = current_principal(hub, _bearer(request))
        require(Role.OPERATOR)(principal)
    return Response(hub.metrics.render(), media_type="text/plain; version=0.0.4")


def _bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    return value[7:] if value.lower().startswith("bearer ") else None
