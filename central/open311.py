"""A read-only Open311 GeoReport v2 view of cases, for city hotlines and 12345 platforms.

Operators and admins see every case; a grid leader sees the cases of the area they lead and the areas
beneath it (the role table in docs/hub.md).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from central.db.engine import Database
from central.db.models import Case
from central.errors import NotFound
from central.states import TERMINAL
from central.views import CasePublic
from kernel.contracts.messages import AlertType, format_ts

MAX_REQUEST_ID = 2**63 - 1  # case ids are BIGINT
_REQUEST_ID = re.compile(r"^[0-9]{1,19}$")  # ASCII digits only: str.isdigit() also admits '²'


class Service(BaseModel):
    model_config = ConfigDict(frozen=True)

    service_code: str
    service_name: str
    description: str
    metadata: bool = False
    type: str = "realtime"
    keywords: str = "gridwatch,ai"
    group: str


class ServiceRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    service_request_id: str
    status: str
    status_notes: str | None
    service_name: str
    service_code: str
    description: str
    agency_responsible: str
    requested_datetime: str
    updated_datetime: str
    lat: float | None
    long: float | None


_GROUPS = {"camera": "video", "sensor": "sensor", "gateway": "health"}
_HEALTH = {
    AlertType.CAMERA_OFFLINE,
    AlertType.SENSOR_OFFLINE,
    AlertType.GATEWAY_OFFLINE,
    AlertType.BATTERY_LOW,
    AlertType.TAMPER,
    AlertType.SENSOR_FAULT,
}


def services() -> list[Service]:
    return [
        Service(
            service_code=t.value,
            service_name=t.value.replace("_", " ").capitalize(),
            description=f"AI-originated gridwatch alert: {t.value}",
            group="device health" if t in _HEALTH else "public safety",
        )
        for t in AlertType
    ]


def request_of(case: CasePublic) -> ServiceRequest:
    finished = case.state in TERMINAL
    return ServiceRequest(
        service_request_id=str(case.case_id),
        status="closed" if finished else "open",
        status_notes=f"gridwatch state: {case.state.value}; priority {case.priority.value}",
        service_name=case.alert_type.replace("_", " ").capitalize(),
        service_code=case.alert_type,
        description=case.title,
        agency_responsible="community grid management",
        requested_datetime=format_ts(case.created_at),
        updated_datetime=format_ts(case.updated_at),
        lat=case.latitude,
        long=case.longitude,
    )


def list_requests(
    db: Database,
    area_ids: frozenset[int] | None,
    *,
    service_code: str | None,
    status: str | None,
    limit: int,
) -> list[ServiceRequest]:
    """Newest first, filtered in the query (so ``limit`` counts matching requests); ``area_ids`` None = all."""
    query = select(Case).order_by(Case.id.desc()).limit(limit)
    if area_ids is not None:
        query = query.where(Case.area_id.in_(area_ids))
    if service_code is not None:
        query = query.where(Case.alert_type == service_code)
    finished = [s.value for s in TERMINAL]
    if status == "closed":
        query = query.where(Case.state.in_(finished))
    elif status == "open":
        query = query.where(Case.state.not_in(finished))
    elif status is not None:
        return []  # GeoReport v2 knows only open and closed
    with db.session() as session:
        return [request_of(CasePublic.of(c)) for c in session.scalars(query)]


def get_request(db: Database, area_ids: frozenset[int] | None, request_id: str) -> ServiceRequest:
    """One request by its id (the case number); NotFound for anything else, or outside ``area_ids``."""
    missing = NotFound(f"service request {request_id!r} not found: ids are case numbers")
    if not _REQUEST_ID.match(request_id) or int(request_id) > MAX_REQUEST_ID:
        raise missing
    with db.session() as session:
        case = session.get(Case, int(request_id))
        if case is None or (area_ids is not None and case.area_id not in area_ids):
            raise missing
        return request_of(CasePublic.of(case))
