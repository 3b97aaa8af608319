"""Read-only views: Open311 GeoReport v2, Prometheus metrics, OpenAPI."""

from __future__ import annotations

import pytest

from kernel.contracts.messages import AlertType
from tests.central.hubkit import event


@pytest.fixture
def database() -> str:
    return "sqlite"


def test_open311_services_and_requests(api, world):
    case_id = api.post_event(event("cam-1", AlertType.INTRUSION)).json()["case_id"]
    op = api.as_("op")
    services = api.client.get("/open311/v2/services.json", headers=op).json()
    assert {"service_code": "smoke_alarm", "group": "public safety"}.items() <= next(
        s for s in services if s["service_code"] == "smoke_alarm"
    ).items()
    requests = api.client.get("/open311/v2/requests.json", headers=op).json()
    assert requests[0]["service_request_id"] == str(case_id)
    assert (requests[0]["status"], requests[0]["lat"], requests[0]["long"]) == ("open", 31.2, 121.5)
    one = api.client.get(f"/open311/v2/requests/{case_id}.json", headers=op).json()
    assert one[0]["service_code"] == "intrusion" and one[0]["requested_datetime"].endswith("Z")
    missing = api.client.get("/open311/v2/requests/999.json", headers=op)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "service request '999' not found: ids are case numbers"
    assert api.client.get("/open311/v2/requests.json", headers=api.as_("inst")).status_code == 403


def test_metrics_need_staff_token_and_count_ingest(api, world):
    api.post_event(event("cam-1"))
    assert api.client.get("/metrics").status_code == 401
    text = api.client.get("/metrics", headers=api.as_("op")).text
    assert 'gridwatch_hub_events_ingested_total{outcome="created",transport="http"} 1.0' in text


def test_openapi_lists_every_resource(api):
    paths = api.client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/events",
        "/api/v1/cases/{case_id}/{action}",
        "/api/v1/stream",
        "/api/v1/gateways",
        "/api/v1/cameras",
        "/api/v1/sensors",
        "/api/v1/kpis",
        "/open311/v2/requests.json",
        "/health",
    ):
        assert path in paths
