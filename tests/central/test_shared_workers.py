"""`gridwatch hub --ingest-only` workers: two hubs in one MQTT shared-subscription group split the alerts,
and every alert is stored exactly once."""

from __future__ import annotations

import time

import pytest

from kernel.contracts import topics
from kernel.contracts.messages import encode
from kernel.mqtt import MqttClient
from kernel.settings import MqttSettings
from tests.central.hubkit import event, populate
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
TOTAL = 300


def test_two_ingest_workers_share_the_load(make_api, clock, mosquitto_broker):
    mqtt = MqttSettings(host=mosquitto_broker.host, port=mosquitto_broker.port)
    workers = [
        make_api(mqtt=mqtt, mqtt_enabled=True, ingest={"shared_group": "hub", "client_id": f"hub-ingest-{n}"})
        for n in (1, 2)
    ]
    populate(workers[0], clock)
    for worker in workers:
        worker.hub.start()
        assert worker.hub.mqtt.client.wait_connected(10)
    publisher = MqttClient(mqtt)
    publisher.connect()
    try:
        for i in range(TOTAL):
            ev = event("cam-1" if i % 2 else "smoke-1")
            assert publisher.publish(topics.events("gw-1", "camera"), encode(ev), wait_s=5 if i % 50 == 49 else None)

        def stored() -> int:
            return len(
                workers[0].client.get("/api/v1/alerts", headers=workers[0].as_("op"), params={"limit": 1000}).json()
            )

        wait_until(stored, 30, until=lambda n: n >= TOTAL)
        time.sleep(0.3)  # lets time pass on purpose: anything stored twice would land now
        assert stored() == TOTAL
        shares = [w.hub.metrics.batch_size.collect()[0].samples for w in workers]
        counts = [next(s.value for s in samples if s.name.endswith("_sum")) for samples in shares]
        assert all(c > 0 for c in counts), counts  # both workers took part
        cases = workers[0].client.get("/api/v1/cases", headers=workers[0].as_("op")).json()
        assert sorted(c["occurrences"] for c in cases) == [TOTAL // 2, TOTAL // 2]
    finally:
        publisher.close()
        for worker in workers:
            worker.hub.stop()
