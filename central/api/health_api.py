"""Camera health for operators and installers: gateway availability, each camera's latest edge figures
and latest snapshot."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import FileResponse

from central.api.deps import HubDep, Installer
from central.camera_health import health_report, latest_snapshot
from central.schemas import HealthReport

router = APIRouter(prefix="/api/v1", tags=["health"])


@router.get("/health/cameras", response_model=HealthReport)
def camera_health(hub: HubDep, who: Installer) -> HealthReport:
    """Per gateway its state and last seen; per camera its state, capture and detect fps, frames skipped
    by motion and by budget, inference ms p50/p95 and frame age p95 (operators, installers, admins)."""
    return health_report(hub.db, hub.clock.now())


@router.get(
    "/cameras/{camera_id}/snapshot",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}, 404: {"description": "unknown camera or no snapshot yet"}},
)
def camera_snapshot(
    hub: HubDep, who: Installer,
    camera_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")],
) -> FileResponse:
    """The newest snapshot the camera sent with an alert, for drawing zones on (operators, installers)."""
    relpath, content_type = latest_snapshot(hub.db, camera_id)
    return FileResponse(hub.evidence.path_of(relpath), media_type=content_type)
