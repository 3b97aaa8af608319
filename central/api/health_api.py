"""GET /api/v1/health/cameras: gateway availability and each camera's latest edge pipeline figures."""

from __future__ import annotations

from fastapi import APIRouter

from central.api.deps import HubDep, Installer
from central.camera_health import health_report
from central.schemas import HealthReport

router = APIRouter(prefix="/api/v1", tags=["health"])


@router.get("/health/cameras", response_model=HealthReport)
def camera_health(hub: HubDep, who: Installer) -> HealthReport:
    """Per gateway its state and last seen; per camera its state, capture and detect fps, frames skipped
    by motion and by budget, inference ms p50/p95 and frame age p95 (operators, installers, admins)."""
    return health_report(hub.db, hub.clock.now())
