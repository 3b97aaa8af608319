"""GET /health: is the database reachable and is the MQTT consumer connected (no sign-in needed)."""

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
    body = Health(
        status="ok" if db_ok else "degraded", db="ok" if db_ok else "unreachable", mqtt=hub.mqtt_state
    )
    return JSONResponse(body.model_dump(), status_code=200 if db_ok else 503)
