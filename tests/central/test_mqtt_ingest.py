"""Ingest through a real Mosquitto: events, duplicates, junk and gateway status, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from kernel.contracts import topics
from kernel.contracts.messages import AlertType, Availability, GatewayStatus, encode, utc_now
from kernel.mqtt import MqttClient
from kernel.settings import MqttSettings
from tests.central.hubkit import event, populate
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def mqtt_hub(make_api, clock, mosquitto_broker):
    mqtt = MqttSettings(host=mosquitto_broker.host, port=mosquitto_broker.port)
    api = make_api(mqtt=mqtt, mqtt_enabled=True)
    populate(api, clock)
    api.hub.start()
    assert api.hub.mqtt.client.wait_connected(10)
    publisher = MqttClient(mqtt)
    publisher.connect()
    yield api, publisher
    publisher.close()
    api.hub.stop()


def _handled(api) -> float:
    """MQTT messages the hub has dealt with: stored (any outcome, duplicates included) or refused."""
    counters = (api.hub.metrics.ingested, api.hub.metrics.rejected)
    return sum(s.value for c in counters for s in c.collect()[0].samples
               if s.name.endswith("_total") and s.labels["transport"] == "mqtt")


def _alerts(api):
    return api.client.get("/api/v1/alerts", headers=api.as_("op"), params={"limit": 1000}).json()


def test_events_duplicates_and_junk_through_the_broker(mqtt_hub):
    api, publisher = mqtt_hub
    events = [event("cam-1"), event("smoke-1", AlertType.SMOKE_ALARM), event("cam-1")]
    topic = topics.events("gw-1", "camera")
    for ev in events:
        assert publisher.publish(topic, encode(ev), wait_s=5)
    assert publisher.publish(topic, encode(events[0]), wait_s=5)  # duplicate delivery
    assert publisher.publish(topic, b"{junk", wait_s=5)  # schema-invalid
    assert publisher.publish(topics.events("gw-2", "camera"), encode(events[1]), wait_s=5)  # topic mismatch
    wait_until(lambda: _handled(api), until=lambda n: n >= 6, what="the hub to store or refuse all six messages")
    alerts = _alerts(api)
    assert sorted(a["event_id"] for a in alerts) == sorted(e.event_id for e in events)
    cases = api.client.get("/api/v1/cases", headers=api.as_("op")).json()
    assert sorted((c["source_id"], c["occurrences"]) for c in cases) == [("cam-1", 2), ("smoke-1", 1)]
    metrics = api.client.get("/metrics", headers=api.as_("op")).text
    assert 'reason="invalid_schema",transport="mqtt"} 1.0' in metrics
    assert 'reason="topic_mismatch",transport="mqtt"} 1.0' in metrics
    assert 'outcome="duplicate",transport="mqtt"} 1.0' in metrics


def test_gateway_last_will_opens_a_gateway_case(mqtt_hub):
    api, publisher = mqtt_hub
    offline = GatewayStatus(gateway_id="gw-1", state=Availability.OFFLINE, ts=utc_now(), reason="last will")
    assert publisher.publish(topics.gateway_status("gw-1"), encode(offline), retain=True, wait_s=5)
    case = wait_until(
        lambda: [
            c
            for c in api.client.get("/api/v1/cases", headers=api.as_("op")).json()
            if c["alert_type"] == "gateway_offline"
        ]
    )[0]
    assert case["source_id"] == "gw-1" and "last will" in case["title"]
    # While it is offline, a camera offline alert folds into the gateway's case.
    answer = api.post_event(event("cam-1", AlertType.CAMERA_OFFLINE))
    assert answer.json()["outcome"] == "folded" and answer.json()["case_id"] == case["case_id"]
    online = GatewayStatus(gateway_id="gw-1", state=Availability.ONLINE, ts=utc_now())
    assert publisher.publish(topics.gateway_status("gw-1"), encode(online), retain=True, wait_s=5)
    wait_until(lambda: api.client.get(f"/api/v1/cases/{case['case_id']}", headers=api.as_("op")).json()["cleared"])
    gateway = api.client.get("/api/v1/gateways/gw-1", headers=api.as_("inst")).json()
    assert gateway["state"] == "online"
