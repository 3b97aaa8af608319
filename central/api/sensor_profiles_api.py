"""GET /api/v1/sensor-profiles: the (kind, vendor) pairs the edge reads, for the installer's sensor form."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from central.api.deps import Installer
from central.sensor_kinds import profile_pairs

router = APIRouter(prefix="/api/v1", tags=["registry"])


class SensorProfile(BaseModel):
    kind: str
    vendor: str


@router.get("/sensor-profiles", response_model=list[SensorProfile])
def sensor_profiles(who: Installer) -> list[SensorProfile]:
    """Valid ``kind``/``vendor`` pairs of POST /api/v1/sensors (other kinds are hub-only, without vendor)."""
    return [SensorProfile(kind=k, vendor=v) for k, v in profile_pairs()]
