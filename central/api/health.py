"""GET /health: is the database reachable, is the MQTT consumer connected and writing (no sign-in needed)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from central.api.deps import HubDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    db: str
    mqtt: str


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(hub: HubDep) -> JSONResponse:
    db_ok = hub.db.ping()
    mqtt = hub.mqtt_state
    ok = db_ok and mqtt != "stalled"  # a stalled ingest takes in no alerts: not healthy, whatever else is
    body = Health(status="ok" if ok else "degraded", db="ok" if db_ok else "unreachable", mqtt=mqtt)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
