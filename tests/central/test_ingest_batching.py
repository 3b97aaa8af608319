"""Ingest batch size through a real Mosquitto: ingest.batch_max caps the events per transaction, and every
event is stored once whatever the batch size."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from central.settings import IngestSettings
from kernel.contracts import topics
from kernel.contracts.messages import encode
from kernel.mqtt import MqttClient
from kernel.settings import MqttSettings
from tests.central.hubkit import event, populate
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


def _batches(api) -> list[float]:
    """Transactions written and events in them, from the hub's batch-size histogram: [count, sum]."""
    samples = {s.name: s.value for m in api.hub.metrics.batch_size.collect() for s in m.samples}
    return [samples["gridwatch_hub_ingest_batch_size_count"], samples["gridwatch_hub_ingest_batch_size_sum"]]


@pytest.mark.parametrize(
    ("batch_max", "events", "fewest_batches"),
    [(1, 6, 6), (4, 12, 3), (2000, 12, 1)],
)
def test_batch_max_caps_events_per_transaction(make_api, clock, mosquitto_broker, batch_max, events, fewest_batches):
    mqtt = MqttSettings(host=mosquitto_broker.host, port=mosquitto_broker.port)
    api = make_api(mqtt=mqtt, mqtt_enabled=True, ingest=IngestSettings(batch_max=batch_max, batch_wait_s=0.05))
    populate(api, clock)
    before = _batches(api)  # populate may have ingested over HTTP
    api.hub.start()
    assert api.hub.mqtt.client.wait_connected(10)
    publisher = MqttClient(mqtt)
    publisher.connect()
    try:
        sent = [event("cam-1") for _ in range(events)]
        for e in sent:
            assert publisher.publish(topics.events("gw-1", "camera"), encode(e), wait_s=5)
        wait_until(lambda: _batches(api), 15, until=lambda now: now[1] - before[1] >= events)
        count, total = (now - then for now, then in zip(_batches(api), before, strict=True))
    finally:
        publisher.close()
        api.hub.stop()
    assert total == events
    assert fewest_batches <= count <= events
    assert total / count <= batch_max
    alerts = api.client.get("/api/v1/alerts", headers=api.as_("op"), params={"limit": 1000}).json()
    stored = [a["event_id"] for a in (alerts["items"] if isinstance(alerts, dict) else alerts)]
    assert sorted(e.event_id for e in sent) == sorted(set(stored) & {e.event_id for e in sent})


@pytest.mark.parametrize("batch_max", [0, 10_001])
def test_batch_max_out_of_bounds_is_refused(batch_max):
    with pytest.raises(ValidationError, match="batch_max"):
        IngestSettings(batch_max=batch_max)
