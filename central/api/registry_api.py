"""Installer and admin resources: areas (grid hierarchy), people and shifts, gateways, cameras, sensors."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from central.api.deps import Admin, CurrentUser, HubDep, IdPath, Installer, Staff
from central.db.models import Camera, Sensor
from central.errors import Forbidden
from central.schemas import (
    AreaCreate,
    AreaPublic,
    CameraCreate,
    CameraPublic,
    CameraUpdate,
    GatewayCreate,
    GatewayCredentials,
    GatewayPublic,
    GatewayUpdate,
    SensorCreate,
    SensorPublic,
    SensorUpdate,
    ShiftCreate,
    ShiftPublic,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from central.states import Role
from kernel.contracts.messages import GatewayConfig

router = APIRouter(prefix="/api/v1", tags=["registry"])
_NF = {404: {"description": "not registered"}, 409: {"description": "already registered or retired"}}


@router.post("/areas", response_model=AreaPublic, status_code=201, responses=_NF)
def create_area(hub: HubDep, who: Admin, body: AreaCreate) -> AreaPublic:
    return hub.people.create_area(body)


@router.get("/areas", response_model=list[AreaPublic])
def list_areas(hub: HubDep, who: CurrentUser) -> list[AreaPublic]:
    return hub.people.list_areas()


@router.get("/areas.geojson")
def areas_geojson(hub: HubDep, who: CurrentUser) -> dict[str, Any]:
    """The grid hierarchy as a GeoJSON FeatureCollection (areas with a polygon), for the console's map."""
    features = [
        {
            "type": "Feature",
            "id": a.id,
            "geometry": a.geojson,
            "properties": {"code": a.code, "name": a.name, "level": a.level.value, "parent_id": a.parent_id},
        }
        for a in hub.people.list_areas()
        if a.geojson
    ]
    return {"type": "FeatureCollection", "features": features}


@router.post("/users", response_model=UserPublic, status_code=201, responses=_NF)
def create_user(hub: HubDep, who: Admin, body: UserCreate) -> UserPublic:
    return hub.people.create_user(body)


@router.patch("/users/{user_id}", response_model=UserPublic, responses=_NF)
def update_user(hub: HubDep, who: Admin, user_id: IdPath, body: UserUpdate) -> UserPublic:
    """Enable or disable an account, rename it, or set its password; disabling or a new password ends every
    session of the account at once."""
    return hub.people.update_user(user_id, body)


@router.get("/users", response_model=list[UserPublic])
def list_users(hub: HubDep, who: Staff, role: Role | None = None) -> list[UserPublic]:
    return hub.people.list_users(role)


@router.post("/users/{user_id}/shifts", response_model=ShiftPublic, status_code=201, responses=_NF)
def add_shift(hub: HubDep, who: Staff, user_id: IdPath, body: ShiftCreate) -> ShiftPublic:
    return hub.people.add_shift(user_id, body)


@router.post("/gateways", response_model=GatewayCredentials, status_code=201, responses=_NF)
def create_gateway(hub: HubDep, who: Installer, body: GatewayCreate) -> GatewayCredentials:
    """Register a gateway; the answer carries its MQTT and HTTP password, shown this once only."""
    return hub.registry.create_gateway(body)


@router.get("/gateways", response_model=list[GatewayPublic])
def list_gateways(hub: HubDep, who: Installer) -> list[GatewayPublic]:
    return hub.registry.list_gateways()


@router.get("/gateways/{gateway_id}", response_model=GatewayPublic, responses=_NF)
def get_gateway(hub: HubDep, who: Installer, gateway_id: str) -> GatewayPublic:
    return hub.registry.get_gateway(gateway_id)


@router.patch("/gateways/{gateway_id}", response_model=GatewayPublic, responses=_NF)
def update_gateway(hub: HubDep, who: Installer, gateway_id: str, body: GatewayUpdate) -> GatewayPublic:
    return hub.registry.update_gateway(gateway_id, body)


@router.delete("/gateways/{gateway_id}", response_model=GatewayPublic, responses=_NF)
def retire_gateway(hub: HubDep, who: Installer, gateway_id: str) -> GatewayPublic:
    """Retire: its credentials stop working and its events are refused; history is kept."""
    return hub.registry.retire_gateway(gateway_id)


@router.get("/gateways/{gateway_id}/config", responses=_NF)
def gateway_config(hub: HubDep, who: CurrentUser, gateway_id: str) -> dict[str, Any]:
    """The configuration the gateway runs (also retained on MQTT); a gateway may read only its own. Stream
    credentials reach the gateway sealed for it alone; everyone else sees them redacted (``***``)."""
    if who.role is Role.GATEWAY and who.username != gateway_id:
        raise Forbidden(f"gateway {who.username!r} may read only its own configuration")
    if who.role not in (Role.GATEWAY, Role.ADMIN, Role.INSTALLER, Role.OPERATOR):
        raise Forbidden(f"role '{who.role.value}' may not read gateway configurations")
    config: GatewayConfig = hub.registry.gateway_config(gateway_id, for_person=who.role is not Role.GATEWAY)
    return config.model_dump(mode="json", by_alias=True)


@router.post("/cameras", response_model=CameraPublic, status_code=201, responses=_NF)
def create_camera(hub: HubDep, who: Installer, body: CameraCreate) -> CameraPublic:
    return hub.registry.create_camera(body)


@router.get("/cameras", response_model=list[CameraPublic])
def list_cameras(hub: HubDep, who: Installer, gateway_id: str | None = None) -> list[CameraPublic]:
    return hub.registry.list_cameras(gateway_id)


@router.patch("/cameras/{camera_id}", response_model=CameraPublic, responses=_NF)
def update_camera(hub: HubDep, who: Installer, camera_id: str, body: CameraUpdate) -> CameraPublic:
    return hub.registry.update_camera(camera_id, body)


@router.delete("/cameras/{camera_id}", status_code=204, responses=_NF)
def retire_camera(hub: HubDep, who: Installer, camera_id: str) -> None:
    hub.registry.retire_device(Camera, camera_id)


@router.post("/sensors", response_model=SensorPublic, status_code=201, responses=_NF)
def create_sensor(hub: HubDep, who: Installer, body: SensorCreate) -> SensorPublic:
    return hub.registry.create_sensor(body)


@router.get("/sensors", response_model=list[SensorPublic])
def list_sensors(hub: HubDep, who: Installer, gateway_id: str | None = None) -> list[SensorPublic]:
    return hub.registry.list_sensors(gateway_id)


@router.patch("/sensors/{device_id}", response_model=SensorPublic, responses=_NF)
def update_sensor(hub: HubDep, who: Installer, device_id: str, body: SensorUpdate) -> SensorPublic:
    return hub.registry.update_sensor(device_id, body)


@router.delete("/sensors/{device_id}", status_code=204, responses=_NF)
def retire_sensor(hub: HubDep, who: Installer, device_id: str) -> None:
    hub.registry.retire_device(Sensor, device_id)
