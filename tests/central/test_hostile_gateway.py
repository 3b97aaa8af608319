"""A hostile gateway against a real Mosquitto and a real hub ingest: poison messages are acknowledged, counted
by reason, dead-lettered and never replayed, and good alerts published after them are still stored.

Before the fix, an out-of-range timestamp raised OverflowError in the MQTT handler (never acknowledged, so
4000 of them filled the broker's in-flight window and intake stopped for every gateway), and one alert the
database refused failed its whole batch forever.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from sqlalchemy import text

from central.settings import IngestSettings
from kernel.contracts import topics
from kernel.contracts.messages import AlertType, Availability, CameraStatus, encode, utc_now
from kernel.mqtt import MqttClient
from kernel.settings import MqttSettings
from tests.central.hubkit import event, populate
from tests.conftest import wait_until

pytestmark = pytest.mark.integration

OUT_OF_RANGE_TS = "9999-12-31T23:59:59.999-14:00"
BROKER_INFLIGHT = 4000  # max_inflight_messages of broker/conf/mosquitto-dev.conf.tmpl
REFUSED_TITLE = "refused by the database"


def _wait(predicate, timeout_s: float, what: str):
    """The first true value of ``predicate`` (polled by wait_until); fail naming ``what`` after timeout_s."""
    seen = []
    assert wait_until(lambda: seen.append(predicate()) or seen[-1], timeout_s), f"timed out waiting for {what}"
    return seen[-1]


def _with(ev, **changes) -> bytes:
    """``ev`` on the wire with some fields replaced by values no honest gateway sends."""
    body = json.loads(encode(ev))
    body.update(changes)
    return json.dumps(body).encode()


def _alerts(api) -> list[dict]:
    return api.client.get("/api/v1/alerts", headers=api.as_("op"), params={"limit": 1000}).json()


def _dead_letters(api) -> list[dict]:
    letters: list[dict] = []
    while True:
        after = letters[-1]["id"] if letters else 0
        page = api.client.get(
            "/api/v1/dead-letters", headers=api.as_("admin"), params={"after_id": after, "limit": 1000}
        )
        assert page.status_code == 200, page.text
        if not page.json():
            return letters
        letters += page.json()


def _metric(api, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in api.client.get("/metrics", headers=api.as_("op")).text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.fixture
def broker_settings(mosquitto_broker) -> MqttSettings:
    return MqttSettings(host=mosquitto_broker.host, port=mosquitto_broker.port)


@pytest.fixture
def gateway(broker_settings):
    client = MqttClient(broker_settings)
    client.connect()
    yield client
    client.close()


@pytest.fixture
def start_hub(make_api, clock, broker_settings, gateway):
    """``start(**ingest)`` -> a hub consuming from the broker (same database and client id every time)."""
    started = []

    def start(populated: bool = False, **ingest):
        api = make_api(mqtt=broker_settings, mqtt_enabled=True, ingest=IngestSettings(**ingest))
        if not populated:
            populate(api, clock)
        api.hub.start()
        assert api.hub.mqtt.client.wait_connected(10)
        if not populated:
            _wait_until_subscribed(api, gateway)
        started.append(api)
        return api

    yield start
    for api in started:
        api.hub.stop()


def _wait_until_subscribed(api, gateway) -> None:
    """A fresh MQTT session has no subscriptions until the broker acknowledged them, and what is published
    before is not queued for it: publish a camera status (subscribed after the events) until one gets through.
    """
    def camera_online() -> bool:
        cameras = api.client.get("/api/v1/cameras", headers=api.as_("inst"), params={"gateway_id": "gw-1"})
        if cameras.json()[0]["state"] == "online":
            return True
        online = CameraStatus(gateway_id="gw-1", camera_id="cam-1", state=Availability.ONLINE, ts=utc_now())
        assert gateway.publish(topics.camera_status("gw-1", "cam-1"), encode(online), wait_s=5)
        return False

    _wait(camera_online, 20, "the hub's subscriptions")


def _refuse_title_in_database(api, database: str) -> None:
    """A real database refusal for one alert (a trigger), standing in for any row a database will not take."""
    statements = {
        "sqlite": [
            f"CREATE TRIGGER refuse_one BEFORE INSERT ON alerts WHEN NEW.title = '{REFUSED_TITLE}' "
            "BEGIN SELECT RAISE(ABORT, 'this alert is refused'); END"
        ],
        "postgres": [
            "CREATE FUNCTION refuse_one() RETURNS trigger AS $$ BEGIN "
            f"IF NEW.title = '{REFUSED_TITLE}' THEN RAISE EXCEPTION 'this alert is refused'; END IF; "
            "RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_one BEFORE INSERT ON alerts FOR EACH ROW EXECUTE FUNCTION refuse_one()",
        ],
    }[database]
    with api.hub.db.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def test_poison_is_acked_counted_dead_lettered_and_never_replayed(start_hub, gateway, database):
    # One batch (the hub waits 0.5 s to fill it) holding good alerts and every kind of poison.
    api = start_hub(batch_wait_s=0.5)
    _refuse_title_in_database(api, database)
    topic = topics.events("gw-1", "camera")
    good = [event("cam-1"), event("smoke-1", AlertType.SMOKE_ALARM)]
    poison = {
        "invalid_schema": [
            _with(event("cam-1"), observed_ts=OUT_OF_RANGE_TS),
            _with(event("cam-1"), title="nul \u0000 in the title"),
            _with(event("smoke-1", AlertType.SMOKE_ALARM), detail={
                "kind": "sensor", "device_kind": "smoke", "alarm_id": "smoke", "readings": {"ppm\u0000": 1}
            }),
            b"{not json",
        ],
        "processing_error": [_with(event("cam-1"), title=REFUSED_TITLE)],
    }
    wire = [encode(good[0]), *poison["invalid_schema"], *poison["processing_error"], encode(good[1])]
    for payload in wire:
        assert gateway.publish(topic, payload)
    assert gateway.publish(topics.events("gw-2", "camera"), encode(event("cam-1")), wait_s=5)  # not its topic
    _wait(lambda: len(_alerts(api)) >= 2, 20, "the good alerts of the poisoned batch")
    _wait(lambda: len(_dead_letters(api)) >= 6, 20, "six dead letters")
    letters = _dead_letters(api)
    assert sorted(a["event_id"] for a in _alerts(api)) == sorted(e.event_id for e in good)
    reasons = sorted(letter["reason"] for letter in letters)
    assert reasons == sorted(["invalid_schema"] * 4 + ["processing_error", "topic_mismatch"])
    timestamp = next(x for x in letters if OUT_OF_RANGE_TS in x["payload_text"])
    assert "observed_ts" in timestamp["error"] and "out of range" in timestamp["error"]
    assert "2100-01-01T00:00:00.000Z" in timestamp["error"]
    nul = next(x for x in letters if "nul " in x["payload_text"])
    assert "title" in nul["error"] and "NUL" in nul["error"] and nul["gateway_id"] == "gw-1"
    refused = next(x for x in letters if x["reason"] == "processing_error")
    assert "this alert is refused" in refused["error"]
    for reason, count in (("invalid_schema", 4), ("processing_error", 1), ("topic_mismatch", 1)):
        assert _metric(api, "gridwatch_hub_dead_letters_total", reason=reason, transport="mqtt") == count
    assert api.client.get("/health").json()["status"] == "ok"

    # Restart with the same MQTT session: the broker has nothing to redeliver, since everything was acked.
    api.hub.stop()
    again = start_hub(populated=True)
    late = event("cam-1")
    assert gateway.publish(topic, encode(late), wait_s=5)
    _wait(lambda: late.event_id in {a["event_id"] for a in _alerts(again)}, 20, "the alert after the restart")
    assert len(_dead_letters(again)) == 6
    assert _metric(again, "gridwatch_hub_dead_letters_total", reason="invalid_schema", transport="mqtt") == 0


@pytest.mark.parametrize("database", ["sqlite"])
def test_a_flood_of_out_of_range_timestamps_does_not_stop_intake(start_hub, gateway):
    """More poison than the broker's in-flight window, then good alerts: they are still taken in."""
    api = start_hub()
    topic = topics.events("gw-1", "camera")
    flood = _with(event("cam-1"), emitted_ts=OUT_OF_RANGE_TS)
    for _ in range(BROKER_INFLIGHT + 100):
        assert gateway.publish(topic, flood)
    good = [event("cam-1"), event("smoke-1", AlertType.SMOKE_ALARM)]
    for ev in good:
        assert gateway.publish(topic, encode(ev), wait_s=30)
    _wait(lambda: len(_alerts(api)) == 2, 60, "the good alerts published after the flood")
    _wait(
        lambda: _metric(api, "gridwatch_hub_dead_letters_total", reason="invalid_schema", transport="mqtt")
        == BROKER_INFLIGHT + 100,
        60,
        "every poison message dead-lettered",
    )
    assert api.client.get("/health").json()["status"] == "ok"


@pytest.mark.parametrize("database", ["sqlite"])
def test_health_reports_a_stalled_ingest(start_hub, gateway, tmp_path):
    """A database the ingest cannot write to (here: another process holds SQLite's write lock) stops intake:
    /health says so, and the alert is stored once the lock goes."""
    api = start_hub(stall_after_s=0.5)
    assert api.client.get("/health").json() == {"status": "ok", "db": "ok", "mqtt": "connected"}
    blocker = sqlite3.connect(tmp_path / "hub" / "hub.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        ev = event("cam-1")
        assert gateway.publish(topics.events("gw-1", "camera"), encode(ev), wait_s=5)
        stalled = _wait(
            lambda: (r := api.client.get("/health")).status_code == 503 and r.json(), 20, "/health to say stalled"
        )
        # (db may read "unreachable" too: on SQLite the health probe itself waits on the same lock)
        assert (stalled["status"], stalled["mqtt"]) == ("degraded", "stalled")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    _wait(lambda: [a for a in _alerts(api) if a["event_id"] == ev.event_id], 60, "the alert after the lock")
    _wait(lambda: api.client.get("/health").status_code == 200, 10, "/health to recover")
    assert _dead_letters(api) == []


def test_an_out_of_range_timestamp_over_http_is_a_422_naming_the_field(api, world):
    """The same poison over HTTP answered 500 (OverflowError) before."""
    body = _with(event("cam-1"), observed_ts=OUT_OF_RANGE_TS)
    answer = api.client.post(
        "/api/v1/events", content=body, headers={**api.as_("admin"), "content-type": "application/json"}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", "observed_ts"]
    assert "out of range" in answer.json()["detail"][0]["msg"]
