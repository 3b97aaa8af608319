"""A read-only Open311 GeoReport v2 view of cases, for city hotlines and 12345 platforms."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from central.states import CaseState
from central.views import CasePublic
from gridwatch.contracts.messages import AlertType, format_ts


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
    finished = case.state in (CaseState.CLOSED, CaseState.REJECTED)
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
