"""Read-only views: KPIs per grid and worker, the Open311 GeoReport v2 view, and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from central import kpis, open311
from central.api.deps import HubDep, IdQuery, current_principal, require
from central.auth import Principal
from central.errors import NotFound
from central.states import Role

router = APIRouter(tags=["reports"])
Reader = Annotated[Principal, Depends(require(Role.OPERATOR, Role.GRID_LEADER))]


@router.get("/api/v1/kpis", response_model=kpis.KpiReport)
def kpi_report(hub: HubDep, who: Reader, area_id: IdQuery = None) -> kpis.KpiReport:
    return kpis.report(hub.db, hub.clock.now(), area_id)


@router.get("/open311/v2/services.json", response_model=list[open311.Service])
def services(who: Reader) -> list[open311.Service]:
    return open311.services()


@router.get("/open311/v2/requests.json", response_model=list[open311.ServiceRequest])
def requests(
    hub: HubDep,
    who: Reader,
    service_code: str | None = None,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[open311.ServiceRequest]:
    staff = Principal(user_id=who.user_id, username=who.username, role=Role.OPERATOR)
    rows = [open311.request_of(c) for c in hub.cases.list(staff, limit=limit)]
    return [r for r in rows if (service_code in (None, r.service_code)) and (status in (None, r.status))]


@router.get(
    "/open311/v2/requests/{request_id}.json",
    response_model=list[open311.ServiceRequest],
    responses={404: {"description": "no such request"}},
)
def request(hub: HubDep, who: Reader, request_id: str) -> list[open311.ServiceRequest]:
    if not request_id.isdigit():
        raise NotFound(f"service request {request_id!r} not found: ids are case numbers")
    staff = Principal(user_id=who.user_id, username=who.username, role=Role.OPERATOR)
    return [open311.request_of(hub.cases.get(staff, int(request_id)))]


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
